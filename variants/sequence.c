/* sequence: a real graph of whole-sequence nodes, built each step: each node
 * one layer-level operation over all T positions ([T][width] output and
 * gradient), recording its op and its inputs, as a PyTorch graph of
 * [T, n_embd] tensors (but the embedding, q/k/v, rmsnorm, attention and the
 * loss one node each). 8 + 16 n_layer nodes a step (24 at the default size).
 * Forward runs them in creation order; backward is one loop in reverse
 * creation order that knows only each node's op, calling floor's kernels
 * (kernels/sequence_layers.h), so the ops, like PyTorch's, are the model's
 * layers (q/k/v in the reference's head order): floor's order, bit-exact. */
#define VARIANT_DESCRIPTION                                                                                            \
    "sequence graph: one node per whole-sequence operation, all positions at once, built each step"
#define VARIANT_TOLERANCE 0.0
#define VARIANT_SORT SORT_NONE
#define VARIANT_GRAPH GRAPH_SEQUENCE
#define VARIANT_HAS_PARAMETER_ARRAYS /* Adam updates plain_values.h's arrays in place */

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "graph/plain_values.h"
#include "kernels/exact_kernels.h"
#include "kernels/kernel_path.h"
#include "kernels/sequence_layers.h"
#include "variant.h"

typedef enum sequence_op {
    OP_PARAMETER,     /* a weight matrix, a leaf: out and grad are its parameters' */
    OP_EMBEDDING,     /* [T][n_embd] = wte[tokens[p]] + wpe[p]; inputs wte, wpe */
    OP_RMSNORM,       /* [T][n_embd]; input x */
    OP_QKV,           /* [3][T][n_embd]: q, k, v; inputs x, wq, wk, wv (its backward interleaves the three) */
    OP_ATTENTION,     /* [T][n_embd]: every head, position p over positions 0..p; input the q/k/v node */
    OP_LINEAR,        /* [T][n_out] = x [T][n_in] times W^T; inputs x, W [n_out][n_in] */
    OP_ADD,           /* inputs a, b */
    OP_RELU,          /* input x */
    OP_CROSS_ENTROPY, /* [T]: -log(softmax(logits_p)[targets[p]]); input the logits */
    OP_MEAN           /* [1]: (1/T) * the sum of the losses; input the cross-entropy */
} sequence_op;

typedef struct sequence_node {
    sequence_op op;
    int rows, columns; /* of out and grad, row-major */
    double *out, *grad;
    uint32_t first_input, input_count; /* node ids in the graph's inputs */
    double *saved;                     /* attention: exp, weights, totals; cross-entropy: exp */
    rmsnorm_saved *norms;              /* rmsnorm: [T] */
    cross_entropy_saved *losses;       /* cross-entropy: [T] */
    const int *last_rows;              /* the lm_head: each position's target row, which contributes last */
} sequence_node;

static struct {
    model_shape shape;
    exact_constants constants;
    int positions; /* of the step's graph */
    int *tokens;   /* [block_size + 1]: the step's; the targets are tokens + 1 */
    sequence_node *nodes;
    uint32_t *inputs;
    double *arena; /* the nodes' outputs, gradients and saved values */
    rmsnorm_saved *norms;
    cross_entropy_saved *losses;
    size_t node_count, input_count, arena_used, norm_count;
    size_t node_capacity, input_capacity, arena_capacity, norm_capacity;
    double *inputs_transposed; /* scratch of linear_forward_rows */
    head_rows rows;            /* one head's slices, for the attention kernels */
} sequence_graph;

/* What a graph of `positions` positions holds: nodes, input links, arena
 * doubles and rmsnorms' saved values (sequence_build takes exactly these). */
