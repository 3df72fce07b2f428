/* adam.c: the vectorized Adam of adam.h, compiled with -O3 (CMakeLists.txt) so
 * its loops vectorize, once for AVX-512, AVX2 and the baseline (kernel_path.h).
 * Why its powers need few calls to pow: docs/exact-arithmetic.md. */
#include "adam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "kernels/exact_pow.h"
#include "kernels/kernel_path.h"

/* Adam runs in chunks of this many parameters: the scan for unsettled
 * elements after a chunk's pass finds its arrays and flags in the
 * first-level cache. */
enum { ADAM_CHUNK = 512 };

void adam_buffers_init(adam_buffers *buffers, size_t count)
{
    size_t scratch = count < ADAM_CHUNK ? count : ADAM_CHUNK;
    buffers->m = calloc_checked(count, sizeof *buffers->m);
    buffers->v = calloc_checked(count, sizeof *buffers->v);
    buffers->need_pow = calloc_checked(scratch, sizeof *buffers->need_pow);
    buffers->count = count;
    buffers->steps = buffers->slow_squares = buffers->slow_roots = 0;
}

void adam_buffers_free(adam_buffers *buffers)
{
    free(buffers->m);
    free(buffers->v);
    free(buffers->need_pow);
}

/* Any flag set among need_pow[first, first + 8)? The or of eight flags
 * vectorizes; most groups have none, so the scan below branches per group. */
static inline uint64_t any_of_eight(const uint64_t *need_pow)
{
    uint64_t any = 0;
    for (int k = 0; k < 8; k++)
        any |= need_pow[k];
    return any;
}

/* The step's constants: loop-invariant, the same doubles the reference
 * computes per parameter. */
typedef struct adam_constants {
    double lr_t, bias1, bias2, beta1, beta2, keep1, keep2, eps;
} adam_constants;

/* Flags of need_pow: which power of an element needs pow itself. */
enum { SLOW_ROOT = 1, SLOW_SQUARE = 2 };

/* The reference's v = beta2 * v + (1 - beta2) * g ** 2 and
 * p -= lr_t * m_hat / (v_hat ** 0.5 + eps), in its order: written once for
 * the vector pass and for the elements fixed after it. */
static inline double adam_second_moment(double v, double square, const adam_constants *c)
{
    return c->beta2 * v + c->keep2 * square;
}

static inline double adam_updated(double data, double m, double root, const adam_constants *c)
{
    return data - c->lr_t * (m / c->bias1) / (root + c->eps);
}

/* An element the vector pass could not settle: it left data (and, when the
 * square was not settled, v and the gradient) as they were. Its root is
 * settled already if the pass found it so (SLOW_ROOT unset) from the v it
 * kept; after pow's square, v is new and the root is checked again. Counts
 * the pow calls. */
static inline void adam_fix_element(adam_buffers *buffers, const adam_constants *c, double *data, double *grad,
                                    const double *m, double *v, uint64_t flags)
{
    if (flags & SLOW_SQUARE) {
        *v = adam_second_moment(*v, pow(*grad, 2.0), c), buffers->slow_squares++;
        *grad = 0.0;
    }
    double v_hat = *v / c->bias2, root = sqrt(v_hat);
    double updated = adam_updated(*data, *m, root, c);
    int settled =
        (flags & SLOW_SQUARE) &&
        (square_root_is_proven(v_hat, root, 0) ||
         (square_root_in_range(v_hat) &&
          exact_pow_bits(updated) == exact_pow_bits(adam_updated(*data, *m, square_root_other(v_hat, root, 0), c))));
    if (!settled)
        updated = adam_updated(*data, *m, pow(v_hat, 0.5), c), buffers->slow_roots++;
    *data = updated;
}

static inline void adam_fix(adam_buffers *buffers, const adam_constants *c, double *data, double *grad, const double *m,
                            double *v, size_t count)
{
    const uint64_t *need_pow = buffers->need_pow;
    for (size_t i = 0; i < count; i += 8)
        if (i + 8 > count || any_of_eight(need_pow + i))
            for (size_t j = i; j < i + 8 && j < count; j++)
                if (need_pow[j])
                    adam_fix_element(buffers, c, data + j, grad + j, m + j, v + j, need_pow[j]);
}

/* where mask's bits are set, a's bits; elsewhere b's: integer logic, so the
 * loop it is in has no branch and vectorizes. */
static inline double select_bits(uint64_t mask, double a, double b)
{
    uint64_t bits = (exact_pow_bits(a) & mask) | (exact_pow_bits(b) & ~mask);
    double result;
    memcpy(&result, &bits, sizeof result);
    return result;
}

