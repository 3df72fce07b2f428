/* test_exact_quotient: kernels/exact_quotient.h against IEEE division, bit
 * for bit. Wherever quotient_is_proven accepts q, q must be a / b: for the
 * candidate quotient_candidate makes, and for its neighbours (so the check
 * itself is tested, not only the candidate). The divisors are Adam's bias
 * corrections for 2,000 steps, the range's ends, mantissas of all ones
 * and random ones; the dividends random over every exponent, zeros,
 * subnormals, infinities, NaNs, and ones built so that a / b lies within a
 * tiny fraction of an ULP of a midpoint between doubles, where a check that
 * is slightly too loose accepts a wrong neighbour. The AVX2 and AVX-512
 * compilations must give the same candidates. Three deliberately wrong
 * fast paths run on the same inputs and must be caught. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/exact_quotient.h"
#include "kernels/kernel_path.h"
#include "python_random.h"
#include "test_support.h"

/* The deliberately wrong versions: each must give a wrong accepted
 * quotient somewhere on the inputs below. */
typedef enum mutant { CORRECT, UNCORRECTED, ROUNDED_PRODUCT, LOOSE, MUTANTS } mutant;
static const char *const mutant_names[MUTANTS] = {
    "exact_quotient.h",
    "the candidate a * (1 / b) without its correction, trusted",
    "the check's remainder a - q b with the product rounded (no fma)",
    "the check's bound at 0.5 (1 + 2^-30) ULP instead of 0.5 (caught only near midpoints)",
};