static void sequence_capacity(const model_shape *shape, int positions, size_t *nodes, size_t *inputs, size_t *arena,
                              size_t *norms)
{
    const size_t embd = (size_t)shape->n_embd, layers = (size_t)shape->n_layer, heads = (size_t)shape->n_head;
    const size_t vocab = (size_t)shape->vocab_size, t = (size_t)positions;
    *nodes = 8 + 16 * layers;
    *inputs = 7 + 18 * layers;
    /* per layer: out and grad of rmsnorm, q/k/v (3), attention, wo, add,
     * rmsnorm, fc1 (4), relu (4), fc2, add: 18 rows of n_embd twice, and the
     * attention's exp and weights [T][head][T] and totals [T][head] */
    const size_t layer = 36 * t * embd + 2 * t * heads * t + t * heads;
    *arena = 4 * t * embd + layers * layer + 3 * t * vocab + 2 * t + 2;
    *norms = (1 + 2 * layers) * t;
}

/* The memory of sequence_allocate: the graph of a block_size step, its
 * scratch, and the parameters' gradients (variant.h, step_bytes). */
#define VARIANT_HAS_STEP_BYTES
static double variant_step_bytes(const model_shape *shape)
{
    size_t nodes, inputs, arena, norms;
    sequence_capacity(shape, shape->block_size, &nodes, &inputs, &arena, &norms);
    const double block = shape->block_size;
    return (double)nodes * sizeof(sequence_node) + (double)inputs * sizeof(uint32_t) +
           ((double)arena + (double)FORWARD_GROUP * 4 * shape->n_embd + (double)model_shape_parameter_count(shape)) *
               sizeof(double) +
           (double)norms * sizeof(rmsnorm_saved) + block * sizeof(cross_entropy_saved) + (block + 1) * sizeof(int) +
           head_rows_bytes(shape->block_size);
}

/* Room for the largest step of this shape, made once. */
static void sequence_allocate(const model_shape *shape)
{
    if (sequence_graph.nodes)
        return;
    sequence_graph.shape = *shape;
    sequence_graph.constants = exact_constants_of(shape->n_embd, shape->n_embd / shape->n_head);
    sequence_capacity(shape, shape->block_size, &sequence_graph.node_capacity, &sequence_graph.input_capacity,
                      &sequence_graph.arena_capacity, &sequence_graph.norm_capacity);
    sequence_graph.nodes = malloc_checked(sequence_graph.node_capacity * sizeof *sequence_graph.nodes);
    sequence_graph.inputs = malloc_checked(sequence_graph.input_capacity * sizeof *sequence_graph.inputs);
    sequence_graph.arena = malloc_checked(sequence_graph.arena_capacity * sizeof *sequence_graph.arena);
    sequence_graph.norms = malloc_checked(sequence_graph.norm_capacity * sizeof *sequence_graph.norms);
    sequence_graph.losses = malloc_checked((size_t)shape->block_size * sizeof *sequence_graph.losses);
    sequence_graph.tokens = malloc_checked(((size_t)shape->block_size + 1) * sizeof *sequence_graph.tokens);
    sequence_graph.inputs_transposed = malloc_checked((size_t)FORWARD_GROUP * 4 * shape->n_embd * sizeof(double));
    head_rows_allocate(&sequence_graph.rows, shape->block_size);
}

/* ---- construction: structure only; node_pass computes ---- */

static double *arena_take(size_t count)
{
    assert(sequence_graph.arena_used + count <= sequence_graph.arena_capacity);
    double *block = sequence_graph.arena + sequence_graph.arena_used;
    sequence_graph.arena_used += count;
    return block;
}

static sequence_node *node_at(uint32_t id) { return &sequence_graph.nodes[id]; }

/* A node of rows x columns, output and gradient from the arena (a leaf's
 * are its matrix's, set by the caller), and its inputs. */
