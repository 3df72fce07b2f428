/* vector: a graph of coarse nodes, one per vector operation.
 *
 * Each step builds a small graph in an arena: per position an embedding, an
 * rmsnorm, per layer an rmsnorm, one q/k/v projection, one node per
 * attention head, a linear, a residual add, an rmsnorm, two linears around a
 * relu and a residual add, then the lm_head linear and a cross-entropy; a
 * mean over positions ends it. The parameter matrices are its leaves. A node
 * holds its output vector and gradient, and its backward is hand-written
 * (exact_kernels.h). Nodes are created after their inputs, so backward walks
 * them in reverse creation order, which is also the order in which the
 * reference's gradients arrive (see exact_kernels.h): bit-exact, with a
 * graph of about a hundred nodes per step instead of tens of thousands.
 * The sampling path reuses the shared model code on plain doubles. */
#define VARIANT_DESCRIPTION "coarse graph: one node per vector operation, hand-written local backward"
#define VARIANT_TOLERANCE 0.0

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "checked.h"
#include "exact_kernels.h"
#include "plain_values.h"
#include "variant.h"

typedef enum vector_op {
    OP_PARAMETER,     /* a weight matrix (a leaf) */
    OP_EMBEDDING,     /* wte[token] + wpe[position] */
    OP_RMSNORM,
    OP_QKV,           /* q | k | v = (Wq | Wk | Wv) x, one node: its backward interleaves the three */
    OP_ATTENTION,     /* one head at one position, over the q/k/v nodes of positions 0..p */
    OP_LINEAR,
    OP_ADD,
    OP_RELU,
    OP_CROSS_ENTROPY, /* -log(softmax(logits)[target]) */
    OP_MEAN           /* (1/n) * sum of the positions' losses */
} vector_op;

typedef struct vector_node {
    vector_op op;
    int length;
    double *out, *grad;
    uint32_t first_input, input_count; /* node ids in vector_graph.inputs */
    /* the operands, as the op needs them */
    const double *x, *y;
    double *grad_x, *grad_y;
    const double *w;
    double *grad_w;
    int rows, columns, last_row;  /* linear: last_row contributes last, or -1 */
    int layer, position, head, token;
    double *saved;                /* attention: exp and weights; cross-entropy: exp */
    double total;                 /* attention: the softmax total */
    rmsnorm_saved norm;
    cross_entropy_saved loss;
} vector_node;

static struct {
    model_shape shape;
    vector_node *nodes;
    uint32_t *inputs;
    double *arena;
    size_t node_count, node_capacity, input_count, input_capacity, arena_used, arena_capacity;
    uint32_t *qkv_nodes;       /* [layer][position] */
    uint32_t *parameter_nodes; /* wte, wpe, lm_head, then per layer wq, wk, wv, wo, fc1, fc2 */
    const double **key_rows, **value_rows;
    double **grad_key_rows, **grad_value_rows, *grad_weight, *grad_exp;
} vector_graph;

/* Arena bounds for the longest step of this shape, set once. */
static void vector_allocate(const model_shape *shape)
{
    if (vector_graph.nodes)
        return;
    vector_graph.shape = *shape;
    const size_t embd = (size_t)shape->n_embd, block = (size_t)shape->block_size, layers = (size_t)shape->n_layer;
    const size_t heads = (size_t)shape->n_head, vocab = (size_t)shape->vocab_size;
    const size_t per_position_values = 2 * (2 * embd + layers * 24 * embd + vocab + 1) + layers * heads * 2 * block + vocab;
    vector_graph.arena_capacity = block * per_position_values + 16;
    vector_graph.node_capacity = block * (4 + layers * (10 + heads)) + 16 + 6 * layers;
    vector_graph.input_capacity = block * (8 + layers * (16 + heads * (block + 2))) + block + 16;
    vector_graph.arena = malloc_checked(vector_graph.arena_capacity * sizeof *vector_graph.arena);
    vector_graph.nodes = malloc_checked(vector_graph.node_capacity * sizeof *vector_graph.nodes);
    vector_graph.inputs = malloc_checked(vector_graph.input_capacity * sizeof *vector_graph.inputs);
    vector_graph.qkv_nodes = malloc_checked(layers * block * sizeof *vector_graph.qkv_nodes);
    vector_graph.parameter_nodes = malloc_checked((3 + 6 * layers) * sizeof *vector_graph.parameter_nodes);
    vector_graph.key_rows = malloc_checked(block * sizeof *vector_graph.key_rows);
    vector_graph.value_rows = malloc_checked(block * sizeof *vector_graph.value_rows);
    vector_graph.grad_key_rows = malloc_checked(block * sizeof *vector_graph.grad_key_rows);
    vector_graph.grad_value_rows = malloc_checked(block * sizeof *vector_graph.grad_value_rows);
    vector_graph.grad_weight = malloc_checked(block * sizeof *vector_graph.grad_weight);
    vector_graph.grad_exp = malloc_checked(block * sizeof *vector_graph.grad_exp);
}

