/* floor: no graph at all, the lower bound the graph strategies are measured
 * against. A hand-derived forward and backward of microgpt over plain arrays
 * (llm.c style), run a layer at a time over all the step's positions
 * (kernels/sequence_layers.h, which sequence's nodes run too), so that each
 * weight matrix is read once per layer, not once per position. Why that keeps
 * every gradient's contributions in the reference's order:
 * docs/exact-arithmetic.md, "Layers over all positions". */
#define VARIANT_DESCRIPTION "no graph: hand-derived forward and backward in the reference's accumulation order"
#define VARIANT_TOLERANCE 0.0
#define VARIANT_SORT SORT_NONE
#define VARIANT_GRAPH GRAPH_NONE
#define VARIANT_HAS_PARAMETER_ARRAYS /* Adam updates plain_values.h's arrays in place */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "checked.h"
#include "kernels/exact_kernels.h"
#include "graph/plain_values.h"
#include "kernels/kernel_path.h"
#include "kernels/sequence_layers.h"
#include "variant.h"

/* One position's activations, per layer where there are layers. */
typedef struct layer_saved {
    double *input, *normed, *query, *key, *value; /* key, value: this position's, the cache */
    double *attention_exp, *attention_weight;     /* [head][position t <= p] */
    double *attention_total;                      /* [head] */
    double *attended, *residual, *normed2, *hidden, *activated, *output;
} layer_saved;

typedef struct position_saved {
    double *embedding, *logits_exp;
    layer_saved *layers;
} position_saved;

static struct {
    model_shape shape;
    exact_constants constants;
    int positions;             /* of the last forward */
    double *inputs_transposed; /* scratch of linear_forward_rows: 8 positions' inputs, 8 x 4 n_embd */
    position_saved *saved;
    double *storage;
    size_t position_bytes; /* activations kept per position */
    /* gradients of activations */
    double *grad_keys, *grad_values; /* [layer][position][n_embd], across positions */
    /* [position][n_embd], [position][4 n_embd] for hidden and activated, [position][vocab] for the logits */
    double *grad_x, *grad_residual, *grad_normed, *grad_query, *grad_attended, *grad_hidden, *grad_activated,
        *grad_logits;
    int *tokens, *targets;             /* [position] */
    rmsnorm_saved *norms;              /* [1 + 2 layers][position]: the embedding's, then each layer's two */
    cross_entropy_saved *losses_saved; /* [position] */
    double *losses;                    /* [position] */
    size_t position_stride;            /* doubles between two positions' saved blocks */
    head_rows rows;                    /* one head's slices, for the kernels */
} floor_state;

/* The weight matrices and their gradients, where parameter_layout.h puts
 * them. */
typedef struct floor_weights {
    const double *wte, *wpe, *lm_head;
    double *grad_wte, *grad_wpe, *grad_lm_head;
} floor_weights;

typedef struct floor_layer_weights {
    const double *wq, *wk, *wv, *wo, *fc1, *fc2;
    double *grad_wq, *grad_wk, *grad_wv, *grad_wo, *grad_fc1, *grad_fc2;
} floor_layer_weights;

static inline size_t floor_offset(int layer, model_matrix matrix)
{
    return model_matrix_offset(&floor_state.shape, layer, matrix);
}

static inline floor_layer_weights floor_layer(int layer)
{
    const double *p = plain_parameters.data;
    double *g = plain_parameters.grad;
    const size_t q = floor_offset(layer, MATRIX_WQ), k = floor_offset(layer, MATRIX_WK);
    const size_t v = floor_offset(layer, MATRIX_WV), o = floor_offset(layer, MATRIX_WO);
    const size_t fc1 = floor_offset(layer, MATRIX_FC1), fc2 = floor_offset(layer, MATRIX_FC2);
    return (floor_layer_weights){p + q, p + k, p + v, p + o, p + fc1, p + fc2,
                                 g + q, g + k, g + v, g + o, g + fc1, g + fc2};
}

