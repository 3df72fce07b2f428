/* adam.c: the vectorized Adam of adam.h, compiled with -O3 (CMakeLists.txt) so
 * its loops vectorize, once for AVX-512, AVX2 and the baseline (kernel_path.h).
 * Why its powers need few calls to pow: docs/exact-arithmetic.md. */
#include "adam.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

#include "checked.h"
#include "kernels/exact_pow.h"
#include "kernels/exact_quotient.h"
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
    buffers->unsettled = calloc_checked(scratch, sizeof *buffers->unsettled);
    buffers->count = count;
    buffers->steps = buffers->slow_squares = buffers->slow_roots = buffers->fixed = 0;
}

void adam_buffers_free(adam_buffers *buffers)
{
    free(buffers->m);
    free(buffers->v);
    free(buffers->unsettled);
}

/* Any flag set among unsettled[first, first + FIX_SCAN)? The or of the
 * flags vectorizes; most groups have none, so the scan below branches per
 * group. */
enum { FIX_SCAN = 32 };

static inline uint64_t any_unsettled(const uint64_t *unsettled)
{
    uint64_t any = 0;
    for (int k = 0; k < FIX_SCAN; k++)
        any |= unsettled[k];
    return any;
}

/* The step's constants: loop-invariant, the same doubles the reference
 * computes per parameter; with the reciprocals of the bias corrections, for
 * the quotients by them (exact_quotient.h). */
typedef struct adam_constants {
    double lr_t, bias1, bias2, beta1, beta2, keep1, keep2, eps;
    double reciprocal1, reciprocal2, half_bias1, half_bias2;
} adam_constants;

/* The reference's m, v and parameter updates, in its order, written once
 * for the vector pass and for the elements fixed after it:
 * m = beta1 * m + (1 - beta1) * g, v = beta2 * v + (1 - beta2) * g ** 2,
 * p -= lr_t * m_hat / (v_hat ** 0.5 + eps). */
static inline double adam_first_moment(double m, double g, const adam_constants *c)
{
    return c->beta1 * m + c->keep1 * g;
}

static inline double adam_second_moment(double v, double square, const adam_constants *c)
{
    return c->beta2 * v + c->keep2 * square;
}

static inline double adam_updated(double data, double m_hat, double root, const adam_constants *c)
{
    return data - c->lr_t * m_hat / (root + c->eps);
}

/* An element the vector pass could not settle, from its old values: the
 * reference's update with true divisions, each power settled by its proof,
 * else by its two candidates, else by pow (counted). */
static inline void adam_fix_element(adam_buffers *buffers, const adam_constants *c, double *data, double *grad,
                                    double *m, double *v)
{
    const double g = *grad, square = g * g;
    *m = adam_first_moment(*m, g, c);
    double new_v = adam_second_moment(*v, square, c);
    if (!square_is_proven(g, square, 0) &&
        !(g != 0.0 && square_in_range(square) &&
          exact_pow_bits(new_v) == exact_pow_bits(adam_second_moment(*v, square_other(g, square, 0), c))))
        new_v = adam_second_moment(*v, pow(g, 2.0), c), buffers->slow_squares++;
    *v = new_v;
    *grad = 0.0;
    double m_hat = *m / c->bias1, v_hat = new_v / c->bias2, root = sqrt(v_hat);
    double updated = adam_updated(*data, m_hat, root, c);
    if (!square_root_is_proven(v_hat, root, 0) &&
        !(square_root_in_range(v_hat) &&
          exact_pow_bits(updated) == exact_pow_bits(adam_updated(*data, m_hat, square_root_other(v_hat, root, 0), c))))
        updated = adam_updated(*data, m_hat, pow(v_hat, 0.5), c), buffers->slow_roots++;
    *data = updated;
}

static inline void adam_fix(adam_buffers *buffers, const adam_constants *c, double *data, double *grad, double *m,
                            double *v, size_t count)
{
    const uint64_t *unsettled = buffers->unsettled;
    for (size_t i = 0; i < count; i += FIX_SCAN)
        if (i + FIX_SCAN > count || any_unsettled(unsettled + i))
            for (size_t j = i; j < i + FIX_SCAN && j < count; j++)
                if (unsettled[j])
                    adam_fix_element(buffers, c, data + j, grad + j, m + j, v + j), buffers->fixed++;
}

/* a / bias, the bias correction being one of the step's constants: with
 * `by_reciprocal`, by its reciprocal where exact_quotient.h proves the bits
 * (else *settled is cleared, and the fix divides); otherwise a division.
 * Only the AVX-512 copy multiplies: there the pass is bound by the divider
 * (four divisions and a root per parameter before), while with AVX2 the
 * divisions cost no more time than the proofs and fewer instructions. */
