/* variant.h: what one compiled variant exports (SQLite-style: everything in
 * the variant's translation unit is static but this one const table).
 *
 * The table's functions work at the granularity of a whole step, a sample or
 * a test probe; the per-op hot path stays inside the variant's translation
 * unit. The build lists every variant in microgpt_variants[] (generated). */
#ifndef MICROGPT_VARIANT_H
#define MICROGPT_VARIANT_H

#include <stddef.h>

#include "autograd.h"
#include "parameter_layout.h"
#include "python_random.h"

model_shape model_shape_default(void);
size_t model_shape_parameter_count(const model_shape *shape);
/* The positions a step trains on for a document of token_count tokens
 * ([BOS, ..., BOS]): one per next-token prediction, at most block_size. */
int model_shape_positions(const model_shape *shape, int token_count);

/* Limits on a model's size (the CLI's and the harness's --n-embd, --n-head,
 * --n-layer, --block-size): each size from 1 to its cap, n_embd divisible by
 * n_head, and a step that fits in memory. A variant that states its own
 * estimate of a step's bytes (the table's step_bytes) must stay within
 * MODEL_MAX_STEP_BYTES; the others, whose graphs grow with the reference's,
 * within MODEL_MAX_GRAPH_NODES in the largest step's reference graph,
 * parameters included (about 100 bytes a node in the heap-graph variants, so
 * 5 GB at the cap). The caps on each size keep the bounds below and the
 * variants' 32-bit counts far from overflow. */
#define MODEL_MAX_STEP_BYTES 5e9
enum {
    MODEL_MAX_N_EMBD = 4096,
    MODEL_MAX_N_HEAD = 4096,
    MODEL_MAX_N_LAYER = 10000,
    MODEL_MAX_BLOCK_SIZE = 4096,
    MODEL_MAX_GRAPH_NODES = 50000000
};

/* Nodes a step of block_size positions creates in the reference graph (every
 * scalar op a node, constants included, reachable or not; counted op by op
 * from scalar_layers.h), plus the parameters: what naive and stack, the
 * largest graphs here, hold at once. */
double model_shape_graph_nodes_bound(const model_shape *shape);
/* An upper bound on the nodes of the longest path from a step's loss to a
 * leaf: how deep a recursive topological sort can go (call_stack.h). */
double model_shape_graph_depth_bound(const model_shape *shape);
/* Floating-point operations of one training step of `positions` positions,
 * by phase, counted from the shape: the model's own arithmetic (each add,
 * multiply, divide, square root, exp, log and pow one operation; a
 * multiply-add two), what any exact implementation must do, whatever its
 * bookkeeping. Forward includes the loss, update is Adam. */
typedef struct model_flops {
    double forward, backward, update;
} model_flops;
model_flops model_shape_flops(const model_shape *shape, int positions);
struct microgpt_variant;
/* 0 if the shape is within the limits above for this variant (NULL: the
 * reference graph's limit); else -1 and one line in error. */
int model_shape_check(const model_shape *shape, const struct microgpt_variant *variant, char *error, size_t capacity);

typedef struct step_result {
    double loss;
    graph_size graph;
    /* Nodes on the deepest path of the depth-first topological sort (the
     * recursion depth of a recursive one); 0 for a variant without one. */
    size_t sort_depth;
    double forward_seconds, backward_seconds, update_seconds;
    /* Adam's elements whose g ** 2 or v_hat ** 0.5 called pow (adam.h). */
    size_t adam_slow_path;
} step_result;

/* Test probes: one op (or layer op) applied to leaves, reduced to a scalar
 * L = sum_k c_k * out_k with fixed weights c_k, then backward. */
typedef enum probe_op {
    PROBE_ADD,
    PROBE_MUL,
    PROBE_POW_NEGATIVE_ONE,
    PROBE_POW_NEGATIVE_HALF,
    PROBE_LOG,
    PROBE_EXP,
    PROBE_RELU,
    PROBE_LINEAR,
    PROBE_RMSNORM,
    PROBE_SOFTMAX,
    PROBE_ATTENTION_HEAD,
    PROBE_COUNT
} probe_op;