static inline floor_weights floor_globals(void)
{
    const double *p = plain_parameters.data;
    double *g = plain_parameters.grad;
    const size_t wte = floor_offset(0, MATRIX_WTE), wpe = floor_offset(0, MATRIX_WPE);
    const size_t lm_head = floor_offset(0, MATRIX_LM_HEAD);
    return (floor_weights){p + wte, p + wpe, p + lm_head, g + wte, g + wpe, g + lm_head};
}

/* Activations kept per position, in doubles (floor_allocate's layout). */
static size_t floor_position_doubles(const model_shape *shape)
{
    const size_t embd = (size_t)shape->n_embd, block = (size_t)shape->block_size, heads = (size_t)shape->n_head;
    const size_t per_layer = 11 * embd + 8 * embd + 2 * heads * block + heads;
    return 2 * embd + (size_t)shape->vocab_size + (size_t)shape->n_layer * per_layer;
}

/* Buffers for the largest step of this shape, made once. */
static void floor_allocate(const model_shape *shape)
{
    if (floor_state.saved)
        return;
    floor_state.shape = *shape;
    floor_state.constants = exact_constants_of(shape->n_embd, shape->n_embd / shape->n_head);
    floor_state.inputs_transposed = malloc_checked((size_t)FORWARD_GROUP * 4 * shape->n_embd * sizeof(double));
    const size_t embd = (size_t)shape->n_embd, block = (size_t)shape->block_size;
    const size_t layers = (size_t)shape->n_layer, vocab = (size_t)shape->vocab_size, heads = (size_t)shape->n_head;
    const size_t per_position = floor_position_doubles(shape);
    floor_state.position_bytes = per_position * sizeof(double);
    floor_state.storage = calloc_checked(block * per_position, sizeof(double));
    floor_state.saved = calloc_checked(block, sizeof *floor_state.saved);
    double *next = floor_state.storage;
#define TAKE(count) (next += (count), next - (count))
    for (size_t p = 0; p < block; p++) {
        position_saved *s = &floor_state.saved[p];
        s->embedding = TAKE(embd);
        s->logits_exp = TAKE(vocab);
        s->layers = calloc_checked(layers, sizeof *s->layers);
        next += embd; /* spare row: keeps every position's block the same size */
        for (size_t l = 0; l < layers; l++) {
            layer_saved *a = &s->layers[l];
            a->input = TAKE(embd), a->normed = TAKE(embd), a->query = TAKE(embd);
            a->key = TAKE(embd), a->value = TAKE(embd), a->attended = TAKE(embd);
            a->residual = TAKE(embd), a->normed2 = TAKE(embd), a->output = TAKE(embd);
            a->hidden = TAKE(4 * embd), a->activated = TAKE(4 * embd);
            a->attention_exp = TAKE(heads * block), a->attention_weight = TAKE(heads * block);
            a->attention_total = TAKE(heads);
            next += 2 * embd;
        }
    }
#undef TAKE
    floor_state.grad_keys = calloc_checked(layers * block * embd, sizeof(double));
    floor_state.grad_values = calloc_checked(layers * block * embd, sizeof(double));
    floor_state.position_stride = per_position;
    floor_state.grad_x = calloc_checked(block * embd, sizeof(double));
    floor_state.grad_residual = calloc_checked(block * embd, sizeof(double));
    floor_state.grad_normed = calloc_checked(block * embd, sizeof(double));
    floor_state.grad_query = calloc_checked(block * embd, sizeof(double));
    floor_state.grad_attended = calloc_checked(block * embd, sizeof(double));
    floor_state.grad_hidden = calloc_checked(block * 4 * embd, sizeof(double));
    floor_state.grad_activated = calloc_checked(block * 4 * embd, sizeof(double));
    floor_state.grad_logits = calloc_checked(block * vocab, sizeof(double));
    floor_state.tokens = calloc_checked(block, sizeof(int));
    floor_state.targets = calloc_checked(block, sizeof(int));
    floor_state.norms = calloc_checked((1 + 2 * layers) * block, sizeof *floor_state.norms);
    floor_state.losses_saved = calloc_checked(block, sizeof *floor_state.losses_saved);
    floor_state.losses = calloc_checked(block, sizeof(double));
    head_rows_allocate(&floor_state.rows, shape->block_size);
}

