/* model_shape: the reference's default sizes and the parameter count. */
#include "variant.h"

model_shape model_shape_default(void)
{
    return (model_shape){.n_embd = 16, .n_head = 4, .n_layer = 1, .block_size = 16, .vocab_size = 0};
}

/* wte, wpe, lm_head, then per layer 4 attention matrices and the two MLP
 * matrices (4 * n_embd x n_embd each): the spec's parameter table. */
size_t model_shape_parameter_count(const model_shape *shape)
{
    size_t embd = (size_t)shape->n_embd;
    return 2 * (size_t)shape->vocab_size * embd + (size_t)shape->block_size * embd +
           (size_t)shape->n_layer * 12 * embd * embd;
}