static uint32_t node_create(sequence_op op, int rows, int columns, const uint32_t *inputs, int input_count)
{
    assert(sequence_graph.node_count < sequence_graph.node_capacity);
    assert(sequence_graph.input_count + (size_t)input_count <= sequence_graph.input_capacity);
    uint32_t id = (uint32_t)sequence_graph.node_count++;
    sequence_node *n = node_at(id);
    memset(n, 0, sizeof *n);
    n->op = op, n->rows = rows, n->columns = columns;
    if (op != OP_PARAMETER) {
        n->out = arena_take((size_t)rows * columns);
        n->grad = arena_take((size_t)rows * columns);
    }
    n->first_input = (uint32_t)sequence_graph.input_count;
    n->input_count = (uint32_t)input_count;
    for (int i = 0; i < input_count; i++)
        sequence_graph.inputs[sequence_graph.input_count++] = inputs[i];
    return id;
}

static inline sequence_node *input_of(const sequence_node *n, uint32_t i)
{
    return node_at(sequence_graph.inputs[n->first_input + i]);
}

/* The leaves come first, in the parameters' order: a matrix's node id is
 * its creation index (parameter_layout.h). */
static inline uint32_t matrix_node(int layer, model_matrix matrix)
{
    return (uint32_t)model_matrix_index(layer, matrix);
}

static uint32_t rmsnorm_node(uint32_t x)
{
    const int positions = sequence_graph.positions, embd = sequence_graph.shape.n_embd;
    uint32_t id = node_create(OP_RMSNORM, positions, embd, &x, 1);
    assert(sequence_graph.norm_count + (size_t)positions <= sequence_graph.norm_capacity);
    node_at(id)->norms = sequence_graph.norms + sequence_graph.norm_count;
    sequence_graph.norm_count += (size_t)positions;
    return id;
}

static uint32_t linear_node(uint32_t x, uint32_t matrix)
{
    const uint32_t inputs[2] = {x, matrix};
    return node_create(OP_LINEAR, sequence_graph.positions, node_at(matrix)->rows, inputs, 2);
}

static uint32_t add_node(uint32_t a, uint32_t b)
{
    const uint32_t inputs[2] = {a, b};
    return node_create(OP_ADD, node_at(a)->rows, node_at(a)->columns, inputs, 2);
}

/* One layer of the spec's forward on all positions; returns its output. */
static uint32_t layer_nodes(uint32_t x, int l)
{
    const int positions = sequence_graph.positions, embd = sequence_graph.shape.n_embd;
    const int heads = sequence_graph.shape.n_head;
    uint32_t normed = rmsnorm_node(x);
    const uint32_t qkv_inputs[4] = {normed, matrix_node(l, MATRIX_WQ), matrix_node(l, MATRIX_WK),
                                    matrix_node(l, MATRIX_WV)};
    uint32_t qkv = node_create(OP_QKV, 3 * positions, embd, qkv_inputs, 4);
    /* Every head in one node, as a batched matmul takes them: the heads
     * share the q/k/v input and write disjoint column slices of one output,
     * the projection's one input; the node count does not grow with n_head. */
    uint32_t attended = node_create(OP_ATTENTION, positions, embd, &qkv, 1);
    const size_t t = (size_t)positions;
    node_at(attended)->saved = arena_take(2 * t * heads * t + t * heads);
    uint32_t residual = add_node(linear_node(attended, matrix_node(l, MATRIX_WO)), x);
    uint32_t hidden = linear_node(rmsnorm_node(residual), matrix_node(l, MATRIX_FC1));
    uint32_t activated = node_create(OP_RELU, positions, 4 * embd, &hidden, 1);
    return add_node(linear_node(activated, matrix_node(l, MATRIX_FC2)), residual);
}

