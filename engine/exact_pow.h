/* exact_pow.h: pow(x, 2.0) and pow(v, 0.5) without a call to pow, only where
 * the answer provably equals glibc's pow (the spec allows such a fast path).
 *
 * Why it is safe: x * x and sqrt(v) are correctly rounded, i.e. the double y
 * nearest the exact value e. glibc's pow (2.28 and later, e_pow.c) computes
 * log x to a relative error of 1.5 * 2^-68, multiplies by the exponent c,
 * and takes exp, whose error before its final rounding is at most 0.011 ULP
 * (its stated 0.511 ULP less the 0.5 of rounding); together pow's result is
 * the rounding of a value within 0.011 + |c log x| * 1.5 * 2^-68 * 2^53 ULP of
 * e (the source's own worst case, 0.54 ULP, is this bound at |c log x| =
 * 1024 ln 2). Restricted to |c log x| <= 128 ln 2 (inputs in [2^-128, 2^128)
 * for the square root, [2^-64, 2^64) for the square) that is under 0.016 ULP,
 * so if e is within 0.48 ULP of y, pow rounds to y as well. The distance is
 * measured exactly: the residual of a square, x*x - y, and of a square root,
 * v - y*y, are representable, and Dekker's two-product computes them without
 * rounding (plain arithmetic, exact only without contraction, hence
 * -ffp-contract=off). At a power of two y the bound is taken in the ULP
 * below y (half the one above), which is safe on both sides: below y, pow's
 * value is within 0.48 + 0.016 < 0.5 of those ULPs; above, within
 * 0.24 + 0.016 of the ULP above. Zeros are exact by C11 F.10.4.4, and everything else
 * (subnormal, huge, NaN, infinite) goes to pow itself.
 * tests/test_exact_pow.c compares both paths on millions of inputs, most of
 * them built to sit near rounding boundaries, and every edge case we know. */
#ifndef MICROGPT_EXACT_POW_H
#define MICROGPT_EXACT_POW_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define EXACT_POW_SAFE_ULPS 0.48

static inline uint64_t exact_pow_bits(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}

/* The spacing of doubles just below y: the exponent of y's predecessor,
 * less 52. That is y's own spacing unless y is a power of two, where it is
 * half of it (the spacing below), so a bound in these units is never looser
 * than the true one on either side of y and powers of two need no exclusion.
 * Only called for positive y in [2^-128, 2^128], so the result is a normal
 * double. */
static inline double exact_pow_ulp(double y)
{
    uint64_t bits = ((exact_pow_bits(y) - 1) & 0x7ff0000000000000u) - ((uint64_t)52 << 52);
    double ulp;
    memcpy(&ulp, &bits, sizeof ulp);
    return ulp;
}

/* x * x - round(x * x), exactly: Dekker's product specialised to a square
 * (two_sqr of Hida, Li and Bailey's double-double library), with Veltkamp's
 * split into 26-bit halves. x_high * x_high and 2 * x_high * x_low and
 * x_low * x_low are exact products, and each sum is exact as in Dekker's
 * proof. Valid for |x| < 2^995, which the callers' ranges ensure. */
static inline double exact_square_error(double x, double square)
{
    const double split = 134217729.0; /* 2^27 + 1 */
    double cx = split * x;
    double x_high = cx - (cx - x), x_low = x - x_high;
    return ((x_high * x_high - square) + 2.0 * x_high * x_low) + x_low * x_low;
}

/* x * x - square, exactly, either way: with `fused` (the caller compiled
 * for a processor with FMA, kernel_path.h) one fused multiply-add, whose
 * single rounding is of a representable value and so changes nothing; else
 * Dekker's product above. The same double, so a proof decides the same on
 * every kernel path. */
static inline double exact_square_residual(double x, double square, int fused)
{
    return fused ? __builtin_fma(x, x, -square) : exact_square_error(x, square);
}