/* The rmsnorms' saved values: the embedding's (layer -1), or layer l's
 * first or second. */
static inline rmsnorm_saved *floor_norms(int layer, int second)
{
    return floor_state.norms + (size_t)(layer < 0 ? 0 : 1 + 2 * layer + second) * floor_state.shape.block_size;
}

/* The memory of floor_allocate, and the parameters' gradients (variant.h,
 * step_bytes). */
#define VARIANT_HAS_STEP_BYTES
static double variant_step_bytes(const model_shape *shape)
{
    const double embd = shape->n_embd, block = shape->block_size, layers = shape->n_layer;
    const double parameters = (double)model_shape_parameter_count(shape);
    const double scratch = (double)FORWARD_GROUP * 4 * embd;
    const double activations =
        block * ((double)floor_position_doubles(shape) + 2 * layers * embd + 13 * embd + shape->vocab_size + 1) +
        2 * block * sizeof(int) / sizeof(double);
    const double tables = block * (sizeof(position_saved) + layers * sizeof(layer_saved) +
                                   (1 + 2 * layers) * sizeof(rmsnorm_saved) + sizeof(cross_entropy_saved));
    return (parameters + scratch + activations) * sizeof(double) + tables + head_rows_bytes(shape->block_size);
}

/* Layer l's attention over its positions: its rows in the saved blocks. */
static attention_positions floor_attention(int l, int positions)
{
    const model_shape *shape = &floor_state.shape;
    const size_t e = (size_t)shape->n_embd, stride = floor_state.position_stride;
    const size_t layer_rows = (size_t)l * shape->block_size * e;
    layer_saved *first = &floor_state.saved[0].layers[l];
#define SAVED(member) ((position_rows){first->member, stride})
#define ROWS(array) ((position_rows){(array), e})
    return (attention_positions){.query = SAVED(query),
                                 .key = SAVED(key),
                                 .value = SAVED(value),
                                 .out = SAVED(attended),
                                 .grad_query = ROWS(floor_state.grad_query),
                                 .grad_key = ROWS(floor_state.grad_keys + layer_rows),
                                 .grad_value = ROWS(floor_state.grad_values + layer_rows),
                                 .grad_out = ROWS(floor_state.grad_attended),
                                 .exp = SAVED(attention_exp),
                                 .weight = SAVED(attention_weight),
                                 .total = SAVED(attention_total),
                                 .head_stride = (size_t)shape->block_size,
                                 .positions = positions,
                                 .n_head = shape->n_head,
                                 .head_dim = shape->n_embd / shape->n_head,
                                 .inverse_scale = floor_state.constants.inverse_scale};
#undef ROWS
#undef SAVED
}

/* ---- forward ---- */

/* A linear over a step's positions, the positions in the lanes
 * (exact_kernels.h), with floor's scratch. */
#define LINEAR_FORWARD(out, out_stride, w, x, x_stride, positions, n_out, n_in)                                        \
    linear_forward_rows(out, out_stride, w, x, x_stride, positions, n_out, n_in, floor_state.inputs_transposed, wide)

/* Layer l over positions 0..positions-1: each linear once for all of them.
 * wide: the AVX-512 copies' kernels (exact_kernels.h). */