/* The step's graph on sequence_graph.tokens; returns the mean's node. */
static uint32_t sequence_build(int positions)
{
    const model_shape *shape = &sequence_graph.shape;
    sequence_graph.positions = positions;
    sequence_graph.node_count = sequence_graph.input_count = sequence_graph.arena_used = 0;
    sequence_graph.norm_count = 0;
    for (int index = 0; index < model_matrix_count(shape); index++) {
        int rows, columns;
        model_matrix_size(shape, index, &rows, &columns);
        uint32_t id = node_create(OP_PARAMETER, rows, columns, NULL, 0);
        assert(id == (uint32_t)index);
        const size_t at = model_matrix_offset_at(shape, index);
        node_at(id)->out = plain_parameters.data + at;
        node_at(id)->grad = plain_parameters.grad + at;
    }
    const uint32_t tables[2] = {matrix_node(0, MATRIX_WTE), matrix_node(0, MATRIX_WPE)};
    uint32_t x = rmsnorm_node(node_create(OP_EMBEDDING, positions, shape->n_embd, tables, 2));
    for (int l = 0; l < shape->n_layer; l++)
        x = layer_nodes(x, l);
    uint32_t logits = linear_node(x, matrix_node(0, MATRIX_LM_HEAD));
    /* the reference's search enters position p's logits through its
     * target's: that lm_head row contributes last (exact_kernels.h) */
    node_at(logits)->last_rows = sequence_graph.tokens + 1;
    uint32_t loss = node_create(OP_CROSS_ENTROPY, positions, 1, &logits, 1);
    node_at(loss)->saved = arena_take((size_t)positions * shape->vocab_size);
    node_at(loss)->losses = sequence_graph.losses;
    uint32_t mean = node_create(OP_MEAN, 1, 1, &loss, 1);
    size_t nodes, inputs, arena, norms;
    sequence_capacity(shape, positions, &nodes, &inputs, &arena, &norms);
    assert(sequence_graph.node_count == nodes && sequence_graph.input_count == inputs &&
           sequence_graph.arena_used == arena && sequence_graph.norm_count == norms);
    (void)nodes, (void)inputs, (void)arena, (void)norms;
    return mean;
}

/* ---- the ops ---- */

static inline position_rows rows_of(double *base, int width) { return (position_rows){base, (size_t)width}; }

/* The attention node's rows: q, k, v of its input, the saved softmaxes
 * ([T][head][T] exp, then weights, then [T][head] totals). */
static inline attention_positions node_attention(const sequence_node *n)
{
    const sequence_node *qkv = input_of(n, 0);
    const int positions = sequence_graph.positions, embd = sequence_graph.shape.n_embd;
    const int heads = sequence_graph.shape.n_head;
    const size_t t = (size_t)positions, part = t * embd, saved_row = (size_t)heads * t;
    return (attention_positions){.query = rows_of(qkv->out, embd),
                                 .key = rows_of(qkv->out + part, embd),
                                 .value = rows_of(qkv->out + 2 * part, embd),
                                 .out = rows_of(n->out, embd),
                                 .grad_query = rows_of(qkv->grad, embd),
                                 .grad_key = rows_of(qkv->grad + part, embd),
                                 .grad_value = rows_of(qkv->grad + 2 * part, embd),
                                 .grad_out = rows_of(n->grad, embd),
                                 .exp = (position_rows){n->saved, saved_row},
                                 .weight = (position_rows){n->saved + t * saved_row, saved_row},
                                 .total = (position_rows){n->saved + 2 * t * saved_row, (size_t)heads},
                                 .head_stride = t,
                                 .positions = positions,
                                 .n_head = heads,
                                 .head_dim = embd / heads,
                                 .inverse_scale = sequence_graph.constants.inverse_scale};
}

typedef enum sequence_pass { FORWARD, BACKWARD } sequence_pass;

/* One node's op: forward, its output from its inputs' (and its gradient
 * zeroed); backward, its share added into its inputs' gradients (the
 * cross-entropy writes its logits', their one consumer). Each op's pair
 * side by side; T is the step's positions. */
