/* adam.h: the optimizer's interface. The reference's Adam over flat arrays,
 * bit for bit; its vectorized implementation is kernels/adam.c. */
#ifndef MICROGPT_ADAM_H
#define MICROGPT_ADAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct adam_buffers {
    double *m, *v;       /* the moments, [count] */
    uint64_t *unsettled; /* scratch, one chunk: 64-bit like the doubles, so the loops vectorize */
    size_t count;
    /* Since init: steps; elements the vector pass left to the scalar fix;
     * and elements whose g ** 2 or v_hat ** 0.5 took the slow path (a call
     * to pow). */
    size_t steps, fixed, slow_squares, slow_roots;
} adam_buffers;

void adam_buffers_init(adam_buffers *buffers, size_t count);
void adam_buffers_free(adam_buffers *buffers);
/* data -= lr_t * m_hat / (v_hat ** 0.5 + eps), for step (0-based) of
 * num_steps; then grad = 0 (the reference's p.grad = 0), in the same pass. */
void adam_step(adam_buffers *buffers, double *data, double *grad, int step, int num_steps);

#endif