static inline void layer_forward(int l, int positions, int wide)
{
    const int embd = floor_state.shape.n_embd;
    const double inverse_n = floor_state.constants.inverse_n_embd;
    const size_t stride = floor_state.position_stride;
    floor_layer_weights w = floor_layer(l);
    layer_saved *first = &floor_state.saved[0].layers[l];
#define SAVED(member) ((position_rows){first->member, stride})
    rmsnorm_forward_positions(SAVED(normed), SAVED(input), positions, embd, inverse_n, floor_norms(l, 0));
    qkv_forward_positions(SAVED(query), SAVED(key), SAVED(value), w.wq, w.wk, w.wv, SAVED(normed), positions, embd,
                          floor_state.inputs_transposed, wide);
    attention_positions attention = floor_attention(l, positions);
    attention_forward_positions(&attention, &floor_state.rows);
    LINEAR_FORWARD(first->residual, stride, w.wo, first->attended, stride, positions, embd, embd);
    for (int p = 0; p < positions; p++)
        vector_add(position_row(SAVED(residual), p), position_row(SAVED(residual), p), position_row(SAVED(input), p),
                   embd);
    rmsnorm_forward_positions(SAVED(normed2), SAVED(residual), positions, embd, inverse_n, floor_norms(l, 1));
    LINEAR_FORWARD(first->hidden, stride, w.fc1, first->normed2, stride, positions, 4 * embd, embd);
    relu_forward_positions(SAVED(activated), SAVED(hidden), positions, 4 * embd);
    LINEAR_FORWARD(first->output, stride, w.fc2, first->activated, stride, positions, embd, 4 * embd);
    for (int p = 0; p < positions; p++)
        vector_add(position_row(SAVED(output), p), position_row(SAVED(output), p), position_row(SAVED(residual), p),
                   embd);
#undef SAVED
}

static inline double floor_forward(const model_shape *shape, const int *tokens, int positions, int wide)
{
    const int embd = shape->n_embd, vocab = shape->vocab_size, layers = shape->n_layer;
    const size_t stride = floor_state.position_stride;
    floor_weights g = floor_globals();
    floor_state.positions = positions;
    memcpy(floor_state.tokens, tokens, (size_t)positions * sizeof *tokens);
    memcpy(floor_state.targets, tokens + 1, (size_t)positions * sizeof *tokens);
    position_saved *first = &floor_state.saved[0];
    embedding_forward_positions((position_rows){first->embedding, stride}, g.wte, g.wpe, tokens, positions, embd);
    rmsnorm_forward_positions((position_rows){first->layers[0].input, stride},
                              (position_rows){first->embedding, stride}, positions, embd,
                              floor_state.constants.inverse_n_embd, floor_norms(-1, 0));
    for (int l = 0; l < layers; l++) {
        layer_forward(l, positions, wide);
        if (l + 1 < layers)
            for (int p = 0; p < positions; p++)
                memcpy(floor_state.saved[p].layers[l + 1].input, floor_state.saved[p].layers[l].output,
                       (size_t)embd * sizeof(double));
    }
    /* the logits in place of their exps, which cross_entropy_forward writes over them */
    const position_rows logits = {first->logits_exp, stride};
    LINEAR_FORWARD(first->logits_exp, stride, g.lm_head, first->layers[layers - 1].output, stride, positions, vocab,
                   embd);
    cross_entropy_forward_positions(floor_state.losses, logits, logits, floor_state.targets, positions, vocab,
                                    floor_state.losses_saved);
    return mean_forward(floor_state.losses, positions);
}

/* The step's forward and backward, each compiled for AVX-512 (with the
 * kernels' wide forms), AVX2 and the baseline (kernel_path.h). */
KERNEL_PATH_AVX512 static double floor_forward_avx512(const model_shape *shape, const int *tokens, int positions)
{
    return floor_forward(shape, tokens, positions, 1);
}

KERNEL_PATH_AVX2 static double floor_forward_avx2(const model_shape *shape, const int *tokens, int positions)
{
    return floor_forward(shape, tokens, positions, 0);
}

