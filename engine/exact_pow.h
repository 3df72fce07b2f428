/* exact_pow.h: pow(x, 2.0) and pow(v, 0.5) without a call to pow, only where
 * the answer provably equals glibc's pow (the spec allows such a fast path).
 *
 * Why it is safe: x * x and sqrt(v) are correctly rounded, i.e. the double y
 * nearest the exact value e. glibc's pow (since 2.28) is within 0.54 ULP of
 * e (worst case stated in sysdeps/ieee754/dbl-64/e_pow.c). If e is closer
 * than 0.46 ULP to y, every other double is more than 0.54 ULP from e, so
 * pow must return y. The distance is measured exactly: the residual of a
 * square, x*x - y, and of a square root, v - y*y, are representable, and
 * fma computes them without rounding. Anything else (zeros, subnormal or
 * huge values, results that are powers of two, where the ULP below is half
 * the ULP above, NaN, infinities) goes to pow itself. tests/test_exact_pow.c
 * compares both paths on millions of inputs and every edge case we know. */
#ifndef MICROGPT_EXACT_POW_H
#define MICROGPT_EXACT_POW_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define EXACT_POW_SAFE_ULPS 0.46

static inline uint64_t exact_pow_bits(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}

/* The spacing of doubles just above y: y's exponent, less 52. Only called
 * for y in [2^-900, 2^900], so the result is a normal double. */
static inline double exact_pow_ulp(double y)
{
    uint64_t bits = (exact_pow_bits(y) & 0x7ff0000000000000u) - ((uint64_t)52 << 52);
    double ulp;
    memcpy(&ulp, &bits, sizeof ulp);
    return ulp;
}

static inline int exact_pow_in_safe_range(double y)
{
    uint64_t bits = exact_pow_bits(y);
    uint64_t exponent = (bits >> 52) & 0x7ff, mantissa = bits & 0x000fffffffffffffu;
    /* positive, 2^-900 <= y < 2^900, and not a power of two */
    return (bits >> 63) == 0 && exponent >= 1023 - 900 && exponent < 1023 + 900 && mantissa != 0;
}

/* pow(x, 2.0), as glibc computes it. */
static inline double pow_square(double x)
{
    double y = x * x;
    if (exact_pow_in_safe_range(y) && fabs(fma(x, x, -y)) < EXACT_POW_SAFE_ULPS * exact_pow_ulp(y))
        return y;
    return pow(x, 2.0);
}

/* pow(v, 0.5), as glibc computes it. With r = v - y*y (exact), the true root
 * is y + r / (sqrt(v) + y); 2y stands in for sqrt(v) + y, and a margin of
 * 0.01 ULP covers that substitution many times over. */
static inline double pow_square_root(double v)
{
    double y = sqrt(v);
    if (exact_pow_in_safe_range(y) && exact_pow_in_safe_range(v) &&
        fabs(fma(-y, y, v)) < (EXACT_POW_SAFE_ULPS - 0.01) * 2.0 * y * exact_pow_ulp(y))
        return y;
    return pow(v, 0.5);
}

#endif
