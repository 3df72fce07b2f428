/* coarse_graph.h: a graph of per-position vector operations for `vector`
 * (built every step) and `replay` (captured once per number of positions).
 * A node per embedding, rmsnorm, q/k/v projection, attention head, linear,
 * residual add, relu and cross-entropy of one position, and a mean; the
 * parameter matrices are its leaves. Forward runs the nodes in creation
 * order, backward in reverse: the reference's order of gradients, bit-exact
 * (docs/exact-arithmetic.md). The structure depends only on the number of
 * positions; the tokens and targets are node attributes, set each step. */
#ifndef MICROGPT_COARSE_GRAPH_H
#define MICROGPT_COARSE_GRAPH_H
#ifndef MICROGPT_VARIANT_FILE
#error "engine/graph/coarse_graph.h is a building block for variants: include it only from a variants/<name>.c"
#endif

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "kernels/exact_kernels.h"
#include "kernels/kernel_path.h"
#include "plain_values.h"
#include "variant.h"

typedef enum coarse_op {
    OP_PARAMETER, /* a weight matrix (a leaf) */
    OP_EMBEDDING, /* wte[token] + wpe[position] */
    OP_RMSNORM,
    OP_QKV,       /* q | k | v = (Wq | Wk | Wv) x, one node: its backward interleaves the three */
    OP_ATTENTION, /* one head at one position, over the q/k/v nodes of positions 0..p */
    OP_LINEAR,
    OP_ADD,
    OP_RELU,
    OP_CROSS_ENTROPY, /* -log(softmax(logits)[target]) */
    OP_MEAN           /* (1/n) * sum of the positions' losses */
} coarse_op;

typedef struct coarse_node {
    coarse_op op;
    int length;
    double *out, *grad;
    uint32_t first_input, input_count; /* node ids in the graph's inputs */
    /* the operands, as the op needs them */
    const double *x, *y;
    double *grad_x, *grad_y;
    const double *w, *blocked; /* linear: the weights, and blocked for forward (exact_kernels.h) */
    double *grad_w;
    int rows, columns, last_row; /* linear: last_row contributes last, or -1 */
    int layer, position, head, token;
    uint32_t logits; /* cross-entropy: the lm_head node */
    double *saved;   /* attention: exp and weights; cross-entropy: exp */
    double total;    /* attention: the softmax total */
    rmsnorm_saved norm;
    cross_entropy_saved loss;
} coarse_node;

typedef struct coarse_graph {
    model_shape shape;
    int positions;
    coarse_node *nodes;
    uint32_t *inputs;
    double *arena;
    size_t node_count, node_capacity, input_count, input_capacity, arena_used, arena_capacity;
    uint32_t *qkv_nodes;       /* [layer][position] */
    uint32_t *parameter_nodes; /* [model_matrix_index]: the matrices in creation order */
    uint32_t *head_ids;        /* scratch while building: [head] a layer's attention nodes */
    uint32_t *loss_ids;        /* scratch while building: [position] the cross-entropy nodes */
} coarse_graph;

/* Shared by every graph of the process (one model, one shape): row tables
 * of one head, the kernels' constants, and the linears' weights blocked for
 * forward, which each step's parameter nodes refresh. */
static struct {
    const double **key_rows, **value_rows;
    double **grad_key_rows, **grad_value_rows, *grad_weight, *grad_exp;
    int block_size;
    exact_constants constants;
    double *blocked; /* lm_head, then the layers' matrices in the parameters' order */
} coarse_scratch;

static void coarse_scratch_allocate(const model_shape *shape)
{
    if (!coarse_scratch.blocked) {
        coarse_scratch.constants = exact_constants_of(shape->n_embd, shape->n_embd / shape->n_head);
        coarse_scratch.blocked = malloc_checked(blocked_matrices_size(shape) * sizeof(double));
    }
    const int block_size = shape->block_size;
    if (coarse_scratch.block_size >= block_size)
        return;
    const size_t block = (size_t)block_size;
    coarse_scratch.key_rows = realloc_checked(coarse_scratch.key_rows, block * sizeof *coarse_scratch.key_rows);
    coarse_scratch.value_rows = realloc_checked(coarse_scratch.value_rows, block * sizeof *coarse_scratch.value_rows);
    coarse_scratch.grad_key_rows =
        realloc_checked(coarse_scratch.grad_key_rows, block * sizeof *coarse_scratch.grad_key_rows);
    coarse_scratch.grad_value_rows =
        realloc_checked(coarse_scratch.grad_value_rows, block * sizeof *coarse_scratch.grad_value_rows);
    coarse_scratch.grad_weight = realloc_checked(coarse_scratch.grad_weight, block * sizeof(double));
    coarse_scratch.grad_exp = realloc_checked(coarse_scratch.grad_exp, block * sizeof(double));
    coarse_scratch.block_size = block_size;
}