static inline double *arena_take(size_t count, int zeroed)
{
    assert(vector_graph.arena_used + count <= vector_graph.arena_capacity);
    double *block = vector_graph.arena + vector_graph.arena_used;
    vector_graph.arena_used += count;
    if (zeroed)
        memset(block, 0, count * sizeof *block);
    return block;
}

/* A node with an output of `length` (and a zeroed gradient), unless the
 * caller places it (length 0 here). */
static inline uint32_t node_create(vector_op op, int length)
{
    assert(vector_graph.node_count < vector_graph.node_capacity);
    uint32_t id = (uint32_t)vector_graph.node_count++;
    vector_node *n = &vector_graph.nodes[id];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->length = length;
    n->last_row = -1;
    n->first_input = (uint32_t)vector_graph.input_count;
    if (length > 0) {
        n->out = arena_take((size_t)length, 0);
        n->grad = arena_take((size_t)length, 1);
    }
    return id;
}

/* Inputs are recorded right after their node is created. */
static inline void node_input(uint32_t node, uint32_t input)
{
    assert(vector_graph.input_count < vector_graph.input_capacity);
    assert(vector_graph.nodes[node].first_input + vector_graph.nodes[node].input_count == vector_graph.input_count);
    vector_graph.inputs[vector_graph.input_count++] = input;
    vector_graph.nodes[node].input_count++;
}

static inline vector_node *node_at(uint32_t id) { return &vector_graph.nodes[id]; }

/* ---- the parameter layout of the spec's table (model.c creates it so) ---- */

enum { PARAMETER_WTE, PARAMETER_WPE, PARAMETER_LM_HEAD, PARAMETER_LAYERS };
enum { LAYER_WQ, LAYER_WK, LAYER_WV, LAYER_WO, LAYER_FC1, LAYER_FC2 };

static size_t parameter_offset(int matrix)
{
    const model_shape *s = &vector_graph.shape;
    size_t embd = (size_t)s->n_embd, vocab = (size_t)s->vocab_size, block = (size_t)s->block_size;
    if (matrix < PARAMETER_LAYERS)
        return matrix == PARAMETER_WTE ? 0 : matrix == PARAMETER_WPE ? vocab * embd : vocab * embd + block * embd;
    int layer = (matrix - PARAMETER_LAYERS) / 6, which = (matrix - PARAMETER_LAYERS) % 6;
    size_t at = 2 * vocab * embd + block * embd + (size_t)layer * 12 * embd * embd;
    static const size_t squares_before[6] = {0, 1, 2, 3, 4, 8};
    return at + squares_before[which] * embd * embd;
}

static inline uint32_t layer_matrix(int layer, int which)
{
    return vector_graph.parameter_nodes[PARAMETER_LAYERS + 6 * layer + which];
}

/* ---- node constructors: forward values computed on creation ---- */

static uint32_t rmsnorm_node(uint32_t input)
{
    const int embd = vector_graph.shape.n_embd;
    uint32_t id = node_create(OP_RMSNORM, embd);
    node_input(id, input);
    vector_node *n = node_at(id), *in = node_at(input);
    n->x = in->out, n->grad_x = in->grad;
    rmsnorm_forward(n->out, n->x, embd, &n->norm);
    return id;
}