static inline double adam_bias_corrected(double a, double bias, double reciprocal, double half_bias, int by_reciprocal,
                                         uint64_t *settled)
{
    if (!by_reciprocal)
        return a / bias;
    double q = quotient_candidate(a, bias, reciprocal);
    *settled &= (uint64_t)quotient_is_proven(a, bias, half_bias, q);
    return q;
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
 * over the unproven ones. The divisions by the bias corrections are
 * multiplications where proven (adam_bias_corrected). An element with a
 * power or a quotient not settled keeps all its old values (a select, not
 * a branch) and adam_fix, after the pass, redoes it: a few elements a
 * step. */
static inline void adam_chunk(adam_buffers *buffers, const adam_constants *c, double *restrict data,
                              double *restrict grad, double *restrict m, double *restrict v, size_t count, int fused,
                              int by_reciprocal)
{
    uint64_t *restrict unsettled = buffers->unsettled;
    uint64_t any = 0;
    for (size_t i = 0; i < count; i++) {
        const double g = grad[i], old_m = m[i], old_v = v[i], old = data[i];
        const double square = g * g, new_m = adam_first_moment(old_m, g, c);
        const double new_v = adam_second_moment(old_v, square, c);
        const double other_v = adam_second_moment(old_v, square_other(g, square, fused), c);
        uint64_t settled =
            (uint64_t)(square_is_proven(g, square, fused) |
                       ((g != 0.0) & square_in_range(square) & (exact_pow_bits(new_v) == exact_pow_bits(other_v))));
        const double m_hat =
            adam_bias_corrected(new_m, c->bias1, c->reciprocal1, c->half_bias1, by_reciprocal, &settled);
        const double v_hat =
            adam_bias_corrected(new_v, c->bias2, c->reciprocal2, c->half_bias2, by_reciprocal, &settled);
        const double root = sqrt(v_hat), other_root = square_root_other(v_hat, root, fused);
        const double updated = adam_updated(old, m_hat, root, c);
        const double other_updated = adam_updated(old, m_hat, other_root, c);
        settled &=
            (uint64_t)(square_root_is_proven(v_hat, root, fused) |
                       (square_root_in_range(v_hat) & (exact_pow_bits(updated) == exact_pow_bits(other_updated))));
        m[i] = settled ? new_m : old_m;
        v[i] = settled ? new_v : old_v;
        grad[i] = settled ? 0.0 : g; /* 0: the reference's p.grad = 0 */
        data[i] = settled ? updated : old;
        unsettled[i] = settled ^ 1;
        any |= settled ^ 1;
    }
    if (any) /* most chunks have no element to fix */
        adam_fix(buffers, c, data, grad, m, v, count);
}

static inline void adam_step_body(adam_buffers *buffers, double *restrict data, double *restrict grad, int step,
                                  int num_steps, int fused, int by_reciprocal)
{
    const double learning_rate = 0.01, beta1 = 0.85, beta2 = 0.99;
    const double bias1 = 1.0 - pow(beta1, (double)(step + 1)), bias2 = 1.0 - pow(beta2, (double)(step + 1));
    /* 1 - beta ** (step + 1) lies in [1 - beta, 1]: inside exact_quotient.h's range */
    assert(quotient_divisor_in_range(bias1) && quotient_divisor_in_range(bias2));
    const adam_constants constants = {.lr_t = learning_rate * (1.0 - (double)step / (double)num_steps),
                                      .bias1 = bias1,
                                      .bias2 = bias2,
                                      .beta1 = beta1,
                                      .beta2 = beta2,
                                      .keep1 = 1.0 - beta1,
                                      .keep2 = 1.0 - beta2,
                                      .eps = 1e-8,
                                      .reciprocal1 = 1.0 / bias1,
                                      .reciprocal2 = 1.0 / bias2,
                                      .half_bias1 = 0.5 * bias1,
                                      .half_bias2 = 0.5 * bias2};
    for (size_t first = 0; first < buffers->count; first += ADAM_CHUNK) {
        size_t count = buffers->count - first < ADAM_CHUNK ? buffers->count - first : ADAM_CHUNK;
        adam_chunk(buffers, &constants, data + first, grad + first, buffers->m + first, buffers->v + first, count,
                   fused, by_reciprocal);
    }
    buffers->steps++;
}

/* Adam's loops, vectorized by the compiler, gain from AVX-512's width;
 * only this copy takes the bias corrections' reciprocals
 * (adam_bias_corrected). */
KERNEL_PATH_AVX512 static void adam_step_avx512(adam_buffers *buffers, double *restrict data, double *restrict grad,
                                                int step, int num_steps)
{
    adam_step_body(buffers, data, grad, step, num_steps, 1, 1);
}

KERNEL_PATH_AVX2 static void adam_step_avx2(adam_buffers *buffers, double *restrict data, double *restrict grad,
                                            int step, int num_steps)
{
    adam_step_body(buffers, data, grad, step, num_steps, 1, 0);
}

KERNEL_PATH_GENERIC static void adam_step_generic(adam_buffers *buffers, double *restrict data, double *restrict grad,
                                                  int step, int num_steps)
{
    adam_step_body(buffers, data, grad, step, num_steps, 0, 0);
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