typedef struct model model;

/* How a variant orders its graph for backward (VARIANT_SORT): by a recursive
 * depth-first search (its depth needs a stack sized for it, call_stack.h), an
 * iterative one, or no search at all (creation order, or no graph). */
typedef enum variant_sort { SORT_NONE, SORT_RECURSIVE, SORT_ITERATIVE } variant_sort;
/* Which graph a variant builds (VARIANT_GRAPH): the reference's scalar graph,
 * the scalar graph with each linear output one node (the spec's "fused"
 * figures), a graph of one position's vector operations (coarse_graph.h), a
 * graph of whole-sequence operations, each over all of a step's positions
 * (variants/sequence.c), or none. */
typedef enum variant_graph { GRAPH_NONE, GRAPH_SCALAR, GRAPH_FUSED, GRAPH_COARSE, GRAPH_SEQUENCE } variant_graph;

/* The largest tolerance a variant may declare: what the spec allows a
 * reordered sum over a run (engine/variant_contract.h enforces it). */
#define VARIANT_MAX_TOLERANCE 1e-9

typedef struct microgpt_variant {
    const char *name;
    const char *description;
    /* The variant's facts, from its file (engine/variant_contract.h): */
    double tolerance;   /* 0: bit-exact with the reference order; else the
                           max |loss difference| it promises over a run */
    int expected_wrong; /* a negative control: its gradients are known wrong */
    variant_sort sort;
    variant_graph graph;
    /* An upper bound on the bytes a training step of block_size positions
     * holds (parameters, Adam, activations, graph); NULL where the graph
     * grows with the reference's and its node limit applies (model_shape_check). */
    double (*step_bytes)(const model_shape *shape);

    /* Draws the parameters with rng->gauss(0, 0.08) in the spec's order. */
    model *(*create)(const model_shape *shape, python_random *rng);
    void (*destroy)(model *m);
    size_t (*parameter_count)(const model *m);
    void (*get_parameters)(const model *m, double *out);
    void (*set_parameters)(model *m, const double *in);

    /* One training step on tokens [BOS, ..., BOS]: forward, backward, Adam,
     * each phase timed. */
    step_result (*train_step)(model *m, const int *tokens, int token_count, int step, int num_steps);
    /* The same step in separate phases, for micro-benchmarks: forward builds
     * the graph and returns the loss; backward propagates from that loss and
     * frees the graph; release frees it without backward; update is Adam. */
    double (*forward)(model *m, const int *tokens, int token_count);
    graph_size (*backward)(model *m);
    void (*release)(model *m);
    void (*update)(model *m, int step, int num_steps);
    /* Forward and backward without update; gradients copied out (may be
     * NULL), then zeroed. Returns the loss. */
    double (*loss_and_gradients)(model *m, const int *tokens, int token_count, double *gradients, graph_size *size);
    /* One sample at a temperature: the tokens before BOS, at most block_size. */
    int (*sample)(model *m, python_random *rng, double temperature, int bos, int *tokens_out);

    /* Number of inputs and outputs of a probe op, and the probe itself; NULL
     * for a variant without an op graph (its whole step is still checked). */
    void (*probe_shape)(probe_op op, int *input_count, int *output_count);
    double (*probe)(probe_op op, const double *inputs, double *gradients);
} microgpt_variant;

/* "recursive", "iterative", "none"; "scalar", "fused", "coarse", "sequence", "none". */
const char *variant_sort_name(variant_sort sort);
const char *variant_graph_name(variant_graph graph);

extern const microgpt_variant *const microgpt_variants[];
extern const size_t microgpt_variant_count;

/* NULL if there is no variant of that name. */
const microgpt_variant *microgpt_variant_find(const char *name);

#endif