/* One chunk of `count` parameters: data, grad, m, v point at its first.
 *
 * g ** 2 and v_hat ** 0.5 are settled without pow where exact_pow.h proves
 * the fast path, or else where pow's two possible results (the fast path's
 * and its neighbour, square_other) give the same bits where the reference
 * uses them: g ** 2 only in v = beta2 * v + (1 - beta2) * g ** 2, the root
 * only in the parameter's update. Then that is the reference's result
 * whichever pow returns. The candidates differ by one ULP and the sums they
 * enter are larger, so most agree; both are computed for every element
 * (an extra division for the root), which costs less than a scalar pass
 * over the unproven ones. Where a power is not settled, v and the gradient
 * or data keep their values (a select, not a branch) and adam_fix, after
 * the pass, calls pow: a few elements a step. */
static inline void adam_chunk(adam_buffers *buffers, const adam_constants *c, double *restrict data,
                              double *restrict grad, double *restrict m, double *restrict v, size_t count, int fused)
{
    const double bias2 = c->bias2, beta1 = c->beta1, keep1 = c->keep1;
    uint64_t *restrict need_pow = buffers->need_pow;
    for (size_t i = 0; i < count; i++) {
        double g = grad[i], square = g * g;
        double new_m = beta1 * m[i] + keep1 * g;
        m[i] = new_m;
        double old_v = v[i], new_v = adam_second_moment(old_v, square, c);
        double other_v = adam_second_moment(old_v, square_other(g, square, fused), c);
        uint64_t square_settled =
            (uint64_t)(square_is_proven(g, square, fused) |
                       ((g != 0.0) & square_in_range(square) & (exact_pow_bits(new_v) == exact_pow_bits(other_v))));
        const uint64_t slow_square = square_settled ^ 1;
        grad[i] = select_bits((uint64_t)0 - slow_square, g, 0.0); /* 0: the reference's p.grad = 0 */
        v[i] = select_bits((uint64_t)0 - slow_square, old_v, new_v);
        double v_hat = new_v / bias2, root = sqrt(v_hat), other_root = square_root_other(v_hat, root, fused);
        double old = data[i], updated = adam_updated(old, new_m, root, c);
        double other_updated = adam_updated(old, new_m, other_root, c);
        uint64_t root_settled =
            (uint64_t)(square_root_is_proven(v_hat, root, fused) |
                       (square_root_in_range(v_hat) & (exact_pow_bits(updated) == exact_pow_bits(other_updated))));
        const uint64_t slow_root = root_settled ^ 1;
        data[i] = select_bits((uint64_t)0 - (slow_square | slow_root), old, updated);
        need_pow[i] = slow_square * SLOW_SQUARE + slow_root * SLOW_ROOT;
    }
    adam_fix(buffers, c, data, grad, m, v, count);
}

static inline void adam_step_body(adam_buffers *buffers, double *restrict data, double *restrict grad, int step,
                                  int num_steps, int fused)
{
    const double learning_rate = 0.01, beta1 = 0.85, beta2 = 0.99;
    const adam_constants constants = {.lr_t = learning_rate * (1.0 - (double)step / (double)num_steps),
                                      .bias1 = 1.0 - pow(beta1, (double)(step + 1)),
                                      .bias2 = 1.0 - pow(beta2, (double)(step + 1)),
                                      .beta1 = beta1,
                                      .beta2 = beta2,
                                      .keep1 = 1.0 - beta1,
                                      .keep2 = 1.0 - beta2,
                                      .eps = 1e-8};
    for (size_t first = 0; first < buffers->count; first += ADAM_CHUNK) {
        size_t count = buffers->count - first < ADAM_CHUNK ? buffers->count - first : ADAM_CHUNK;
        adam_chunk(buffers, &constants, data + first, grad + first, buffers->m + first, buffers->v + first, count,
                   fused);
    }
    buffers->steps++;
}

/* Adam's loops, vectorized by the compiler, gain from AVX-512's width. */
KERNEL_PATH_AVX512 static void adam_step_avx512(adam_buffers *buffers, double *restrict data, double *restrict grad,
                                                int step, int num_steps)
{
    adam_step_body(buffers, data, grad, step, num_steps, 1);
}

KERNEL_PATH_AVX2 static void adam_step_avx2(adam_buffers *buffers, double *restrict data, double *restrict grad,
                                            int step, int num_steps)
{
    adam_step_body(buffers, data, grad, step, num_steps, 1);
}

KERNEL_PATH_GENERIC static void adam_step_generic(adam_buffers *buffers, double *restrict data, double *restrict grad,
                                                  int step, int num_steps)
{
    adam_step_body(buffers, data, grad, step, num_steps, 0);
}

void adam_step(adam_buffers *buffers, double *restrict data, double *restrict grad, int step, int num_steps)
{
    if (kernel_path_avx512())
        adam_step_avx512(buffers, data, grad, step, num_steps);
    else if (kernel_path_avx2())
        adam_step_avx2(buffers, data, grad, step, num_steps);
    else
        adam_step_generic(buffers, data, grad, step, num_steps);
}
