/* exact_quotient.h: a / b without a division where b is the same for many
 * quotients (Adam's bias corrections): a times b's reciprocal, corrected
 * once, accepted only where its exact remainder proves it is the correctly
 * rounded quotient, i.e. the division's bits; elsewhere the caller divides.
 * Needs a fused multiply-add (the kernel path's `fused`). The proof:
 * docs/exact-arithmetic.md; checked by tests/test_exact_quotient.c. */
#ifndef MICROGPT_EXACT_QUOTIENT_H
#define MICROGPT_EXACT_QUOTIENT_H

#include <stdint.h>

#include "kernels/exact_pow.h"

/* The divisors this holds for: b in [2^-8, 2^8]. */
static inline int quotient_divisor_in_range(double b) { return (b >= 0x1p-8) & (b <= 0x1p8); }

/* The candidate for a / b, from reciprocal = 1.0 / b: q0 = a * reciprocal,
 * then q0 less (q0 b - a) * reciprocal, both one rounding (fma). A zero a
 * gives q0 itself, with a's sign: q0 b - a is +0 there, times -reciprocal
 * is -0, and q0 + -0 is q0. The reciprocal is negated, not the remainder:
 * gcc folds -fma(x, y, -a) into fnmadd, -(x y) + a, which is +0, not -0,
 * for a = -0 (seen with the AVX2 and AVX-512 targets). */
static inline double quotient_candidate(double a, double b, double reciprocal)
{
    double q0 = a * reciprocal;
    return __builtin_fma(__builtin_fma(q0, b, -a), -reciprocal, q0);
}

/* Is q = quotient_candidate(a, b, 1.0 / b) the correctly rounded a / b?
 * b in the range above, half_b = b / 2. A zero a gives a's zero, which is
 * a / b. Otherwise, for |a| from 2^-900 up, the remainder a - b q, rounded
 * once by the fma, is below half_b * exact_pow_ulp(q) only if the exact one
 * is (and it is then representable), so |a / b - q| is under half the
 * spacing of the doubles just below |q|, never more than the spacing above:
 * q is the nearest double. NaN and infinities fail. */
static inline int quotient_is_proven(double a, double b, double half_b, double q)
{
    /* a zero or |a| >= 2^-900, as one unsigned compare: a zero's bits less
     * one, sign masked off, are the largest */
    const uint64_t magnitude = 0x7fffffffffffffffu;
    int in_range = ((exact_pow_bits(a) - 1) & magnitude) >= exact_pow_bits(0x1p-900) - 1;
    return in_range & (fabs(__builtin_fma(-q, b, a)) < exact_pow_ulps(q, half_b));
}

#endif
