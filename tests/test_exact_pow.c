/* test_exact_pow: engine/exact_pow.h's fast paths against glibc's pow, bit
 * for bit: every edge case we can name, inputs built to sit near rounding
 * boundaries, and millions of random inputs over the whole exponent range and
 * over the ranges Adam sees. Also reports how often the fast path is taken. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "exact_pow.h"
#include "python_random.h"
#include "test_support.h"

static long compared, fast_square;

static void compare(double x)
{
    double fast = pow_square(x), slow = pow(x, 2.0);
    CHECK(memcmp(&fast, &slow, sizeof fast) == 0, "pow_square(%a) = %a, pow = %a", x, fast, slow);
    fast_square += square_is_proven(x, x * x, 0);
    /* the fused residuals (fma) decide as Dekker's do */
    CHECK(square_is_proven(x, x * x, 1) == square_is_proven(x, x * x, 0), "square_is_proven(%a): fused differs", x);
    fast = pow_square_root(x), slow = pow(x, 0.5);
    CHECK(memcmp(&fast, &slow, sizeof fast) == 0, "pow_square_root(%a) = %a, pow = %a", x, fast, slow);
    CHECK(square_root_is_proven(x, sqrt(x), 1) == square_root_is_proven(x, sqrt(x), 0),
          "square_root_is_proven(%a): fused differs", x);
    /* where not proven but in range, pow's result is one of the two candidates */
    double other;
    if (!square_is_proven(x, x * x, 0) && square_candidates(x, x * x, &other)) {
        slow = pow(x, 2.0);
        CHECK(slow == x * x || memcmp(&slow, &other, sizeof slow) == 0, "pow(%a, 2) = %a: neither candidate", x, slow);
    }
    if (!square_root_is_proven(x, sqrt(x), 0) && square_root_candidates(x, sqrt(x), &other)) {
        slow = pow(x, 0.5);
        CHECK(slow == sqrt(x) || memcmp(&slow, &other, sizeof slow) == 0, "pow(%a, 0.5) = %a: neither candidate", x,
              slow);
    }
    compared++;
}

static double from_bits(uint64_t bits)
{
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

int main(void)
{
    /* Edge cases. */
    const double edges[] = {0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 4.0, 0.25, 3.0, HUGE_VAL, -HUGE_VAL, (double)NAN, -(double)NAN,
                            DBL_MIN, -DBL_MIN, DBL_MAX, -DBL_MAX, DBL_TRUE_MIN, -DBL_TRUE_MIN, DBL_MIN / 3, 0x1p-511,
                            0x1p-512, 0x1p-1022, 0x1p511, 0x1p512, 0x1.fffffffffffffp511, 0x1.fffffffffffffp-1,
                            0x1.0000000000001p0, 1e-8, 1e-300, 1e300, 0.85, 0.99, 1e-16, 1.4142135623730951};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        compare(edges[i]);
        compare(nextafter(edges[i], HUGE_VAL));
        compare(nextafter(edges[i], -HUGE_VAL));
    }
    /* Every power of two and its neighbours. */
    for (int e = -1074; e <= 1023; e++) {
        double x = ldexp(1.0, e);
        compare(x);
        compare(nextafter(x, 0.0));
        compare(nextafter(x, HUGE_VAL));
    }
    python_random rng;
    python_random_seed(&rng, 2026);
    /* Near rounding boundaries: x and v whose exact square or square root
     * lies within 0.1 ULP of a midpoint between doubles, over the exponents
     * the fast paths accept; the hardest inputs for the proof. */
    long near = 0;
    for (int i = 0; near < 4000000; i++) {
        double x = ldexp(1.0 + python_random_random(&rng), (int)(python_random_uint32(&rng) % 128) - 64);
        double y = x * x, ulp = exact_pow_ulp(y);
        double error = exact_square_error(x, y);
        CHECK(error == fma(x, x, -y), "exact_square_error(%a) = %a, fma gives %a", x, error, fma(x, x, -y));
        if (fabs(error) > 0.4 * ulp)
            compare(x), near++;
        double root = sqrt(x), product = root * root;
        double residual = (x - product) - exact_square_error(root, product);
        CHECK(residual == fma(-root, root, x), "square root residual of %a: %a, fma gives %a", x, residual,
              fma(-root, root, x));
        if (fabs(residual) > 0.4 * 2.0 * root * exact_pow_ulp(root))
            compare(x), near++;
    }
    /* Random bit patterns over the whole range (both signs, every exponent). */
    for (int i = 0; i < 2000000; i++) {
        uint64_t bits = (uint64_t)python_random_uint32(&rng) << 32 | python_random_uint32(&rng);
        compare(from_bits(bits));
    }
    /* What Adam sees: gradients around 1e-8..1, v_hat around 1e-16..1. */
    for (int i = 0; i < 10000000; i++) {
        double magnitude = pow(10.0, -16.0 * python_random_random(&rng));
        compare((python_random_random(&rng) - 0.5) * magnitude);
    }
    printf("compared %ld inputs with glibc pow (%ld of them near rounding boundaries): identical; "
           "pow(x, 2) fast path taken for %.1f%%\n", compared, near, 100.0 * fast_square / compared);
    return test_finish("test_exact_pow");
}
