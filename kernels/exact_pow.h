/* exact_pow.h: pow(x, 2), pow(v, 0.5), pow(x, -1) and pow(x, -2) without
 * calling pow, only where the result provably equals glibc's pow (the spec
 * allows such a fast path); elsewhere pow itself. The proof, its thresholds
 * and ranges: docs/exact-arithmetic.md. Checked by tests/test_exact_pow.c. */
#ifndef MICROGPT_EXACT_POW_H
#define MICROGPT_EXACT_POW_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* B and K of the proof above; B less 0.001 for the square root's
 * approximation (square_root_is_proven). All multiples of 2^-23. */
#define EXACT_POW_SAFE_ULPS 0x1.f4394p-2     /* 512229 * 2^-20 = 0.48849964... <= 0.4885 */
#define EXACT_POW_ROOT_SAFE_ULPS 0x1.f333p-2 /* 511180 * 2^-20 = 0.48749923... <= 0.4875 */
#define EXACT_POW_LOG_ULPS 0x1.0bp-15        /* >= 1.5 * ln 2 * 2^-15, pow's log term per binade */
/* The square's and the root's thresholds over their whole ranges: the one
 * above at the largest |e| + 1 of each range (129 for y = x * x in
 * [2^-128, 2^128); 65 for y = sqrt(v), v in [2^-128, 2^127)), never more
 * than the threshold of any y in it, so the same proof holds. A constant:
 * Adam tests every parameter, and settles the few between this and the
 * magnitude's own threshold by its two candidates (engine/adam.c), cheaper
 * than computing the threshold for all (about a fifth of Adam's
 * instructions). Exact, as the threshold: multiples of 2^-23. */
#define EXACT_POW_SQUARE_RANGE_ULPS (EXACT_POW_SAFE_ULPS - 129 * EXACT_POW_LOG_ULPS)   /* 0.48439... */
#define EXACT_POW_ROOT_RANGE_ULPS (EXACT_POW_ROOT_SAFE_ULPS - 65 * EXACT_POW_LOG_ULPS) /* 0.48543... */

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

/* t * exact_pow_ulp(y), for a positive normal constant t: the product of a
 * normal double and a power of two, made by adding exponents (y's exponent
 * field less 1075, t's bits): exact, and cheaper than the multiplication.
 * Normal for y in the callers' ranges; for y outside them the result is
 * meaningless, and the range tests reject y anyway. */
static inline double exact_pow_ulps(double y, double t)
{
    uint64_t bits = ((exact_pow_bits(y) - 1) & 0x7ff0000000000000u) + (exact_pow_bits(t) - ((uint64_t)1075 << 52));
    double product;
    memcpy(&product, &bits, sizeof product);
    return product;
}

/* The safe distance in ULPs of exact_pow_ulp(y) for a result y, from
 * `safe` (EXACT_POW_SAFE_ULPS or EXACT_POW_ROOT_SAFE_ULPS): safe less
 * (|e| + 1) * EXACT_POW_LOG_ULPS, e being y's unbiased exponent. Every step
 * is exact (see the proof above) and uses only integer logic and double
 * adds, subtractions, fabs and one multiplication, so loops vectorize
 * (no int64-to-double conversion, which AVX2 lacks). The sign bit is masked
 * off; for a y outside the callers' ranges the value is meaningless but
 * finite, and the range tests reject y anyway. */