static void coarse_scratch_free(void)
{
    free(coarse_scratch.key_rows);
    free(coarse_scratch.value_rows);
    free(coarse_scratch.grad_key_rows);
    free(coarse_scratch.grad_value_rows);
    free(coarse_scratch.grad_weight);
    free(coarse_scratch.grad_exp);
    free(coarse_scratch.blocked);
    memset(&coarse_scratch, 0, sizeof coarse_scratch);
}

/* The capacities of a graph of `positions` positions: arena doubles, nodes, inputs. */
static void coarse_graph_capacity(const model_shape *shape, int positions, size_t *arena, size_t *nodes, size_t *inputs)
{
    const size_t embd = (size_t)shape->n_embd, layers = (size_t)shape->n_layer;
    const size_t heads = (size_t)shape->n_head, vocab = (size_t)shape->vocab_size, n = (size_t)positions;
    const size_t per_position_values = 2 * (2 * embd + layers * 24 * embd + vocab + 1) + layers * heads * 2 * n + vocab;
    *arena = n * per_position_values + 16;
    *nodes = n * (4 + layers * (10 + heads)) + 16 + 6 * layers;
    *inputs = n * (8 + layers * (16 + heads * (n + 2))) + n + 16;
}

/* The bytes of one graph of `positions` positions (coarse_graph_init). */
static double coarse_graph_bytes(const model_shape *shape, int positions)
{
    size_t arena, nodes, inputs;
    coarse_graph_capacity(shape, positions, &arena, &nodes, &inputs);
    return (double)arena * sizeof(double) + (double)nodes * sizeof(coarse_node) + (double)inputs * sizeof(uint32_t) +
           ((double)shape->n_layer * shape->block_size + model_matrix_count(shape) + shape->n_head + positions) *
               sizeof(uint32_t);
}

/* The bytes shared by every graph (coarse_scratch) and the parameters'
 * gradients (plain_values.h). */
static double coarse_shared_bytes(const model_shape *shape)
{
    const double blocked = (double)blocked_matrices_size(shape);
    return (blocked + (double)model_shape_parameter_count(shape) + 2.0 * shape->block_size) * sizeof(double) +
           4.0 * shape->block_size * sizeof(double *);
}

/* Room for a step of `positions` positions of this shape. */
static void coarse_graph_init(coarse_graph *g, const model_shape *shape, int positions)
{
    memset(g, 0, sizeof *g);
    g->shape = *shape;
    const size_t block = (size_t)shape->block_size, layers = (size_t)shape->n_layer;
    coarse_graph_capacity(shape, positions, &g->arena_capacity, &g->node_capacity, &g->input_capacity);
    g->arena = malloc_checked(g->arena_capacity * sizeof *g->arena);
    g->nodes = malloc_checked(g->node_capacity * sizeof *g->nodes);
    g->inputs = malloc_checked(g->input_capacity * sizeof *g->inputs);
    g->qkv_nodes = malloc_checked(layers * block * sizeof *g->qkv_nodes);
    g->parameter_nodes = malloc_checked((size_t)model_matrix_count(shape) * sizeof *g->parameter_nodes);
    g->head_ids = malloc_checked((size_t)shape->n_head * sizeof *g->head_ids);
    g->loss_ids = malloc_checked((size_t)positions * sizeof *g->loss_ids);
    coarse_scratch_allocate(shape);
}

static void coarse_graph_free(coarse_graph *g)
{
    free(g->arena);
    free(g->nodes);
    free(g->inputs);
    free(g->qkv_nodes);
    free(g->parameter_nodes);
    free(g->head_ids);
    free(g->loss_ids);
    memset(g, 0, sizeof *g);
}

static inline double *arena_take(coarse_graph *g, size_t count)
{
    assert(g->arena_used + count <= g->arena_capacity);
    double *block = g->arena + g->arena_used;
    g->arena_used += count;
    return block;
}