KERNEL_PATH_GENERIC static double floor_forward_generic(const model_shape *shape, const int *tokens, int positions)
{
    return floor_forward(shape, tokens, positions, 0);
}

#define VARIANT_HAS_LOSS
static inline value_t variant_loss(const model_shape *shape, const int *tokens, int positions)
{
    floor_allocate(shape);
    return kernel_path_avx512() ? floor_forward_avx512(shape, tokens, positions)
           : kernel_path_avx2() ? floor_forward_avx2(shape, tokens, positions)
                                : floor_forward_generic(shape, tokens, positions);
}

/* ---- backward: the reference's order (exact_kernels.h) ---- */

/* Layer l over positions last to first. grad_x ([position][n_embd]): in,
 * the gradient of the layer's output; out, of its input. */
static inline void layer_backward(int l, int positions, int wide)
{
    const int embd = floor_state.shape.n_embd;
    const size_t e = (size_t)embd, stride = floor_state.position_stride, n = (size_t)positions;
    const double inverse_n = floor_state.constants.inverse_n_embd;
    floor_layer_weights w = floor_layer(l);
    layer_saved *first = &floor_state.saved[0].layers[l];
    double *grad_x = floor_state.grad_x, *grad_residual = floor_state.grad_residual;
    double *grad_normed = floor_state.grad_normed, *grad_hidden = floor_state.grad_hidden;
    double *grad_activated = floor_state.grad_activated, *grad_attended = floor_state.grad_attended;
    double *grad_query = floor_state.grad_query;
#define SAVED(member) ((position_rows){first->member, stride})
#define ROWS(array, width) ((position_rows){(array), (width)})
    /* output = mlp + residual: both get the output's gradient first */
    memcpy(grad_residual, grad_x, n * e * sizeof(double));
    memset(grad_activated, 0, n * 4 * e * sizeof(double));
    linear_backward_positions(ROWS(grad_activated, 4 * e), w.grad_fc2, w.fc2, SAVED(activated), ROWS(grad_x, e),
                              positions, embd, 4 * embd, NULL, wide);
    memset(grad_hidden, 0, n * 4 * e * sizeof(double));
    relu_backward_positions(ROWS(grad_hidden, 4 * e), ROWS(grad_activated, 4 * e), SAVED(hidden), positions, 4 * embd);
    memset(grad_normed, 0, n * e * sizeof(double));
    linear_backward_positions(ROWS(grad_normed, e), w.grad_fc1, w.fc1, SAVED(normed2), ROWS(grad_hidden, 4 * e),
                              positions, 4 * embd, embd, NULL, wide);
    rmsnorm_backward_positions(ROWS(grad_residual, e), ROWS(grad_normed, e), SAVED(residual), positions, embd,
                               inverse_n, floor_norms(l, 1));
    /* residual = attention projection + input */
    memcpy(grad_x, grad_residual, n * e * sizeof(double));
    memset(grad_attended, 0, n * e * sizeof(double));
    linear_backward_positions(ROWS(grad_attended, e), w.grad_wo, w.wo, SAVED(attended), ROWS(grad_residual, e),
                              positions, embd, embd, NULL, wide);
    memset(grad_query, 0, n * e * sizeof(double));
    attention_positions attention = floor_attention(l, positions);
    attention_backward_positions(&attention, &floor_state.rows);
    memset(grad_normed, 0, n * e * sizeof(double));
    qkv_backward_positions(ROWS(grad_normed, e), SAVED(normed), (linear_weights){w.wq, w.grad_wq},
                           (linear_weights){w.wk, w.grad_wk}, (linear_weights){w.wv, w.grad_wv}, attention.grad_query,
                           attention.grad_key, attention.grad_value, positions, embd, floor_state.shape.n_head, 1,
                           wide);
    rmsnorm_backward_positions(ROWS(grad_x, e), ROWS(grad_normed, e), SAVED(input), positions, embd, inverse_n,
                               floor_norms(l, 0));
#undef ROWS
#undef SAVED
}