static double from_bits(uint64_t bits)
{
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static double candidate(mutant which, double a, double b, double reciprocal)
{
    return which == UNCORRECTED ? a * reciprocal : quotient_candidate(a, b, reciprocal);
}

static int proven(mutant which, double a, double b, double q)
{
    const double half_b = 0.5 * b;
    switch (which) {
    case UNCORRECTED: return 1;
    case ROUNDED_PRODUCT:
        return quotient_is_proven(a, b, half_b, q) |
               ((a != 0.0) & (fabs(a) >= 0x1p-900) & (fabs(a - q * b) < exact_pow_ulps(q, half_b)));
    case LOOSE:
        return quotient_is_proven(a, b, half_b, q) |
               ((a != 0.0) & (fabs(a) >= 0x1p-900) &
                (fabs(fma(-q, b, a)) < (1.0 + 0x1p-30) * exact_pow_ulps(q, half_b)));
    default: return quotient_is_proven(a, b, half_b, q);
    }
}

/* The candidate compiled for the FMA targets, as Adam's copies are: gcc
 * folds negations there on its own (a -0 dividend once came back +0). */
KERNEL_PATH_AVX2 static double candidate_avx2(double a, double b, double r) { return quotient_candidate(a, b, r); }
KERNEL_PATH_AVX512 static double candidate_avx512(double a, double b, double r) { return quotient_candidate(a, b, r); }

/* Every compiled path gives the generic candidate's bits (NaNs aside). */
static void compare_paths(double a, double b, double reciprocal, double q)
{
    const kernel_level level = kernel_path_supported();
    const double avx2 = level >= KERNEL_AVX2 ? candidate_avx2(a, b, reciprocal) : q;
    const double avx512 = level >= KERNEL_AVX512 ? candidate_avx512(a, b, reciprocal) : q;
    CHECK(isnan(q) || (memcmp(&avx2, &q, sizeof q) == 0 && memcmp(&avx512, &q, sizeof q) == 0),
          "a %a / b %a: generic candidate %a, AVX2 %a, AVX-512 %a", a, b, q, avx2, avx512);
}

typedef struct quotient_counts {
    long compared, accepted, hard, wrong[MUTANTS];
} quotient_counts;

static quotient_counts counts;

/* a / b through every version: the candidate, and (for the check) the
 * neighbours of the true quotient. */
static void compare(double a, double b)
{
    if (!quotient_divisor_in_range(b))
        return;
    const double reciprocal = 1.0 / b, exact = a / b;
    counts.compared++;
    for (mutant which = CORRECT; which < MUTANTS; which++) {
        double q = candidate(which, a, b, reciprocal);
        int accepted = proven(which, a, b, q);
        int wrong = accepted && memcmp(&q, &exact, sizeof q) != 0;
        if (which == CORRECT) {
            compare_paths(a, b, reciprocal, q);
            counts.accepted += accepted;
            CHECK(!wrong, "a %a / b %a: accepted %a, division gives %a", a, b, q, exact);
        }
        counts.wrong[which] += wrong;
        /* the check alone: a neighbour of the quotient must never pass */
        if (which != UNCORRECTED && isfinite(exact) && exact != 0.0)
            for (int step = -2; step <= 2; step++) {
                if (step == 0)
                    continue;
                double neighbour = from_bits(exact_pow_bits(exact) + (uint64_t)(int64_t)step);
                if (!isfinite(neighbour) || (neighbour < 0.0) != (exact < 0.0))
                    continue;
                int passed = proven(which, a, b, neighbour);
                if (which == CORRECT)
                    CHECK(!passed, "a %a / b %a: the neighbour %a of %a passes the check", a, b, neighbour, exact);
                counts.wrong[which] += passed;
            }
    }
}

/* Hard cases: a whose a / b lies within a tiny fraction of an ULP of a midpoint
 * between doubles, on either side. With b = B 2^e (B odd), a midpoint
 * mid = M 2^s (M odd, 54 bits) and a = (M B - t) 2^(e + s) for a small odd
 * t: a / b = mid - t 2^s / B. M B - t must be a multiple of 2^54 for a to
 * have 53 bits, so M = t / B modulo 2^54 (B is odd, so invertible). The
 * distance is |t| / (2 B) ULP. */
static void near_midpoints(double b, int exponent, int t)
{
    int e;
    double mantissa = frexp(b, &e);
    uint64_t odd = (uint64_t)ldexp(mantissa, 53);
    e -= 53;
    while (!(odd & 1))
        odd >>= 1, e++;
    uint64_t inverse = odd; /* Newton's iteration for the inverse modulo 2^64 */
    for (int i = 0; i < 6; i++)
        inverse *= 2 - odd * inverse;
    const uint64_t mask54 = ((uint64_t)1 << 54) - 1;
    uint64_t m = ((uint64_t)(int64_t)t * inverse) & mask54;
    if (m < ((uint64_t)1 << 53))
        return; /* not a 54-bit midpoint: the caller tries another t */
    unsigned __int128 product = (unsigned __int128)m * odd - (unsigned __int128)(__int128)t;
    uint64_t a_bits = (uint64_t)(product >> 54);
    const int s = exponent - 53;
    double a = ldexp((double)a_bits, e + s + 54);
    CHECK(a_bits < ((uint64_t)1 << 53) && (product & mask54) == 0, "hard case for b = %a, t = %d", b, t);
    compare(a, b);
    compare(-a, b);
    counts.hard += odd >= ((uint64_t)1 << 46); /* then within 2^-40 ULP of the midpoint */
}

int main(void)
{
    python_random rng;
    python_random_seed(&rng, 2027);
    double divisors[4096];
    size_t count = 0;
    /* Adam's: 1 - beta ** (step + 1) */
    for (int step = 0; step < 2000; step += 1 + step / 64) {
        divisors[count++] = 1.0 - pow(0.85, (double)(step + 1));
        divisors[count++] = 1.0 - pow(0.99, (double)(step + 1));
    }
    const double edges[] = {
        0x1p-8, 0x1p8, 1.0, 0x1.fffffffffffffp-1, 0x1.fffffffffffffp0, 0x1.fffffffffffffp7, 0x1.0000000000001p0, 0.75,
        0.15,   0.01,  3.0, 0x1.5555555555555p-2};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        divisors[count++] = edges[i];
    while (count < sizeof divisors / sizeof divisors[0])
        divisors[count++] = ldexp(1.0 + python_random_random(&rng), (int)(python_random_uint32(&rng) % 17) - 8);
    /* out of range: not taken */
    CHECK(!quotient_divisor_in_range(0x1p-9) && !quotient_divisor_in_range(0x1.0000000000001p8), "the divisor's range");

    const double specials[] = {0.0,
                               -0.0,
                               1.0,
                               -1.0,
                               DBL_MAX,
                               -DBL_MAX,
                               DBL_MIN,
                               DBL_MIN / 3,
                               DBL_TRUE_MIN,
                               0x1p-900,
                               0x1.fffffffffffffp-901,
                               0x1p-1000,
                               HUGE_VAL,
                               -HUGE_VAL,
                               (double)NAN,
                               1e-8,
                               1e300};
    for (size_t d = 0; d < count; d++) {
        const double b = divisors[d];
        for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++)
            compare(specials[i], b);
        for (int i = 0; i < 200; i++) {
            uint64_t bits = (uint64_t)python_random_uint32(&rng) << 32 | python_random_uint32(&rng);
            compare(from_bits(bits), b);
        }
        for (int t = -41; t <= 41; t += 2)
            near_midpoints(b, (int)(python_random_uint32(&rng) % 200) - 100, t);
    }
    /* What Adam divides: moments of magnitude 1e-20..1 */
    for (int i = 0; i < 2000000; i++) {
        double b = divisors[python_random_uint32(&rng) % count];
        compare((python_random_random(&rng) - 0.5) * pow(10.0, -20.0 * python_random_random(&rng)), b);
    }
    printf("compared %ld quotients with division (%ld within 2^-40 ULP of a midpoint): %ld accepted (%.4f%%), every "
           "one identical\n",
           counts.compared, counts.hard, counts.accepted, 100.0 * counts.accepted / counts.compared);
    for (mutant which = UNCORRECTED; which < MUTANTS; which++) {
        printf("deliberately wrong, %s: %ld wrong quotients accepted\n", mutant_names[which], counts.wrong[which]);
        CHECK(counts.wrong[which] > 0, "the test did not catch: %s", mutant_names[which]);
    }
    return test_finish("test_exact_quotient");
}
