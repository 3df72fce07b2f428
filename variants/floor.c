/* floor: no graph at all. A hand-derived forward and backward of microgpt
 * over plain arrays (llm.c style: each layer a forward/backward pair), the
 * lower bound the graph strategies are measured against. The kernels, and
 * why they reproduce the reference bit for bit, are in exact_kernels.h; this
 * file calls them in the reference's order: positions last to first, within
 * a position the lm_head, then the layers from the last, then the embedding.
 * The sampling path reuses the shared model code on plain doubles. */
#define VARIANT_DESCRIPTION "no graph: hand-derived forward and backward in the reference's accumulation order"
#define VARIANT_TOLERANCE 0.0
#define VARIANT_SORT SORT_NONE
#define VARIANT_GRAPH GRAPH_NONE

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "checked.h"
#include "graph/exact_kernels.h"
#include "graph/plain_values.h"
#include "variant.h"

/* One position's activations, per layer where there are layers. */
typedef struct layer_saved {
    double *input, *normed, *query, *key, *value; /* key, value: this position's, the cache */
    double *attention_exp, *attention_weight;     /* [head][position t <= p] */
    double *attention_total;                      /* [head] */
    double *attended, *residual, *normed2, *hidden, *activated, *output;
    rmsnorm_saved norm1, norm2;
} layer_saved;

typedef struct position_saved {
    int token;
    double *embedding, *logits_exp;
    rmsnorm_saved norm0;
    cross_entropy_saved loss;
    layer_saved *layers;
} position_saved;

static struct {
    model_shape shape;
    int positions;      /* of the last forward */
    position_saved *saved;
    double *storage;
    size_t position_bytes; /* activations kept per position */
    /* gradients of activations */
    double *grad_keys, *grad_values; /* [layer][position][n_embd], across positions */
    double *grad_x, *grad_residual, *grad_normed, *grad_query, *grad_attended, *grad_hidden, *grad_activated,
        *grad_weights, *grad_exp, *grad_logits;
    const double **key_rows, **value_rows; /* [position]: one head's slices, for the kernels */
    double **grad_key_rows, **grad_value_rows;
} floor_state;

/* The weight matrices and their gradients, where parameter_layout.h puts them. */
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

/* Buffers for the largest step of this shape, made once. */
static void floor_allocate(const model_shape *shape)
{
    if (floor_state.saved)
        return;
    floor_state.shape = *shape;
    const size_t embd = (size_t)shape->n_embd, block = (size_t)shape->block_size, heads = (size_t)shape->n_head;
    const size_t layers = (size_t)shape->n_layer, vocab = (size_t)shape->vocab_size;
    const size_t per_layer = 11 * embd + 8 * embd + 2 * heads * block + heads;
    const size_t per_position = 2 * embd + vocab + layers * per_layer;
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
    floor_state.grad_x = calloc_checked(embd, sizeof(double));
    floor_state.grad_residual = calloc_checked(embd, sizeof(double));
    floor_state.grad_normed = calloc_checked(4 * embd, sizeof(double));
    floor_state.grad_query = calloc_checked(embd, sizeof(double));
    floor_state.grad_attended = calloc_checked(embd, sizeof(double));
    floor_state.grad_hidden = calloc_checked(4 * embd, sizeof(double));
    floor_state.grad_activated = calloc_checked(4 * embd, sizeof(double));
    floor_state.grad_weights = calloc_checked(block, sizeof(double));
    floor_state.grad_exp = calloc_checked(block, sizeof(double));
    floor_state.grad_logits = calloc_checked(vocab, sizeof(double));
    floor_state.key_rows = calloc_checked(block, sizeof *floor_state.key_rows);
    floor_state.value_rows = calloc_checked(block, sizeof *floor_state.value_rows);
    floor_state.grad_key_rows = calloc_checked(block, sizeof *floor_state.grad_key_rows);
    floor_state.grad_value_rows = calloc_checked(block, sizeof *floor_state.grad_value_rows);
}

/* Points the row tables at head h's slices of layer l's keys and values, and
 * of their gradients, for positions 0..position. */
static void floor_head_rows(int l, int h, int position)
{
    const int embd = floor_state.shape.n_embd, head_dim = embd / floor_state.shape.n_head;
    const size_t block = (size_t)floor_state.shape.block_size;
    for (int t = 0; t <= position; t++) {
        const layer_saved *a = &floor_state.saved[t].layers[l];
        size_t offset = ((size_t)l * block + t) * embd + (size_t)h * head_dim;
        floor_state.key_rows[t] = a->key + h * head_dim;
        floor_state.value_rows[t] = a->value + h * head_dim;
        floor_state.grad_key_rows[t] = floor_state.grad_keys + offset;
        floor_state.grad_value_rows[t] = floor_state.grad_values + offset;
    }
}