static inline coarse_node *node_at(coarse_graph *g, uint32_t id) { return &g->nodes[id]; }

/* A node with an output (and gradient) of `length`, or placed by the caller
 * when length is 0. Inputs are recorded right after, with node_input. */
static inline uint32_t node_create(coarse_graph *g, coarse_op op, int length)
{
    assert(g->node_count < g->node_capacity);
    uint32_t id = (uint32_t)g->node_count++;
    coarse_node *n = &g->nodes[id];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->length = length;
    n->last_row = -1;
    n->first_input = (uint32_t)g->input_count;
    if (length > 0) {
        n->out = arena_take(g, (size_t)length);
        n->grad = arena_take(g, (size_t)length);
    }
    return id;
}

static inline void node_input(coarse_graph *g, uint32_t node, uint32_t input)
{
    assert(g->input_count < g->input_capacity);
    assert(g->nodes[node].first_input + g->nodes[node].input_count == g->input_count);
    g->inputs[g->input_count++] = input;
    g->nodes[node].input_count++;
}

/* A linear's blocked weights in coarse_scratch.blocked, NULL for wte, wpe. */
static double *matrix_blocked(const model_shape *s, int index)
{
    if (index == MATRIX_WTE || index == MATRIX_WPE)
        return NULL;
    return coarse_scratch.blocked + blocked_matrix_offset_at(s, index);
}

/* The node of a parameter matrix (parameter_layout.h). */
static inline uint32_t matrix_node(const coarse_graph *g, int layer, model_matrix matrix)
{
    return g->parameter_nodes[model_matrix_index(layer, matrix)];
}

static inline coarse_node *layer_matrix(coarse_graph *g, int layer, model_matrix matrix)
{
    return node_at(g, matrix_node(g, layer, matrix));
}

static inline coarse_node *qkv_at(coarse_graph *g, int layer, int position)
{
    return node_at(g, g->qkv_nodes[(size_t)layer * g->shape.block_size + position]);
}

/* ---- construction: structure only; node_forward computes ---- */

static uint32_t unary_node(coarse_graph *g, coarse_op op, uint32_t input, int length)
{
    uint32_t id = node_create(g, op, length);
    node_input(g, id, input);
    coarse_node *n = node_at(g, id), *in = node_at(g, input);
    n->x = in->out, n->grad_x = in->grad;
    return id;
}

/* A linear over x (with gradient grad_x), which the nodes `producers` made. */
static uint32_t linear_node(coarse_graph *g, coarse_node *matrix, uint32_t matrix_id, int rows, int columns,
                            const double *x, double *grad_x, const uint32_t *producers, int producer_count)
{
    uint32_t id = node_create(g, OP_LINEAR, rows);
    for (int i = 0; i < producer_count; i++)
        node_input(g, id, producers[i]);
    node_input(g, id, matrix_id);
    coarse_node *n = node_at(g, id);
    n->x = x, n->grad_x = grad_x, n->w = matrix->x, n->blocked = matrix->blocked, n->grad_w = matrix->grad_x;
    n->rows = rows, n->columns = columns;
    return id;
}

static uint32_t add_node(coarse_graph *g, uint32_t a, uint32_t b)
{
    uint32_t id = node_create(g, OP_ADD, g->shape.n_embd);
    node_input(g, id, a);
    node_input(g, id, b);
    coarse_node *n = node_at(g, id);
    n->x = node_at(g, a)->out, n->grad_x = node_at(g, a)->grad;
    n->y = node_at(g, b)->out, n->grad_y = node_at(g, b)->grad;
    return id;
}

