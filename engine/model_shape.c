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

/* Operation by operation as the spec writes them (exact_kernels.h computes
 * the same ones): a linear n_out x n_in is n_out * n_in multiply-adds
 * forward, twice that backward (the input's and the weights' gradients). */
model_flops model_shape_flops(const model_shape *shape, int positions)
{
    const double embd = shape->n_embd, heads = shape->n_head, vocab = shape->vocab_size, layers = shape->n_layer;
    const double head_dim = embd / heads, n = positions;
    const double linears = layers * 12 * embd * embd + vocab * embd; /* multiply-adds per position */
    /* rmsnorm: squares and their sum, * 1/n, + eps, pow, the scaling; its
     * backward: the scale's share, the sum's, pow, two shares per element. */
    const double rmsnorm = 3 * embd + 3, rmsnorm_backward = 8 * embd + 4;
    const double rmsnorms = 1 + 2 * layers;
    /* per layer and position: residual adds, relu; backward: their gradients */
    const double elementwise = 2 * embd + 4 * embd, elementwise_backward = 4 * embd + 4 * embd;
    /* cross-entropy: max, exp of the shifted logits, their sum, pow, p, log, -1; backward likewise */
    const double loss = 4 * vocab + 5, loss_backward = 3 * vocab + 6;
    /* attention over P positions, per head: dot products and their scaling,
     * softmax (shift, exp, sum, pow, scale), the weighted sum; summed over
     * the positions p = 0..n-1, P = p + 1 (sum of P is n(n+1)/2) */
    const double positions_summed = n * (n + 1) / 2;
    const double attention = layers * (heads * positions_summed * (4 * head_dim + 5) + heads * n);
    const double attention_backward = layers * (heads * positions_summed * (8 * head_dim + 7) + 2 * heads * n);
    model_flops flops;
    flops.forward = n * (2 * linears + rmsnorms * rmsnorm + layers * elementwise + embd + loss) + attention + n + 1;
    flops.backward =
        n * (4 * linears + rmsnorms * rmsnorm_backward + layers * elementwise_backward + 2 * embd + loss_backward) +
        attention_backward + n;
    /* Adam per parameter: g*g, two moments (3 each), v_hat, its root, m_hat,
     * lr * m_hat, + eps, the quotient, the subtraction */
    flops.update = 13 * (double)model_shape_parameter_count(shape) + 7;
    return flops;
}

int model_shape_check(const model_shape *shape, const microgpt_variant *variant, char *error, size_t capacity)
{
    if (shape->n_embd % shape->n_head != 0) {
        snprintf(error, capacity, "--n-embd %d is not divisible by --n-head %d", shape->n_embd, shape->n_head);
        return -1;
    }
    if (variant && variant->step_bytes) {
        double bytes = variant->step_bytes(shape);
        if (bytes > MODEL_MAX_STEP_BYTES) {
            snprintf(error, capacity,
                     "--n-embd %d --n-head %d --n-layer %d --block-size %d is too large for %s: about %.1f GB a "
                     "step (parameters, Adam, activations), over the limit of %.0f GB",
                     shape->n_embd, shape->n_head, shape->n_layer, shape->block_size, variant->name, bytes / 1e9,
                     MODEL_MAX_STEP_BYTES / 1e9);
            return -1;
        }
        return 0;
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