/* ---- forward ---- */

static void attention_forward(layer_saved *a, int l, int position)
{
    const int heads = floor_state.shape.n_head, block = floor_state.shape.block_size;
    const int head_dim = floor_state.shape.n_embd / heads;
    for (int h = 0; h < heads; h++) {
        floor_head_rows(l, h, position);
        a->attention_total[h] = attention_head_forward(
            a->attended + h * head_dim, a->query + h * head_dim, floor_state.key_rows, floor_state.value_rows,
            position + 1, head_dim, a->attention_exp + (size_t)h * block, a->attention_weight + (size_t)h * block);
    }
}

static void layer_forward(layer_saved *a, int l, int position)
{
    const int embd = floor_state.shape.n_embd;
    floor_layer_weights w = floor_layer(l);
    rmsnorm_forward(a->normed, a->input, embd, &a->norm1);
    linear_forward(a->query, w.wq, a->normed, embd, embd);
    linear_forward(a->key, w.wk, a->normed, embd, embd);
    linear_forward(a->value, w.wv, a->normed, embd, embd);
    attention_forward(a, l, position);
    linear_forward(a->residual, w.wo, a->attended, embd, embd);
    for (int i = 0; i < embd; i++)
        a->residual[i] = a->residual[i] + a->input[i];
    rmsnorm_forward(a->normed2, a->residual, embd, &a->norm2);
    linear_forward(a->hidden, w.fc1, a->normed2, 4 * embd, embd);
    for (int i = 0; i < 4 * embd; i++)
        a->activated[i] = a->hidden[i] > 0.0 ? a->hidden[i] : 0.0;
    linear_forward(a->output, w.fc2, a->activated, embd, 4 * embd);
    for (int i = 0; i < embd; i++)
        a->output[i] = a->output[i] + a->residual[i];
}

#define VARIANT_HAS_LOSS
static inline value_t variant_loss(const model_shape *shape, const int *tokens, int positions)
{
    floor_allocate(shape);
    const int embd = shape->n_embd, vocab = shape->vocab_size, layers = shape->n_layer;
    floor_weights g = floor_globals();
    floor_state.positions = positions;
    double losses_total = 0.0;
    double *logits = floor_state.grad_logits; /* scratch until backward */
    for (int p = 0; p < positions; p++) {
        position_saved *s = &floor_state.saved[p];
        s->token = tokens[p];
        for (int i = 0; i < embd; i++)
            s->embedding[i] = g.wte[(size_t)s->token * embd + i] + g.wpe[(size_t)p * embd + i];
        rmsnorm_forward(s->layers[0].input, s->embedding, embd, &s->norm0);
        for (int l = 0; l < layers; l++) {
            layer_forward(&s->layers[l], l, p);
            if (l + 1 < layers)
                memcpy(s->layers[l + 1].input, s->layers[l].output, (size_t)embd * sizeof(double));
        }
        linear_forward(logits, g.lm_head, s->layers[layers - 1].output, vocab, embd);
        double position_loss = cross_entropy_forward(logits, vocab, tokens[p + 1], s->logits_exp, &s->loss);
        losses_total = p == 0 ? position_loss + 0.0 : losses_total + position_loss;
    }
    return losses_total * (1.0 / (double)positions);
}

/* ---- backward: the reference's order (exact_kernels.h) ---- */

static void attention_backward(const layer_saved *a, int l, int position, const double *grad_attended,
                               double *grad_query)
{
    const int heads = floor_state.shape.n_head, block = floor_state.shape.block_size;
    const int head_dim = floor_state.shape.n_embd / heads;
    for (int h = heads - 1; h >= 0; h--) {
        floor_head_rows(l, h, position);
        attention_head_backward(grad_attended + h * head_dim, a->query + h * head_dim, floor_state.key_rows,
                                floor_state.value_rows, position + 1, head_dim,
                                a->attention_exp + (size_t)h * block, a->attention_weight + (size_t)h * block,
                                a->attention_total[h], grad_query + h * head_dim, floor_state.grad_key_rows,
                                floor_state.grad_value_rows, floor_state.grad_weights, floor_state.grad_exp);
    }
}