static uint32_t layer_nodes(coarse_graph *g, uint32_t x, int l, int position)
{
    const int embd = g->shape.n_embd, heads = g->shape.n_head, head_dim = embd / heads;
    uint32_t normed = unary_node(g, OP_RMSNORM, x, embd);
    uint32_t qkv = unary_node(g, OP_QKV, normed, 3 * embd);
    for (model_matrix which = MATRIX_WQ; which <= MATRIX_WV; which++)
        node_input(g, qkv, matrix_node(g, l, which));
    node_at(g, qkv)->layer = l, node_at(g, qkv)->position = position;
    g->qkv_nodes[(size_t)l * g->shape.block_size + position] = qkv;

    /* The heads write their outputs side by side: the attention projection's input. */
    double *attended = arena_take(g, (size_t)embd), *grad_attended = arena_take(g, (size_t)embd);
    uint32_t *head_nodes = g->head_ids;
    for (int h = 0; h < heads; h++) {
        uint32_t id = node_create(g, OP_ATTENTION, 0);
        for (int t = 0; t <= position; t++)
            node_input(g, id, g->qkv_nodes[(size_t)l * g->shape.block_size + t]);
        coarse_node *n = node_at(g, id);
        n->length = head_dim;
        n->out = attended + h * head_dim, n->grad = grad_attended + h * head_dim;
        n->layer = l, n->position = position, n->head = h;
        n->saved = arena_take(g, 2 * (size_t)(position + 1));
        head_nodes[h] = id;
    }
    uint32_t wo = matrix_node(g, l, MATRIX_WO);
    uint32_t projected = linear_node(g, node_at(g, wo), wo, embd, embd, attended, grad_attended, head_nodes, heads);
    uint32_t residual = add_node(g, projected, x);
    uint32_t normed2 = unary_node(g, OP_RMSNORM, residual, embd);
    uint32_t fc1 = matrix_node(g, l, MATRIX_FC1);
    uint32_t hidden = linear_node(g, node_at(g, fc1), fc1, 4 * embd, embd, node_at(g, normed2)->out,
                                  node_at(g, normed2)->grad, &normed2, 1);
    uint32_t activated = unary_node(g, OP_RELU, hidden, 4 * embd);
    uint32_t fc2 = matrix_node(g, l, MATRIX_FC2);
    uint32_t mlp = linear_node(g, node_at(g, fc2), fc2, embd, 4 * embd, node_at(g, activated)->out,
                               node_at(g, activated)->grad, &activated, 1);
    return add_node(g, mlp, residual);
}

/* The graph of a step of `positions` positions over the model's parameters
 * (plain_parameters). Tokens and targets are set by coarse_graph_set_tokens. */
static void coarse_graph_build(coarse_graph *g, int positions)
{
    const model_shape *shape = &g->shape;
    const int embd = shape->n_embd, vocab = shape->vocab_size;
    g->positions = positions;
    g->node_count = g->input_count = g->arena_used = 0;
    for (int matrix = 0; matrix < model_matrix_count(shape); matrix++) {
        uint32_t id = node_create(g, OP_PARAMETER, 0);
        size_t at = model_matrix_offset_at(shape, matrix);
        node_at(g, id)->x = plain_parameters.data + at; /* a leaf's x and grad_x are its matrix */
        node_at(g, id)->grad_x = plain_parameters.grad + at;
        node_at(g, id)->blocked = matrix_blocked(shape, matrix);
        model_matrix_size(shape, matrix, &node_at(g, id)->rows, &node_at(g, id)->columns);
        g->parameter_nodes[matrix] = id;
    }
    uint32_t *losses = g->loss_ids;
    for (int p = 0; p < positions; p++) {
        uint32_t embedding = node_create(g, OP_EMBEDDING, embd);
        node_input(g, embedding, matrix_node(g, 0, MATRIX_WTE));
        node_input(g, embedding, matrix_node(g, 0, MATRIX_WPE));
        node_at(g, embedding)->position = p;
        uint32_t x = unary_node(g, OP_RMSNORM, embedding, embd);
        for (int l = 0; l < shape->n_layer; l++)
            x = layer_nodes(g, x, l, p);
        uint32_t lm_head = matrix_node(g, 0, MATRIX_LM_HEAD);
        uint32_t logits =
            linear_node(g, node_at(g, lm_head), lm_head, vocab, embd, node_at(g, x)->out, node_at(g, x)->grad, &x, 1);
        uint32_t loss = unary_node(g, OP_CROSS_ENTROPY, logits, 1);
        node_at(g, loss)->logits = logits, node_at(g, loss)->position = p;
        node_at(g, loss)->saved = arena_take(g, (size_t)vocab);
        losses[p] = loss;
    }
    uint32_t mean = node_create(g, OP_MEAN, 1);
    for (int p = 0; p < positions; p++)
        node_input(g, mean, losses[p]);
}

/* The step's tokens: embeddings read tokens[p], the losses target
 * tokens[p + 1], whose lm_head row the reference's search enters first, so
 * its contribution comes last. */