/* Is y = x * x what pow(x, 2.0) returns? Zero is exact: pow(+-0, 2) = +0
 * (C11 F.10.4.4), and so is 0 * 0. The range test is on doubles (a NaN
 * fails it), so every test here is a vector compare. */
static inline int square_is_proven(double x, double y, int fused)
{
    return (x == 0.0) | ((y >= 0x1p-128) & (y < 0x1p128) &
                         (fabs(exact_square_residual(x, y, fused)) < EXACT_POW_SAFE_ULPS * exact_pow_ulp(y)));
}

/* Is y = sqrt(v) what pow(v, 0.5) returns? With r = v - y*y (exact), the
 * true root is y + r / (sqrt(v) + y); 2y stands in for sqrt(v) + y (relative
 * difference below 2^-52), and a margin of 0.001 ULP covers that. v - y*y is
 * (v - p) - e with p = round(y*y) and e its error: v - p is exact (Sterbenz:
 * p is within a factor 2 of v), and so is the difference, since the residual
 * is representable. v in [2^-128, 2^127) puts y in [2^-64, 2^64), inside
 * the range where pow's error bound above holds. */
static inline int square_root_is_proven(double v, double y, int fused)
{
    double residual = fused ? __builtin_fma(-y, y, v) : (v - y * y) - exact_square_error(y, y * y);
    int positive_zero = exact_pow_bits(v) == 0; /* pow(+0, 0.5) = +0 = sqrt(+0); not -0, whose sqrt is -0 */
    return positive_zero | ((v >= 0x1p-128) & (v < 0x1p127) &
                            (fabs(residual) < (EXACT_POW_SAFE_ULPS - 0.001) * 2.0 * y * exact_pow_ulp(y)));
}

/* pow(x, 2.0), as glibc computes it. */
static inline double pow_square(double x)
{
    double y = x * x;
    return square_is_proven(x, y, 0) ? y : pow(x, 2.0);
}

/* pow(v, 0.5), as glibc computes it. */
static inline double pow_square_root(double v)
{
    double y = sqrt(v);
    return square_root_is_proven(v, y, 0) ? y : pow(v, 0.5);
}

/* Where a fast path is not proven but the input is in its range, pow's
 * result is still one of two doubles: y or its neighbour on the side of the
 * exact value e. pow's value before its final rounding lies within 0.016 ULP
 * of e (above), and e within half an ULP of y, so it cannot reach the
 * midpoint beyond that neighbour, nor the midpoint on y's other side (on the
 * side away from e it is at most 0.016 ULP from y; at a power of two y, in
 * the half-size ULP below y, e is within a quarter of y's ULP and the
 * midpoint beyond y's lower neighbour three quarters away). A caller whose
 * result comes out the same with either candidate needs no pow call
 * (engine/adam.c). The neighbour is y's bits plus or minus one: y is a
 * positive normal double in these ranges. Returns 0, and no candidate, where
 * the range does not hold (pow itself must decide). */
static inline double exact_pow_neighbour(double y, double residual)
{
    uint64_t bits = exact_pow_bits(y) + (residual > 0.0) - (residual < 0.0);
    double neighbour;
    memcpy(&neighbour, &bits, sizeof neighbour);
    return neighbour;
}

/* pow(x, 2.0) is y = x * x or *other. */
static inline int square_candidates(double x, double y, double *other)
{
    if (!(x != 0.0 && y >= 0x1p-128 && y < 0x1p128))
        return 0;
    *other = exact_pow_neighbour(y, exact_square_error(x, y));
    return 1;
}

/* pow(v, 0.5) is y = sqrt(v) or *other: the sign of v - y*y (exact, as in
 * square_root_is_proven) says on which side of y the true root lies. */
static inline int square_root_candidates(double v, double y, double *other)
{
    if (!(v >= 0x1p-128 && v < 0x1p127))
        return 0;
    double p = y * y;
    *other = exact_pow_neighbour(y, (v - p) - exact_square_error(y, p));
    return 1;
}

#endif