/* grad_x: in, the gradient of the layer's output; out, of its input. */
static void layer_backward(const layer_saved *a, int l, int position, double *grad_x)
{
    const int embd = floor_state.shape.n_embd;
    floor_layer_weights w = floor_layer(l);
    double *grad_residual = floor_state.grad_residual, *grad_normed = floor_state.grad_normed;
    double *grad_hidden = floor_state.grad_hidden, *grad_activated = floor_state.grad_activated;
    /* output = mlp + residual: both get the output's gradient first */
    memcpy(grad_residual, grad_x, (size_t)embd * sizeof(double));
    memset(grad_activated, 0, (size_t)4 * embd * sizeof(double));
    linear_backward(grad_activated, w.grad_fc2, w.fc2, a->activated, grad_x, embd, 4 * embd);
    for (int i = 0; i < 4 * embd; i++)
        grad_hidden[i] = (a->hidden[i] > 0.0 ? 1.0 : 0.0) * grad_activated[i];
    memset(grad_normed, 0, (size_t)embd * sizeof(double));
    linear_backward(grad_normed, w.grad_fc1, w.fc1, a->normed2, grad_hidden, 4 * embd, embd);
    rmsnorm_backward(grad_residual, grad_normed, a->residual, embd, &a->norm2);
    /* residual = attention projection + input */
    memcpy(grad_x, grad_residual, (size_t)embd * sizeof(double));
    double *grad_attended = floor_state.grad_attended, *grad_query = floor_state.grad_query;
    memset(grad_attended, 0, (size_t)embd * sizeof(double));
    linear_backward(grad_attended, w.grad_wo, w.wo, a->attended, grad_residual, embd, embd);
    memset(grad_query, 0, (size_t)embd * sizeof(double));
    attention_backward(a, l, position, grad_attended, grad_query);
    memset(grad_normed, 0, (size_t)embd * sizeof(double));
    const size_t at = ((size_t)l * floor_state.shape.block_size + position) * embd;
    qkv_backward(grad_normed, a->normed, (linear_weights){w.wq, w.grad_wq}, (linear_weights){w.wk, w.grad_wk},
                 (linear_weights){w.wv, w.grad_wv}, grad_query, floor_state.grad_keys + at,
                 floor_state.grad_values + at, embd, floor_state.shape.n_head, position == 0);
    rmsnorm_backward(grad_x, grad_normed, a->input, embd, &a->norm1);
}

/* The loss of a position through its logits and lm_head, into the gradient
 * of the last layer's output. */
static void lm_head_backward(const position_saved *s, double grad_loss, double *grad_x)
{
    const int embd = floor_state.shape.n_embd, vocab = floor_state.shape.vocab_size;
    floor_weights g = floor_globals();
    cross_entropy_backward(floor_state.grad_logits, s->logits_exp, vocab, &s->loss, grad_loss);
    memset(grad_x, 0, (size_t)embd * sizeof(double));
    linear_backward_row_last(grad_x, g.grad_lm_head, g.lm_head, s->layers[floor_state.shape.n_layer - 1].output,
                             floor_state.grad_logits, vocab, embd, s->loss.target);
}

static inline graph_size graph_backward(value_t loss)
{
    (void)loss;
    const model_shape *shape = &floor_state.shape;
    const int embd = shape->n_embd, positions = floor_state.positions;
    floor_weights g = floor_globals();
    memset(floor_state.grad_keys, 0, (size_t)shape->n_layer * shape->block_size * embd * sizeof(double));
    memset(floor_state.grad_values, 0, (size_t)shape->n_layer * shape->block_size * embd * sizeof(double));
    /* loss = S * (1/n): each position's loss gets (1/n) * 1.0 */
    const double grad_loss = (1.0 / (double)positions) * 1.0;
    double *grad_x = floor_state.grad_x;
    for (int p = positions - 1; p >= 0; p--) {
        const position_saved *s = &floor_state.saved[p];
        lm_head_backward(s, grad_loss, grad_x);
        for (int l = shape->n_layer - 1; l >= 0; l--)
            layer_backward(&s->layers[l], l, p, grad_x);
        double *grad_embedding = floor_state.grad_residual;
        memset(grad_embedding, 0, (size_t)embd * sizeof(double));
        rmsnorm_backward(grad_embedding, grad_x, s->embedding, embd, &s->norm0);
        for (int i = 0; i < embd; i++) {
            g.grad_wte[(size_t)s->token * embd + i] += grad_embedding[i];
            g.grad_wpe[(size_t)p * embd + i] += grad_embedding[i];
        }
    }
    /* No graph: no nodes, no edges; the memory is the activations kept. */
    graph_size size = {0, 0, (size_t)positions * floor_state.position_bytes};
    return size;
}

static inline void graph_release_step(void) {}

static inline void graph_destroy(void)
{
    if (floor_state.saved)
        for (int p = 0; p < floor_state.shape.block_size; p++)
            free(floor_state.saved[p].layers);
    free(floor_state.saved);
    free(floor_state.storage);
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
    free(floor_state.grad_weights);
    free(floor_state.grad_exp);
    free(floor_state.grad_logits);
    free(floor_state.key_rows);
    free(floor_state.value_rows);
    free(floor_state.grad_key_rows);
    free(floor_state.grad_value_rows);
    memset(&floor_state, 0, sizeof floor_state);
}
