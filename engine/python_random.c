/* python_random: CPython's Modules/_randommodule.c and Lib/random.py (3.11),
 * reduced to what microgpt draws. */
#include "python_random.h"

#include <assert.h>
#include <math.h>

enum { MT_N = 624, MT_M = 397 };

static void init_genrand(python_random *rng, uint32_t seed)
{
    rng->state[0] = seed;
    for (int i = 1; i < MT_N; i++) {
        uint32_t previous = rng->state[i - 1];
        rng->state[i] = 1812433253u * (previous ^ (previous >> 30)) + (uint32_t)i;
    }
    rng->index = MT_N;
}

/* random.seed(n) for 0 <= n < 2^32: init_by_array with the one-word key [n]. */
void python_random_seed(python_random *rng, uint32_t seed)
{
    const uint32_t key[1] = {seed};
    const int key_length = 1;
    init_genrand(rng, 19650218u);
    int i = 1, j = 0;
    for (int k = MT_N > key_length ? MT_N : key_length; k; k--) {
        uint32_t previous = rng->state[i - 1];
        rng->state[i] = (rng->state[i] ^ ((previous ^ (previous >> 30)) * 1664525u)) + key[j] + (uint32_t)j;
        i++;
        j++;
        if (i >= MT_N) {
            rng->state[0] = rng->state[MT_N - 1];
            i = 1;
        }
        if (j >= key_length)
            j = 0;
    }
    for (int k = MT_N - 1; k; k--) {
        uint32_t previous = rng->state[i - 1];
        rng->state[i] = (rng->state[i] ^ ((previous ^ (previous >> 30)) * 1566083941u)) - (uint32_t)i;
        i++;
        if (i >= MT_N) {
            rng->state[0] = rng->state[MT_N - 1];
            i = 1;
        }
    }
    rng->state[0] = 0x80000000u;
    rng->has_cached_gauss = 0;
    rng->cached_gauss = 0.0;
}

uint32_t python_random_uint32(python_random *rng)
{
    static const uint32_t matrix_a[2] = {0x0u, 0x9908b0dfu};
    const uint32_t upper_mask = 0x80000000u, lower_mask = 0x7fffffffu;
    if (rng->index >= MT_N) {
        int k;
        uint32_t y;
        for (k = 0; k < MT_N - MT_M; k++) {
            y = (rng->state[k] & upper_mask) | (rng->state[k + 1] & lower_mask);
            rng->state[k] = rng->state[k + MT_M] ^ (y >> 1) ^ matrix_a[y & 1u];
        }
        for (; k < MT_N - 1; k++) {
            y = (rng->state[k] & upper_mask) | (rng->state[k + 1] & lower_mask);
            rng->state[k] = rng->state[k + (MT_M - MT_N)] ^ (y >> 1) ^ matrix_a[y & 1u];
        }
        y = (rng->state[MT_N - 1] & upper_mask) | (rng->state[0] & lower_mask);
        rng->state[MT_N - 1] = rng->state[MT_M - 1] ^ (y >> 1) ^ matrix_a[y & 1u];
        rng->index = 0;
    }
    uint32_t y = rng->state[rng->index++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= (y >> 18);
    return y;
}

/* genrand_res53: 53 random bits from two outputs. */
double python_random_random(python_random *rng)
{
    uint32_t a = python_random_uint32(rng) >> 5, b = python_random_uint32(rng) >> 6;
    return ((double)a * 67108864.0 + (double)b) * (1.0 / 9007199254740992.0);
}

uint32_t python_random_getrandbits(python_random *rng, int bit_count)
{
    assert(bit_count >= 0 && bit_count <= 32);
    if (bit_count == 0)
        return 0;
    return python_random_uint32(rng) >> (32 - bit_count);
}

uint32_t python_random_randbelow(python_random *rng, uint32_t n)
{
    assert(n >= 1);
    int bit_count = 0; /* bit length of n, not n - 1: CPython's rule */
    for (uint32_t rest = n; rest; rest >>= 1)
        bit_count++;
    uint32_t r = python_random_getrandbits(rng, bit_count);
    while (r >= n)
        r = python_random_getrandbits(rng, bit_count);
    return r;
}

void python_random_shuffle(python_random *rng, size_t *items, size_t count)
{
    for (size_t i = count > 0 ? count - 1 : 0; i >= 1; i--) {
        assert(i + 1 <= UINT32_MAX);
        size_t j = python_random_randbelow(rng, (uint32_t)(i + 1));
        size_t swap = items[i];
        items[i] = items[j];
        items[j] = swap;
    }
}

double python_random_gauss(python_random *rng, double mu, double sigma)
{
    double z;
    if (rng->has_cached_gauss) {
        z = rng->cached_gauss;
        rng->has_cached_gauss = 0;
    } else {
        const double two_pi = 2.0 * 3.141592653589793; /* Lib/random.py: TWOPI = 2.0 * _pi */
        double x2pi = python_random_random(rng) * two_pi;
        double g2rad = sqrt(-2.0 * log(1.0 - python_random_random(rng)));
        z = cos(x2pi) * g2rad;
        rng->cached_gauss = sin(x2pi) * g2rad;
        rng->has_cached_gauss = 1;
    }
    return mu + z * sigma;
}

/* cum_weights = accumulate(weights); total = cum[-1] + 0.0;
 * bisect_right(cum, random() * total, 0, count - 1). */
int python_random_choices(python_random *rng, const double *weights, int count)
{
    assert(count >= 1 && count <= 256);
    double cumulative[256];
    double running = weights[0];
    cumulative[0] = running;
    for (int i = 1; i < count; i++) {
        running = running + weights[i];
        cumulative[i] = running;
    }
    double total = cumulative[count - 1] + 0.0;
    double target = python_random_random(rng) * total;
    int low = 0, high = count - 1;
    while (low < high) {
        int middle = (low + high) / 2;
        if (target < cumulative[middle])
            high = middle;
        else
            low = middle + 1;
    }
    return low;
}
