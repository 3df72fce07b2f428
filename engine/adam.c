/* adam: see adam.h. Compiled with -O3 (CMakeLists.txt) so the loops
 * vectorize, once each for AVX-512, AVX2 and the baseline (kernel_path.h). */
#include "adam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "exact_pow.h"
#include "kernel_path.h"

/* Adam runs in chunks of this many parameters: each chunk's passes find its
 * arrays and the scratch in the first-level cache, so the parameters,
 * gradients and moments come from memory once a step. */
enum { ADAM_CHUNK = 512 };

void adam_buffers_init(adam_buffers *buffers, size_t count)
{
    size_t scratch = count < ADAM_CHUNK ? count : ADAM_CHUNK;
    buffers->m = calloc_checked(count, sizeof *buffers->m);
    buffers->v = calloc_checked(count, sizeof *buffers->v);
    buffers->square = calloc_checked(scratch, sizeof *buffers->square);
    buffers->need_pow = calloc_checked(scratch, sizeof *buffers->need_pow);
    buffers->count = count;
    buffers->steps = buffers->slow_squares = buffers->slow_roots = 0;
}

void adam_buffers_free(adam_buffers *buffers)
{
    free(buffers->m);
    free(buffers->v);
    free(buffers->square);
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

/* The elements whose g ** 2 or v_hat ** 0.5 was not proven (exact_pow.h)
 * are few; pow's result for each is one of two candidates
 * (square_candidates). The reference uses g ** 2 only in
 * v = beta2 * v + (1 - beta2) * g ** 2, and the root only in the update of
 * the parameter: where both candidates give the same bits there, that is
 * the reference's result whichever pow returns, and pow is not called. The
 * candidates differ by one ULP and the sums they enter are larger, so most
 * agree. Each fix returns how many pow calls it made. */
static inline size_t adam_fix_squares(double *restrict square, const double *restrict grad,
                                      const double *restrict v, const adam_constants *c,
                                      const uint64_t *restrict need_pow, size_t count)
{
    size_t slow = 0;
    for (size_t i = 0; i < count; i += 8)
        if (i + 8 > count || any_of_eight(need_pow + i))
            for (size_t j = i; j < i + 8 && j < count; j++) {
                if (!need_pow[j])
                    continue;
                double other;
                if (square_candidates(grad[j], square[j], &other) &&
                    exact_pow_bits(c->beta2 * v[j] + c->keep2 * square[j]) ==
                        exact_pow_bits(c->beta2 * v[j] + c->keep2 * other))
                    continue; /* square[j] gives the same v */
                square[j] = pow(grad[j], 2.0), slow++;
            }
    return slow;
}

/* The parameters whose v_hat ** 0.5 was not proven: their data was left as
 * it was; update it with the root both candidates agree on, or pow's. */
static inline double adam_updated(double data, double m, double root, const adam_constants *c)
{
    return data - c->lr_t * (m / c->bias1) / (root + c->eps);
}

static inline size_t adam_fix_roots(double *restrict data, const double *restrict m, const double *restrict v,
                                    const adam_constants *c, const uint64_t *restrict need_pow, size_t count)
{
    size_t slow = 0;
    for (size_t i = 0; i < count; i += 8)
        if (i + 8 > count || any_of_eight(need_pow + i))
            for (size_t j = i; j < i + 8 && j < count; j++) {
                if (!need_pow[j])
                    continue;
                double v_hat = v[j] / c->bias2, root = sqrt(v_hat), other;
                if (square_root_candidates(v_hat, root, &other)) {
                    double updated = adam_updated(data[j], m[j], root, c);
                    if (exact_pow_bits(updated) == exact_pow_bits(adam_updated(data[j], m[j], other, c))) {
                        data[j] = updated;
                        continue;
                    }
                }
                data[j] = adam_updated(data[j], m[j], pow(v_hat, 0.5), c), slow++;
            }
    return slow;
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

/* One chunk of `count` parameters: data, grad, m, v point at its first. Two
 * vectorized passes, each followed by a scan over its flags: g ** 2, then
 * everything else (a third pass for the update alone, reading the roots back
 * from scratch, costs more than the select that makes it unnecessary). */
static inline void adam_chunk(adam_buffers *buffers, const adam_constants *c, double *restrict data,
                              double *restrict grad, double *restrict m, double *restrict v, size_t count,
                              int fused)
{
    const double lr_t = c->lr_t, bias1 = c->bias1, bias2 = c->bias2, beta1 = c->beta1, beta2 = c->beta2;
    const double keep1 = c->keep1, keep2 = c->keep2, eps = c->eps;
    double *restrict square = buffers->square;
    uint64_t *restrict need_pow = buffers->need_pow;

    /* g ** 2 */
    for (size_t i = 0; i < count; i++) {
        double g = grad[i], y = g * g;
        square[i] = y;
        need_pow[i] = !square_is_proven(g, y, fused);
    }
    buffers->slow_squares += adam_fix_squares(square, grad, v, c, need_pow, count);

    /* moments, v_hat ** 0.5 and the update, in one pass; where the root is
     * not proven, data keeps its old value (a select, not a branch) and
     * adam_fix_roots updates it with pow's root */
    for (size_t i = 0; i < count; i++) {
        double new_m = beta1 * m[i] + keep1 * grad[i];
        m[i] = new_m;
        grad[i] = 0.0; /* its last use: the reference's p.grad = 0 */
        double new_v = beta2 * v[i] + keep2 * square[i];
        v[i] = new_v;
        double v_hat = new_v / bias2, root = sqrt(v_hat);
        uint64_t slow = (uint64_t)!square_root_is_proven(v_hat, root, fused);
        double m_hat = new_m / bias1, old = data[i];
        data[i] = select_bits((uint64_t)0 - slow, old, old - lr_t * m_hat / (root + eps));
        need_pow[i] = slow;
    }
    buffers->slow_roots += adam_fix_roots(data, m, v, c, need_pow, count);
}

static inline void adam_step_body(adam_buffers *buffers, double *restrict data, double *restrict grad,
                                  int step, int num_steps, int fused)
{
    const double learning_rate = 0.01, beta1 = 0.85, beta2 = 0.99;
    const adam_constants constants = {
        .lr_t = learning_rate * (1.0 - (double)step / (double)num_steps),
        .bias1 = 1.0 - pow(beta1, (double)(step + 1)),
        .bias2 = 1.0 - pow(beta2, (double)(step + 1)),
        .beta1 = beta1, .beta2 = beta2, .keep1 = 1.0 - beta1, .keep2 = 1.0 - beta2, .eps = 1e-8};
    for (size_t first = 0; first < buffers->count; first += ADAM_CHUNK) {
        size_t count = buffers->count - first < ADAM_CHUNK ? buffers->count - first : ADAM_CHUNK;
        adam_chunk(buffers, &constants, data + first, grad + first, buffers->m + first, buffers->v + first, count, fused);
    }
    buffers->steps++;
}

/* Adam's loops, vectorized by the compiler, gain from AVX-512's width. */
KERNEL_PATH_AVX512 static void adam_step_avx512(adam_buffers *buffers, double *restrict data, double *restrict grad,
                                                int step, int num_steps)
{
    adam_step_body(buffers, data, grad, step, num_steps, 1);
}

KERNEL_PATH_AVX2 static void adam_step_avx2(adam_buffers *buffers, double *restrict data,
                                            double *restrict grad, int step, int num_steps)
{
    adam_step_body(buffers, data, grad, step, num_steps, 1);
}

KERNEL_PATH_GENERIC static void adam_step_generic(adam_buffers *buffers, double *restrict data,
                                                  double *restrict grad, int step, int num_steps)
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