static void coarse_graph_set_tokens(coarse_graph *g, const int *tokens)
{
    for (size_t id = 0; id < g->node_count; id++) {
        coarse_node *n = &g->nodes[id];
        if (n->op == OP_EMBEDDING)
            n->token = tokens[n->position];
        else if (n->op == OP_CROSS_ENTROPY) {
            n->loss.target = tokens[n->position + 1];
            node_at(g, n->logits)->last_row = n->loss.target;
        }
    }
}

/* Points the row tables at head h's slices of the keys and values (and
 * their gradients) of layer l's q/k/v nodes at positions 0..position. */
static void head_rows(coarse_graph *g, int l, int h, int position)
{
    const int embd = g->shape.n_embd, head_dim = embd / g->shape.n_head;
    for (int t = 0; t <= position; t++) {
        coarse_node *qkv = qkv_at(g, l, t);
        coarse_scratch.key_rows[t] = qkv->out + embd + h * head_dim;
        coarse_scratch.value_rows[t] = qkv->out + 2 * embd + h * head_dim;
        coarse_scratch.grad_key_rows[t] = qkv->grad + embd + h * head_dim;
        coarse_scratch.grad_value_rows[t] = qkv->grad + 2 * embd + h * head_dim;
    }
}

static void node_forward(coarse_graph *g, coarse_node *n)
{
    const model_shape *shape = &g->shape;
    const int embd = shape->n_embd;
    if (n->length > 0)
        memset(n->grad, 0, (size_t)n->length * sizeof *n->grad);
    switch (n->op) {
    case OP_PARAMETER: /* the weights changed in Adam: block them again */
        if (n->blocked)
            linear_block_weights((double *)n->blocked, n->x, n->rows, n->columns);
        break;
    case OP_EMBEDDING: {
        const double *wte = layer_matrix(g, 0, MATRIX_WTE)->x + (size_t)n->token * embd;
        const double *wpe = layer_matrix(g, 0, MATRIX_WPE)->x + (size_t)n->position * embd;
        vector_add(n->out, wte, wpe, embd);
        break;
    }
    case OP_RMSNORM: rmsnorm_forward(n->out, n->x, n->length, coarse_scratch.constants.inverse_n_embd, &n->norm); break;
    case OP_QKV:
        for (model_matrix which = MATRIX_WQ; which <= MATRIX_WV; which++)
            linear_forward(n->out + (which - MATRIX_WQ) * embd, layer_matrix(g, n->layer, which)->blocked, n->x, embd,
                           embd);
        break;
    case OP_ATTENTION: {
        const int head_dim = embd / shape->n_head, positions = n->position + 1;
        head_rows(g, n->layer, n->head, n->position);
        n->total = attention_head_forward(n->out, qkv_at(g, n->layer, n->position)->out + n->head * head_dim,
                                          coarse_scratch.key_rows, coarse_scratch.value_rows, positions, head_dim,
                                          coarse_scratch.constants.inverse_scale, n->saved, n->saved + positions);
        break;
    }
    case OP_LINEAR: linear_forward(n->out, n->blocked, n->x, n->rows, n->columns); break;
    case OP_ADD: vector_add(n->out, n->x, n->y, n->length); break;
    case OP_RELU:
        for (int i = 0; i < n->length; i++)
            n->out[i] = n->x[i] > 0.0 ? n->x[i] : 0.0;
        break;
    case OP_CROSS_ENTROPY:
        n->out[0] = cross_entropy_forward(n->x, shape->vocab_size, n->loss.target, n->saved, &n->loss);
        break;
    case OP_MEAN: {
        double total = 0.0;
        for (uint32_t i = 0; i < n->input_count; i++) {
            double loss = node_at(g, g->inputs[n->first_input + i])->out[0];
            total = i == 0 ? loss + 0.0 : total + loss;
        }
        n->out[0] = total * (1.0 / (double)n->input_count);
        break;
    }
    }
}

