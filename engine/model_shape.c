/* model_shape: the reference's default sizes, the parameter count, and the
 * bounds that decide whether a size fits (variant.h). */
#include "variant.h"

#include <stdio.h>

model_shape model_shape_default(void)
{
    return (model_shape){.n_embd = 16, .n_head = 4, .n_layer = 1, .block_size = 16, .vocab_size = 0};
}

/* The spec's parameter table (parameter_layout.h): where the matrix after
 * the last would start. */
size_t model_shape_parameter_count(const model_shape *shape)
{
    return model_matrix_offset_at(shape, model_matrix_count(shape));
}

int model_shape_positions(const model_shape *shape, int token_count)
{
    return token_count - 1 < shape->block_size ? token_count - 1 : shape->block_size;
}

/* Nodes each layer op creates (engine/scalar_layers.h), constant leaves
 * included. */
static double rmsnorm_nodes(double n) { return 3 * n + 6; }
static double linear_nodes(double n_out, double n_in) { return n_out * (2 * n_in + 1); }
static double softmax_nodes(double n) { return 6 * n + 1; }
static double attention_head_nodes(double positions, double head_dim)
{
    return positions * (2 * head_dim + 3) + softmax_nodes(positions) + head_dim * (2 * positions + 1);
}

double model_shape_graph_nodes_bound(const model_shape *shape)
{
    const double embd = shape->n_embd, heads = shape->n_head, vocab = shape->vocab_size;
    const double head_dim = embd / heads, positions = shape->block_size;
    /* Per position: embedding, rmsnorm, the layers, lm_head, softmax, -log p. */
    double fixed = embd + rmsnorm_nodes(embd) + linear_nodes(vocab, embd) + softmax_nodes(vocab) + 3;
    double per_layer = 2 * rmsnorm_nodes(embd) + 4 * linear_nodes(embd, embd) + linear_nodes(4 * embd, embd) +
                       linear_nodes(embd, 4 * embd) + 4 * embd + 2 * embd;
    /* Attention at position p covers p + 1 positions: summed over p. */
    double attention = 0.0;
    for (int p = 0; p < shape->block_size; p++)
        attention += heads * attention_head_nodes(p + 1, head_dim);
    double step = positions * (fixed + shape->n_layer * per_layer) + shape->n_layer * attention + positions + 3;
    return step + (double)model_shape_parameter_count(shape);
}

/* The longest path, op by op (rmsnorm: a sum chain of n, then 4 nodes;
 * linear: a mul and a sum chain of n_in; attention: dot chain, softmax chain
 * over the positions, weighted-sum chain), each layer adding at most
 * 10 * n_embd + 2 * block_size + 26 nodes, with slack. The search enters
 * positions through the loss's sum chain and layers one after another. */
double model_shape_graph_depth_bound(const model_shape *shape)
{
    const double embd = shape->n_embd, block = shape->block_size, vocab = shape->vocab_size;
    double per_layer = 10 * embd + 2 * block + 32;
    return shape->n_layer * per_layer + 2 * embd + vocab + block + 64;
}

int model_shape_check(const model_shape *shape, char *error, size_t capacity)
{
    if (shape->n_embd % shape->n_head != 0) {
        snprintf(error, capacity, "--n-embd %d is not divisible by --n-head %d", shape->n_embd, shape->n_head);
        return -1;
    }
    double nodes = model_shape_graph_nodes_bound(shape);
    if (nodes > MODEL_MAX_GRAPH_NODES) {
        snprintf(error, capacity,
                 "--n-embd %d --n-head %d --n-layer %d --block-size %d is too large: up to %.0f graph nodes per "
                 "step, parameters included, over the limit of %d (about 5 GB)",
                 shape->n_embd, shape->n_head, shape->n_layer, shape->block_size, nodes, MODEL_MAX_GRAPH_NODES);
        return -1;
    }
    return 0;
}
