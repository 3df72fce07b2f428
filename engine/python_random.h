/* python_random: CPython 3.11's `random` module, bit for bit.
 *
 * MT19937 seeded like random.seed(int), and the methods microgpt uses:
 * random(), getrandbits(k <= 32), shuffle (via randbelow), gauss, choices.
 * Each follows the rule of the spec's "Randomness" section. */
#ifndef MICROGPT_PYTHON_RANDOM_H
#define MICROGPT_PYTHON_RANDOM_H

#include <stddef.h>
#include <stdint.h>

typedef struct python_random {
    uint32_t state[624];
    int index;
    int has_cached_gauss;
    double cached_gauss;
} python_random;

void python_random_seed(python_random *rng, uint32_t seed);
uint32_t python_random_uint32(python_random *rng);
double python_random_random(python_random *rng);
uint32_t python_random_getrandbits(python_random *rng, int bit_count);
/* randbelow(n) for 1 <= n < 2^32. */
uint32_t python_random_randbelow(python_random *rng, uint32_t n);
/* shuffle(x) as a permutation of indices: shuffles `items` in place. */
void python_random_shuffle(python_random *rng, size_t *items, size_t count);
double python_random_gauss(python_random *rng, double mu, double sigma);
/* choices(range(count), weights)[0]. */
int python_random_choices(python_random *rng, const double *weights, int count);

#endif
