/* adam: see adam.h. Compiled with -O3 (CMakeLists.txt) so the loops
 * vectorize, and cloned for AVX-512, AVX2 and the baseline, picked at load. */
#include "adam.h"

#include <math.h>
#include <stdlib.h>

#include "checked.h"
#include "exact_pow.h"

void adam_buffers_init(adam_buffers *buffers, size_t count)
{
    buffers->m = calloc_checked(count, sizeof *buffers->m);
    buffers->v = calloc_checked(count, sizeof *buffers->v);
    buffers->square = calloc_checked(count, sizeof *buffers->square);
    buffers->root = calloc_checked(count, sizeof *buffers->root);
    buffers->need_pow = calloc_checked(count, sizeof *buffers->need_pow);
    buffers->count = count;
}

void adam_buffers_free(adam_buffers *buffers)
{
    free(buffers->m);
    free(buffers->v);
    free(buffers->square);
    free(buffers->root);
    free(buffers->need_pow);
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void adam_step(adam_buffers *buffers, double *restrict data, const double *restrict grad, int step, int num_steps)
{
    const double learning_rate = 0.01, beta1 = 0.85, beta2 = 0.99, eps = 1e-8;
    const double lr_t = learning_rate * (1.0 - (double)step / (double)num_steps);
    const double bias1 = 1.0 - pow(beta1, (double)(step + 1));
    const double bias2 = 1.0 - pow(beta2, (double)(step + 1));
    const size_t count = buffers->count;
    double *restrict m = buffers->m, *restrict v = buffers->v;
    double *restrict square = buffers->square, *restrict root = buffers->root;
    uint64_t *restrict need_pow = buffers->need_pow;

    /* g ** 2 */
    for (size_t i = 0; i < count; i++) {
        double g = grad[i], y = g * g;
        square[i] = y;
        need_pow[i] = !square_is_proven(g, y);
    }
    for (size_t i = 0; i < count; i++)
        if (need_pow[i])
            square[i] = pow(grad[i], 2.0);

    /* moments, then v_hat ** 0.5 */
    for (size_t i = 0; i < count; i++) {
        m[i] = beta1 * m[i] + (1.0 - beta1) * grad[i];
        v[i] = beta2 * v[i] + (1.0 - beta2) * square[i];
        double v_hat = v[i] / bias2, y = sqrt(v_hat);
        root[i] = y;
        need_pow[i] = !square_root_is_proven(v_hat, y);
    }
    for (size_t i = 0; i < count; i++)
        if (need_pow[i])
            root[i] = pow(v[i] / bias2, 0.5);

    for (size_t i = 0; i < count; i++) {
        double m_hat = m[i] / bias1;
        data[i] -= lr_t * m_hat / (root[i] + eps);
    }
}