/* A linear over x (with gradient grad_x), which the nodes `producers` made. */
static uint32_t linear_node(uint32_t matrix, int rows, int columns, const double *x, double *grad_x,
                            const uint32_t *producers, int producer_count)
{
    uint32_t id = node_create(OP_LINEAR, rows);
    for (int i = 0; i < producer_count; i++)
        node_input(id, producers[i]);
    node_input(id, matrix);
    vector_node *n = node_at(id), *weights = node_at(matrix);
    n->x = x, n->grad_x = grad_x, n->w = weights->x, n->grad_w = weights->grad_x;
    n->rows = rows, n->columns = columns;
    linear_forward(n->out, n->w, x, rows, columns);
    return id;
}

static uint32_t add_node(uint32_t a, uint32_t b)
{
    const int embd = vector_graph.shape.n_embd;
    uint32_t id = node_create(OP_ADD, embd);
    node_input(id, a);
    node_input(id, b);
    vector_node *n = node_at(id);
    n->x = node_at(a)->out, n->grad_x = node_at(a)->grad;
    n->y = node_at(b)->out, n->grad_y = node_at(b)->grad;
    for (int i = 0; i < embd; i++)
        n->out[i] = n->x[i] + n->y[i];
    return id;
}

/* Points the row tables at head h's slices of the keys and values (and
 * their gradients) of layer l's q/k/v nodes at positions 0..position. */
static void head_rows(int l, int h, int position)
{
    const int embd = vector_graph.shape.n_embd, head_dim = embd / vector_graph.shape.n_head;
    for (int t = 0; t <= position; t++) {
        vector_node *qkv = node_at(vector_graph.qkv_nodes[(size_t)l * vector_graph.shape.block_size + t]);
        vector_graph.key_rows[t] = qkv->out + embd + h * head_dim;
        vector_graph.value_rows[t] = qkv->out + 2 * embd + h * head_dim;
        vector_graph.grad_key_rows[t] = qkv->grad + embd + h * head_dim;
        vector_graph.grad_value_rows[t] = qkv->grad + 2 * embd + h * head_dim;
    }
}

/* One transformer layer at one position; returns the node of its output. */
static uint32_t layer_nodes(uint32_t x, int l, int position)
{
    const int embd = vector_graph.shape.n_embd, heads = vector_graph.shape.n_head, head_dim = embd / heads;
    uint32_t normed = rmsnorm_node(x);
    uint32_t qkv = node_create(OP_QKV, 3 * embd);
    node_input(qkv, normed);
    for (int which = LAYER_WQ; which <= LAYER_WV; which++)
        node_input(qkv, layer_matrix(l, which));
    vector_node *projection = node_at(qkv);
    projection->x = node_at(normed)->out, projection->grad_x = node_at(normed)->grad;
    projection->layer = l, projection->position = position;
    for (int which = LAYER_WQ; which <= LAYER_WV; which++)
        linear_forward(projection->out + which * embd, node_at(layer_matrix(l, which))->x, projection->x, embd, embd);
    vector_graph.qkv_nodes[(size_t)l * vector_graph.shape.block_size + position] = qkv;

    /* The heads write their outputs side by side: the attention projection's input. */
    double *attended = arena_take((size_t)embd, 0), *grad_attended = arena_take((size_t)embd, 1);
    uint32_t head_nodes[64];
    assert(heads <= 64);
    for (int h = 0; h < heads; h++) {
        uint32_t id = node_create(OP_ATTENTION, 0);
        for (int t = 0; t <= position; t++)
            node_input(id, vector_graph.qkv_nodes[(size_t)l * vector_graph.shape.block_size + t]);
        vector_node *n = node_at(id);
        n->length = head_dim;
        n->out = attended + h * head_dim, n->grad = grad_attended + h * head_dim;
        n->layer = l, n->position = position, n->head = h;
        n->saved = arena_take(2 * (size_t)(position + 1), 0);
        head_rows(l, h, position);
        n->total = attention_head_forward(n->out, node_at(qkv)->out + h * head_dim, vector_graph.key_rows,
                                          vector_graph.value_rows, position + 1, head_dim, n->saved,
                                          n->saved + position + 1);
        head_nodes[h] = id;
    }
    uint32_t projected = linear_node(layer_matrix(l, LAYER_WO), embd, embd, attended, grad_attended, head_nodes, heads);
    uint32_t residual = add_node(projected, x);
    uint32_t normed2 = rmsnorm_node(residual);
    uint32_t hidden = linear_node(layer_matrix(l, LAYER_FC1), 4 * embd, embd, node_at(normed2)->out,
                                  node_at(normed2)->grad, &normed2, 1);
    uint32_t activated = node_create(OP_RELU, 4 * embd);
    node_input(activated, hidden);
    vector_node *relu = node_at(activated);
    relu->x = node_at(hidden)->out, relu->grad_x = node_at(hidden)->grad;
    for (int i = 0; i < 4 * embd; i++)
        relu->out[i] = relu->x[i] > 0.0 ? relu->x[i] : 0.0;
    uint32_t mlp = linear_node(layer_matrix(l, LAYER_FC2), embd, 4 * embd, relu->out, relu->grad, &activated, 1);
    return add_node(mlp, residual);
}