static inline void node_pass(sequence_node *n, sequence_pass pass, int wide)
{
    const model_shape *shape = &sequence_graph.shape;
    const int positions = sequence_graph.positions, embd = shape->n_embd, width = n->columns;
    const double inverse_n = sequence_graph.constants.inverse_n_embd;
    if (n->op == OP_PARAMETER) /* a leaf: its gradient is the parameters' */
        return;
    if (pass == FORWARD)
        memset(n->grad, 0, (size_t)n->rows * width * sizeof *n->grad);
    sequence_node *x = input_of(n, 0);
    switch (n->op) {
    case OP_PARAMETER: break;
    case OP_EMBEDDING: /* x: wte; input 1: wpe */
        if (pass == FORWARD)
            embedding_forward_positions(rows_of(n->out, embd), x->out, input_of(n, 1)->out, sequence_graph.tokens,
                                        positions, embd);
        else
            embedding_backward_positions(x->grad, input_of(n, 1)->grad, rows_of(n->grad, embd), sequence_graph.tokens,
                                         positions, embd);
        break;
    case OP_RMSNORM:
        if (pass == FORWARD)
            rmsnorm_forward_positions(rows_of(n->out, embd), rows_of(x->out, embd), positions, embd, inverse_n,
                                      n->norms);
        else
            rmsnorm_backward_positions(rows_of(x->grad, embd), rows_of(n->grad, embd), rows_of(x->out, embd), positions,
                                       embd, inverse_n, n->norms);
        break;
    case OP_QKV: { /* [3][T][n_embd]: q rows, k rows, v rows */
        const sequence_node *q = input_of(n, 1), *k = input_of(n, 2), *v = input_of(n, 3);
        const size_t part = (size_t)positions * embd;
        if (pass == FORWARD)
            qkv_forward_positions(rows_of(n->out, embd), rows_of(n->out + part, embd), rows_of(n->out + 2 * part, embd),
                                  q->out, k->out, v->out, rows_of(x->out, embd), positions, embd,
                                  sequence_graph.inputs_transposed, wide);
        else /* the input's rows interleave q, k and v as the reference meets them */
            qkv_backward_positions(rows_of(x->grad, embd), rows_of(x->out, embd), (linear_weights){q->out, q->grad},
                                   (linear_weights){k->out, k->grad}, (linear_weights){v->out, v->grad},
                                   rows_of(n->grad, embd), rows_of(n->grad + part, embd),
                                   rows_of(n->grad + 2 * part, embd), positions, embd, shape->n_head, 1, wide);
        break;
    }
    case OP_ATTENTION: {
        attention_positions a = node_attention(n);
        if (pass == FORWARD)
            attention_forward_positions(&a, &sequence_graph.rows);
        else
            attention_backward_positions(&a, &sequence_graph.rows);
        break;
    }
    case OP_LINEAR: { /* [T][n_out] from x [T][n_in] and W [n_out][n_in] */
        const sequence_node *w = input_of(n, 1);
        if (pass == FORWARD)
            linear_forward_rows(n->out, (size_t)w->rows, w->out, x->out, (size_t)w->columns, positions, w->rows,
                                w->columns, sequence_graph.inputs_transposed, wide);
        else
            linear_backward_positions(rows_of(x->grad, w->columns), w->grad, w->out, rows_of(x->out, w->columns),
                                      rows_of(n->grad, w->rows), positions, w->rows, w->columns, n->last_rows, wide);
        break;
    }
    case OP_ADD: { /* local gradients 1 and 1, into two separate arrays */
        sequence_node *y = input_of(n, 1);
        const int count = n->rows * width;
        if (pass == FORWARD)
            vector_add(n->out, x->out, y->out, count);
        else {
            vector_add(x->grad, x->grad, n->grad, count);
            vector_add(y->grad, y->grad, n->grad, count);
        }
        break;
    }
    case OP_RELU:
        if (pass == FORWARD)
            relu_forward_positions(rows_of(n->out, width), rows_of(x->out, width), positions, width);
        else
            relu_backward_positions(rows_of(x->grad, width), rows_of(n->grad, width), rows_of(x->out, width), positions,
                                    width);
        break;
    case OP_CROSS_ENTROPY: /* [T] from the logits [T][vocab]; saved: their exps */
        if (pass == FORWARD)
            cross_entropy_forward_positions(n->out, rows_of(x->out, x->columns), rows_of(n->saved, x->columns),
                                            sequence_graph.tokens + 1, positions, x->columns, n->losses);
        else
            cross_entropy_backward_positions(rows_of(x->grad, x->columns), rows_of(n->saved, x->columns), positions,
                                             x->columns, n->losses, rows_of(n->grad, 1));
        break;
    case OP_MEAN:
        if (pass == FORWARD)
            n->out[0] = mean_forward(x->out, positions);
        else {
            const double share = mean_backward(positions, n->grad[0]);
            for (int p = 0; p < positions; p++)
                x->grad[p] += share;
        }
        break;
    }
}