static inline graph_size floor_backward(int wide)
{
    const model_shape *shape = &floor_state.shape;
    const int embd = shape->n_embd, vocab = shape->vocab_size, positions = floor_state.positions;
    const size_t e = (size_t)embd, v = (size_t)vocab, stride = floor_state.position_stride;
    const position_saved *first = &floor_state.saved[0];
    floor_weights g = floor_globals();
    memset(floor_state.grad_keys, 0, (size_t)shape->n_layer * shape->block_size * e * sizeof(double));
    memset(floor_state.grad_values, 0, (size_t)shape->n_layer * shape->block_size * e * sizeof(double));
    /* loss = S * (1/n): each position's loss gets (1/n) * 1.0; through its
     * logits into lm_head and the last layer's output */
    double grad_loss = mean_backward(positions, 1.0);
    cross_entropy_backward_positions((position_rows){floor_state.grad_logits, v},
                                     (position_rows){first->logits_exp, stride}, positions, vocab,
                                     floor_state.losses_saved, (position_rows){&grad_loss, 0});
    memset(floor_state.grad_x, 0, (size_t)positions * e * sizeof(double));
    linear_backward_positions((position_rows){floor_state.grad_x, e}, g.grad_lm_head, g.lm_head,
                              (position_rows){first->layers[shape->n_layer - 1].output, stride},
                              (position_rows){floor_state.grad_logits, v}, positions, vocab, embd, floor_state.targets,
                              wide);
    for (int l = shape->n_layer - 1; l >= 0; l--)
        layer_backward(l, positions, wide);
    double *grad_embedding = floor_state.grad_residual;
    memset(grad_embedding, 0, (size_t)positions * e * sizeof(double));
    rmsnorm_backward_positions((position_rows){grad_embedding, e}, (position_rows){floor_state.grad_x, e},
                               (position_rows){first->embedding, stride}, positions, embd,
                               floor_state.constants.inverse_n_embd, floor_norms(-1, 0));
    embedding_backward_positions(g.grad_wte, g.grad_wpe, (position_rows){grad_embedding, e}, floor_state.tokens,
                                 positions, embd);
    /* No graph: no nodes, no edges; the memory is the activations kept. */
    graph_size size = {.bytes = (size_t)positions * floor_state.position_bytes};
    return size;
}

KERNEL_PATH_AVX512 static graph_size floor_backward_avx512(void) { return floor_backward(1); }
KERNEL_PATH_AVX2 static graph_size floor_backward_avx2(void) { return floor_backward(0); }
KERNEL_PATH_GENERIC static graph_size floor_backward_generic(void) { return floor_backward(0); }

static inline graph_size graph_backward(value_t loss)
{
    (void)loss;
    return kernel_path_avx512() ? floor_backward_avx512()
           : kernel_path_avx2() ? floor_backward_avx2()
                                : floor_backward_generic();
}

static inline void graph_release_step(void) {}

static inline void graph_destroy(void)
{
    if (floor_state.saved)
        for (int p = 0; p < floor_state.shape.block_size; p++)
            free(floor_state.saved[p].layers);
    free(floor_state.saved);
    free(floor_state.storage);
    free(floor_state.inputs_transposed);
    plain_parameters_free();
    free(floor_state.grad_keys);
    free(floor_state.grad_values);
    free(floor_state.grad_x);
    free(floor_state.grad_residual);
    free(floor_state.grad_normed);
    free(floor_state.grad_query);
    free(floor_state.grad_attended);
    free(floor_state.grad_hidden);
    free(floor_state.grad_activated);
    free(floor_state.grad_logits);
    free(floor_state.tokens);
    free(floor_state.targets);
    free(floor_state.norms);
    free(floor_state.losses_saved);
    free(floor_state.losses);
    head_rows_free(&floor_state.rows);
    memset(&floor_state, 0, sizeof floor_state);
}