#define VARIANT_HAS_LOSS
static inline value_t variant_loss(const model_shape *shape, const int *tokens, int positions)
{
    vector_allocate(shape);
    vector_graph.node_count = vector_graph.input_count = vector_graph.arena_used = 0;
    const int embd = shape->n_embd, vocab = shape->vocab_size;
    /* The leaves: x and grad_x of a parameter node are its matrix. */
    for (int matrix = 0; matrix < PARAMETER_LAYERS + 6 * shape->n_layer; matrix++) {
        uint32_t id = node_create(OP_PARAMETER, 0);
        size_t at = parameter_offset(matrix);
        node_at(id)->x = plain_parameters.data + at;
        node_at(id)->grad_x = plain_parameters.grad + at;
        vector_graph.parameter_nodes[matrix] = id;
    }
    uint32_t losses[1024];
    assert(positions <= 1024);
    for (int p = 0; p < positions; p++) {
        uint32_t embedding = node_create(OP_EMBEDDING, embd);
        node_input(embedding, vector_graph.parameter_nodes[PARAMETER_WTE]);
        node_input(embedding, vector_graph.parameter_nodes[PARAMETER_WPE]);
        vector_node *e = node_at(embedding);
        e->token = tokens[p], e->position = p;
        const double *wte = node_at(vector_graph.parameter_nodes[PARAMETER_WTE])->x + (size_t)tokens[p] * embd;
        const double *wpe = node_at(vector_graph.parameter_nodes[PARAMETER_WPE])->x + (size_t)p * embd;
        for (int i = 0; i < embd; i++)
            e->out[i] = wte[i] + wpe[i];
        uint32_t x = rmsnorm_node(embedding);
        for (int l = 0; l < shape->n_layer; l++)
            x = layer_nodes(x, l, p);
        uint32_t logits = linear_node(vector_graph.parameter_nodes[PARAMETER_LM_HEAD], vocab, embd, node_at(x)->out,
                                      node_at(x)->grad, &x, 1);
        uint32_t loss = node_create(OP_CROSS_ENTROPY, 1);
        node_input(loss, logits);
        vector_node *c = node_at(loss);
        c->saved = arena_take((size_t)vocab, 0);
        c->out[0] = cross_entropy_forward(node_at(logits)->out, vocab, tokens[p + 1], c->saved, &c->loss);
        /* The reference's search enters the logits through the target's. */
        node_at(logits)->last_row = tokens[p + 1];
        losses[p] = loss;
    }
    uint32_t mean = node_create(OP_MEAN, 1);
    double total = 0.0;
    for (int p = 0; p < positions; p++) {
        node_input(mean, losses[p]);
        total = p == 0 ? node_at(losses[p])->out[0] + 0.0 : total + node_at(losses[p])->out[0];
    }
    node_at(mean)->out[0] = total * (1.0 / (double)positions);
    return node_at(mean)->out[0];
}

/* ---- backward: every node once, in reverse creation order ---- */