static inline double exact_pow_threshold(double y, double safe)
{
    uint64_t bits = ((exact_pow_bits(y) >> 52) & 0x7ff) | 0x4330000000000000u; /* 2^52 + biased exponent */
    double biased;
    memcpy(&biased, &bits, sizeof biased);
    double binades = fabs((biased - 0x1p52) - 1023.0) + 1.0; /* |e| + 1 */
    return safe - binades * EXACT_POW_LOG_ULPS;
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

/* x * y - round(x * y) = x * y - p, exactly: Dekker's two-product with
 * Veltkamp's splits, as exact_square_error. Valid where no split overflows
 * and no partial product underflows: the reciprocal's range (x and y in
 * [2^-64, 2^64], x * y near 1) is far inside that. */
static inline double exact_product_error(double x, double y, double p)
{
    const double split = 134217729.0; /* 2^27 + 1 */
    double cx = split * x, cy = split * y;
    double x_high = cx - (cx - x), x_low = x - x_high;
    double y_high = cy - (cy - y), y_low = y - y_high;
    return (((x_high * y_high - p) + x_high * y_low) + x_low * y_high) + x_low * y_low;
}

/* Is y = x * x what pow(x, 2.0) returns? Zero is exact: pow(+-0, 2) = +0
 * (C11 F.10.4.4), and so is 0 * 0. The range test is on doubles (a NaN
 * fails it), so every test here is a vector compare. */
/* The ranges where pow's error bound above holds: y = x * x in
 * [2^-128, 2^128) for the square, v in [2^-128, 2^127) for the root. Double
 * compares (a NaN fails them), so loops with them vectorize. */
static inline int square_in_range(double y) { return (y >= 0x1p-128) & (y < 0x1p128); }
static inline int square_root_in_range(double v) { return (v >= 0x1p-128) & (v < 0x1p127); }

/* v - y * y, exactly (see square_root_is_proven), either way as
 * exact_square_residual. */
static inline double square_root_residual(double v, double y, int fused)
{
    return fused ? __builtin_fma(-y, y, v) : (v - y * y) - exact_square_error(y, y * y);
}

static inline int square_is_proven(double x, double y, int fused)
{
    return (x == 0.0) | (square_in_range(y) &
                         (fabs(exact_square_residual(x, y, fused)) < exact_pow_ulps(y, EXACT_POW_SQUARE_RANGE_ULPS)));
}

/* Is y = sqrt(v) what pow(v, 0.5) returns? With r = v - y*y (exact), the
 * true root is y + r / (sqrt(v) + y); 2y stands in for sqrt(v) + y (relative
 * difference below 2^-52), and a margin of 0.001 ULP covers that
 * (EXACT_POW_ROOT_SAFE_ULPS); the right side's one rounding, in the product
 * with 2y, is within the 0.0005 margin. v - y*y is
 * (v - p) - e with p = round(y*y) and e its error: v - p is exact (Sterbenz:
 * p is within a factor 2 of v), and so is the difference, since the residual
 * is representable. v in [2^-128, 2^127) puts y in [2^-64, 2^64), inside
 * the range where pow's error bound above holds. */
static inline int square_root_is_proven(double v, double y, int fused)
{
    double residual = square_root_residual(v, y, fused);
    int positive_zero = exact_pow_bits(v) == 0; /* pow(+0, 0.5) = +0 = sqrt(+0); not -0, whose sqrt is -0 */
    return positive_zero |
           (square_root_in_range(v) & (fabs(residual) < exact_pow_ulps(y, EXACT_POW_ROOT_RANGE_ULPS) * (2.0 * y)));
}

/* Is y = 1.0 / x what pow(x, -1.0) returns? Only for x in [2^-64, 2^64)
 * (|c log x| = |ln x| <= 64 ln 2; y in (2^-64, 2^64]), positive: all
 * callers pass sums of exponentials; anything else fails the range test.
 * y is correctly rounded, so the remainder r = 1 - x*y is representable
 * (the remainder of a correctly rounded quotient, no underflow here), and
 * the true value is 1/x = y + r/x: proven when |r| / x < T ULP, i.e.
 * |r| < (T ULP) x, the right side rounded once (within the margin).
 * r = (1 - p) - e with p = round(x*y) and e = x*y - p (exact_product_error):
 * x*y is within a relative 2^-53 of 1, so p in [1/2, 2] and 1 - p is exact
 * (Sterbenz); the final difference is exact since r is representable. */
static inline int reciprocal_is_proven(double x, double y)
{
    double p = x * y;
    double remainder = (1.0 - p) - exact_product_error(x, y, p);
    return (x >= 0x1p-64) & (x < 0x1p64) &
           (fabs(remainder) < (exact_pow_threshold(y, EXACT_POW_SAFE_ULPS) * exact_pow_ulp(y)) * x);
}

/* Is y what pow(x, -2.0) returns, for y near 1 / (x*x) (pow_inverse_square
 * makes it)? Only for positive x in [2^-32, 2^32) (|c log x| = 2 |ln x| <=
 * 64 ln 2; y near (2^-64, 2^64]). y need not be correctly rounded: the proof
 * above only asks that the exact z = 1 / x^2 be within the threshold of y.
 * With s = round(x*x) and s_e = x*x - s (exact_square_error), the remainder
 * r = 1 - x^2 y = (1 - s y) - s_e y gives z = y + r / x^2, so y is proven
 * when |r| < (T ULP) x^2. Computed: p = round(s y), p_e = s y - p exactly
 * (exact_product_error; s and y in [2^-64, 2^64], s y near 1), 1 - p exactly
 * (Sterbenz: p in [1/2, 2]); then r' = ((1 - p) - p_e) - round(s_e y), three
 * more roundings (y is not round(1 / s), so 1 - s y need not be
 * representable), each of a number below 2^-50 in magnitude (|1 - s y| and
 * |s_e y| are a few 2^-53 for y within a few ULP of 1 / s), so |r' - r| <
 * 3 * 2^-103, while (ULP) x^2 >= 2^-53 (1 - 2^-50): r' is within 2^-48 ULP
 * of r.
 * The right side uses s for x^2 and rounds once, 2^-52 relative in all:
 * both far inside the 0.0005 margin. */
static inline int inverse_square_is_proven(double x, double s, double y)
{
    double p = s * y;
    double remainder = (((1.0 - p) - exact_product_error(s, y, p)) - exact_square_error(x, s) * y);
    return (x >= 0x1p-32) & (x < 0x1p32) &
           (fabs(remainder) < (exact_pow_threshold(y, EXACT_POW_SAFE_ULPS) * exact_pow_ulp(y)) * s);
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
 * positive normal double in these ranges. Outside them pow itself must
 * decide. */
static inline double exact_pow_neighbour(double y, double residual)
{
    /* +1 for a positive residual, -1 for a negative one, from the sign of
     * its bits less one (an arithmetic shift: GCC's meaning of >> on a
     * negative int64_t). -1 for +0, which only a proven y has, whose
     * neighbour nobody uses: at y = 0 that is a NaN, not a subnormal, whose
     * arithmetic would be slow. */
    int64_t toward = ((int64_t)(exact_pow_bits(residual) - 1) >> 63) | 1;
    uint64_t bits = exact_pow_bits(y) + (uint64_t)toward;
    double neighbour;
    memcpy(&neighbour, &bits, sizeof neighbour);
    return neighbour;
}

/* pow(x, 2.0) is y = x * x or this, where square_in_range(y) and x is
 * not zero. */
static inline double square_other(double x, double y, int fused)
{
    return exact_pow_neighbour(y, exact_square_residual(x, y, fused));
}

/* pow(v, 0.5) is y = sqrt(v) or this, where square_root_in_range(v): the
 * sign of v - y*y says on which side of y the true root lies. */
static inline double square_root_other(double v, double y, int fused)
{
    return exact_pow_neighbour(y, square_root_residual(v, y, fused));
}

/* pow(x, -1.0), as glibc computes it. */
static inline double pow_reciprocal(double x)
{
    double y = 1.0 / x;
    return reciprocal_is_proven(x, y) ? y : pow(x, -1.0);
}

/* pow(x, -2.0), as glibc computes it. 1 / (x*x) rounds twice, so it is
 * corrected once with its remainder (y + y r, r as in
 * inverse_square_is_proven), which makes it nearly always the double
 * nearest 1 / x^2; whatever the candidate, the check decides. Outside
 * [2^-32, 2^32) the candidate is not used (and the correction not needed). */
static inline double pow_inverse_square(double x)
{
    double s = x * x, y = 1.0 / s;
    double p = s * y;
    double remainder = (((1.0 - p) - exact_product_error(s, y, p)) - exact_square_error(x, s) * y);
    y = y + y * remainder;
    return inverse_square_is_proven(x, s, y) ? y : pow(x, -2.0);
}

#endif