/* ---- the walks: forward in creation order, backward in reverse; each
 * compiled for AVX-512 (with the kernels' wide forms), AVX2 and the
 * baseline (kernel_path.h) ---- */

static inline double sequence_walk_forward(int wide)
{
    for (size_t id = 0; id < sequence_graph.node_count; id++)
        node_pass(&sequence_graph.nodes[id], FORWARD, wide);
    return sequence_graph.nodes[sequence_graph.node_count - 1].out[0];
}

KERNEL_PATH_AVX512 static double sequence_forward_avx512(void) { return sequence_walk_forward(1); }
KERNEL_PATH_AVX2 static double sequence_forward_avx2(void) { return sequence_walk_forward(0); }
KERNEL_PATH_GENERIC static double sequence_forward_generic(void) { return sequence_walk_forward(0); }

/* From d loss = 1 at the last node (the mean). */
static inline void sequence_walk_backward(int wide)
{
    sequence_graph.nodes[sequence_graph.node_count - 1].grad[0] = 1.0;
    for (size_t id = sequence_graph.node_count; id-- > 0;)
        node_pass(&sequence_graph.nodes[id], BACKWARD, wide);
}

KERNEL_PATH_AVX512 static void sequence_backward_avx512(void) { sequence_walk_backward(1); }
KERNEL_PATH_AVX2 static void sequence_backward_avx2(void) { sequence_walk_backward(0); }
KERNEL_PATH_GENERIC static void sequence_backward_generic(void) { sequence_walk_backward(0); }

#define VARIANT_HAS_LOSS
static inline value_t variant_loss(const model_shape *shape, const int *tokens, int positions)
{
    sequence_allocate(shape);
    memcpy(sequence_graph.tokens, tokens, ((size_t)positions + 1) * sizeof *tokens);
    sequence_build(positions);
    return kernel_path_avx512() ? sequence_forward_avx512()
           : kernel_path_avx2() ? sequence_forward_avx2()
                                : sequence_forward_generic();
}

/* Every node is reachable from the loss; the edges are the input links. */
static inline graph_size graph_backward(value_t loss)
{
    (void)loss;
    graph_size size = {
        .nodes = sequence_graph.node_count,
        .edges = sequence_graph.input_count,
        .bytes = sequence_graph.node_count * sizeof(sequence_node) + sequence_graph.input_count * sizeof(uint32_t) +
                 sequence_graph.arena_used * sizeof(double) + sequence_graph.norm_count * sizeof(rmsnorm_saved) +
                 (size_t)sequence_graph.positions * sizeof(cross_entropy_saved)};
    if (kernel_path_avx512())
        sequence_backward_avx512();
    else if (kernel_path_avx2())
        sequence_backward_avx2();
    else
        sequence_backward_generic();
    return size;
}

/* The step's nodes are gone; their memory waits for the next step. */
static inline void graph_release_step(void)
{
    sequence_graph.node_count = sequence_graph.input_count = sequence_graph.arena_used = 0;
    sequence_graph.norm_count = 0;
}

static inline void graph_destroy(void)
{
    free(sequence_graph.nodes);
    free(sequence_graph.inputs);
    free(sequence_graph.arena);
    free(sequence_graph.norms);
    free(sequence_graph.losses);
    free(sequence_graph.tokens);
    free(sequence_graph.inputs_transposed);
    head_rows_free(&sequence_graph.rows);
    memset(&sequence_graph, 0, sizeof sequence_graph);
    plain_parameters_free();
}