static void node_backward(vector_node *n)
{
    const model_shape *shape = &vector_graph.shape;
    const int embd = shape->n_embd;
    switch (n->op) {
    case OP_PARAMETER:
        break;
    case OP_EMBEDDING: {
        double *wte = node_at(vector_graph.parameter_nodes[PARAMETER_WTE])->grad_x + (size_t)n->token * embd;
        double *wpe = node_at(vector_graph.parameter_nodes[PARAMETER_WPE])->grad_x + (size_t)n->position * embd;
        for (int i = 0; i < embd; i++) {
            wte[i] += n->grad[i];
            wpe[i] += n->grad[i];
        }
        break;
    }
    case OP_RMSNORM:
        rmsnorm_backward(n->grad_x, n->grad, n->x, n->length, &n->norm);
        break;
    case OP_QKV: {
        const double *const *matrices = (const double *const[]){
            node_at(layer_matrix(n->layer, LAYER_WQ))->x, node_at(layer_matrix(n->layer, LAYER_WK))->x,
            node_at(layer_matrix(n->layer, LAYER_WV))->x};
        double *const *grads = (double *const[]){node_at(layer_matrix(n->layer, LAYER_WQ))->grad_x,
                                                 node_at(layer_matrix(n->layer, LAYER_WK))->grad_x,
                                                 node_at(layer_matrix(n->layer, LAYER_WV))->grad_x};
        qkv_backward(n->grad_x, n->x, (linear_weights){matrices[0], grads[0]}, (linear_weights){matrices[1], grads[1]},
                     (linear_weights){matrices[2], grads[2]}, n->grad, n->grad + embd, n->grad + 2 * embd, embd,
                     shape->n_head, n->position == 0);
        break;
    }
    case OP_ATTENTION: {
        const int head_dim = embd / shape->n_head, positions = n->position + 1;
        vector_node *qkv = node_at(vector_graph.qkv_nodes[(size_t)n->layer * shape->block_size + n->position]);
        head_rows(n->layer, n->head, n->position);
        attention_head_backward(n->grad, qkv->out + n->head * head_dim, vector_graph.key_rows, vector_graph.value_rows,
                                positions, head_dim, n->saved, n->saved + positions, n->total,
                                qkv->grad + n->head * head_dim, vector_graph.grad_key_rows,
                                vector_graph.grad_value_rows, vector_graph.grad_weight, vector_graph.grad_exp);
        break;
    }
    case OP_LINEAR:
        if (n->last_row >= 0)
            linear_backward_row_last(n->grad_x, n->grad_w, n->w, n->x, n->grad, n->rows, n->columns, n->last_row);
        else
            linear_backward(n->grad_x, n->grad_w, n->w, n->x, n->grad, n->rows, n->columns);
        break;
    case OP_ADD:
        for (int i = 0; i < n->length; i++) {
            n->grad_x[i] += n->grad[i];
            n->grad_y[i] += n->grad[i];
        }
        break;
    case OP_RELU:
        for (int i = 0; i < n->length; i++)
            n->grad_x[i] += (n->x[i] > 0.0 ? 1.0 : 0.0) * n->grad[i];
        break;
    case OP_CROSS_ENTROPY: {
        vector_node *logits = node_at(vector_graph.inputs[n->first_input]);
        cross_entropy_backward(logits->grad, n->saved, shape->vocab_size, &n->loss, n->grad[0]);
        break;
    }
    case OP_MEAN: {
        /* loss = S * (1/n): each position's loss gets (1/n) * d loss */
        const double share = (1.0 / (double)n->input_count) * n->grad[0];
        for (uint32_t i = 0; i < n->input_count; i++)
            node_at(vector_graph.inputs[n->first_input + i])->grad[0] += share;
        break;
    }
    }
}

static inline graph_size graph_backward(value_t loss)
{
    (void)loss;
    graph_size size = {vector_graph.node_count, vector_graph.input_count,
                       vector_graph.arena_used * sizeof(double) + vector_graph.node_count * sizeof(vector_node) +
                           vector_graph.input_count * sizeof(uint32_t)};
    node_at((uint32_t)vector_graph.node_count - 1)->grad[0] = 1.0;
    for (size_t id = vector_graph.node_count; id-- > 0;)
        node_backward(node_at((uint32_t)id));
    return size;
}

static inline void graph_release_step(void) { vector_graph.node_count = vector_graph.input_count = vector_graph.arena_used = 0; }

static inline void graph_destroy(void)
{
    plain_parameters_free();
    free(vector_graph.nodes);
    free(vector_graph.inputs);
    free(vector_graph.arena);
    free(vector_graph.qkv_nodes);
    free(vector_graph.parameter_nodes);
    free(vector_graph.key_rows);
    free(vector_graph.value_rows);
    free(vector_graph.grad_key_rows);
    free(vector_graph.grad_value_rows);
    free(vector_graph.grad_weight);
    free(vector_graph.grad_exp);
    memset(&vector_graph, 0, sizeof vector_graph);
}