static void node_backward(coarse_graph *g, coarse_node *n)
{
    const model_shape *shape = &g->shape;
    const int embd = shape->n_embd;
    switch (n->op) {
    case OP_PARAMETER: break;
    case OP_EMBEDDING: {
        double *wte = layer_matrix(g, 0, MATRIX_WTE)->grad_x + (size_t)n->token * embd;
        double *wpe = layer_matrix(g, 0, MATRIX_WPE)->grad_x + (size_t)n->position * embd;
        vector_add(wte, wte, n->grad, embd);
        vector_add(wpe, wpe, n->grad, embd);
        break;
    }
    case OP_RMSNORM:
        rmsnorm_backward(n->grad_x, n->grad, n->x, n->length, coarse_scratch.constants.inverse_n_embd, &n->norm);
        break;
    case OP_QKV: {
        coarse_node *q = layer_matrix(g, n->layer, MATRIX_WQ), *k = layer_matrix(g, n->layer, MATRIX_WK);
        coarse_node *v = layer_matrix(g, n->layer, MATRIX_WV);
        qkv_backward(n->grad_x, n->x, (linear_weights){q->x, q->grad_x}, (linear_weights){k->x, k->grad_x},
                     (linear_weights){v->x, v->grad_x}, n->grad, n->grad + embd, n->grad + 2 * embd, embd,
                     shape->n_head, n->position == 0);
        break;
    }
    case OP_ATTENTION: {
        const int head_dim = embd / shape->n_head, positions = n->position + 1;
        coarse_node *qkv = qkv_at(g, n->layer, n->position);
        head_rows(g, n->layer, n->head, n->position);
        attention_head_backward(n->grad, qkv->out + n->head * head_dim, coarse_scratch.key_rows,
                                coarse_scratch.value_rows, positions, head_dim, coarse_scratch.constants.inverse_scale,
                                n->saved, n->saved + positions, n->total, qkv->grad + n->head * head_dim,
                                coarse_scratch.grad_key_rows, coarse_scratch.grad_value_rows,
                                coarse_scratch.grad_weight, coarse_scratch.grad_exp);
        break;
    }
    case OP_LINEAR: linear_backward(n->grad_x, n->grad_w, n->w, n->x, n->grad, n->rows, n->columns, n->last_row); break;
    case OP_ADD:
        vector_add(n->grad_x, n->grad_x, n->grad, n->length);
        vector_add(n->grad_y, n->grad_y, n->grad, n->length);
        break;
    case OP_RELU:
        for (int i = 0; i < n->length; i++)
            n->grad_x[i] += (n->x[i] > 0.0 ? 1.0 : 0.0) * n->grad[i];
        break;
    case OP_CROSS_ENTROPY: cross_entropy_backward(n->grad_x, n->saved, shape->vocab_size, &n->loss, n->grad[0]); break;
    case OP_MEAN: {
        /* loss = S * (1/n): each position's loss gets (1/n) * d loss */
        const double share = (1.0 / (double)n->input_count) * n->grad[0];
        for (uint32_t i = 0; i < n->input_count; i++)
            node_at(g, g->inputs[n->first_input + i])->grad[0] += share;
        break;
    }
    }
}

/* Forward over every node in creation order; returns the step's loss. The
 * walks are compiled for AVX2 and for the baseline (kernel_path.h). */
static inline double coarse_graph_walk_forward(coarse_graph *g)
{
    for (size_t id = 0; id < g->node_count; id++)
        node_forward(g, &g->nodes[id]);
    return g->nodes[g->node_count - 1].out[0];
}

KERNEL_PATH_AVX2 static double coarse_graph_forward_avx2(coarse_graph *g) { return coarse_graph_walk_forward(g); }
KERNEL_PATH_GENERIC static double coarse_graph_forward_generic(coarse_graph *g) { return coarse_graph_walk_forward(g); }

static double coarse_graph_forward(coarse_graph *g)
{
    return kernel_path_avx2() ? coarse_graph_forward_avx2(g) : coarse_graph_forward_generic(g);
}

/* Backward in reverse creation order, from d loss = 1. */
static inline void coarse_graph_walk_backward(coarse_graph *g)
{
    g->nodes[g->node_count - 1].grad[0] = 1.0;
    for (size_t id = g->node_count; id-- > 0;)
        node_backward(g, &g->nodes[id]);
}

KERNEL_PATH_AVX2 static void coarse_graph_backward_avx2(coarse_graph *g) { coarse_graph_walk_backward(g); }
KERNEL_PATH_GENERIC static void coarse_graph_backward_generic(coarse_graph *g) { coarse_graph_walk_backward(g); }

static graph_size coarse_graph_backward(coarse_graph *g)
{
    graph_size size = {.nodes = g->node_count,
                       .edges = g->input_count,
                       .bytes = g->arena_used * sizeof(double) + g->node_count * sizeof(coarse_node) +
                                g->input_count * sizeof(uint32_t)};
    if (kernel_path_avx2())
        coarse_graph_backward_avx2(g);
    else
        coarse_graph_backward_generic(g);
    return size;
}

#endif
