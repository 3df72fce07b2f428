/* scalar_graph.h: the reference's graph in C, one node per scalar op (as in
 * micrograd), over a storage the variant chooses: heap_graph.h (a malloc per
 * node), arena_graph.h (a per-step arena), or its own (variants/refcount.c).
 * The node, the ops and the propagation are the same code whatever the
 * storage; the storage contract below says what a storage provides. */
#ifndef MICROGPT_SCALAR_GRAPH_H
#define MICROGPT_SCALAR_GRAPH_H
#ifndef MICROGPT_VARIANT_FILE
#error "engine/graph/scalar_graph.h is a building block for variants: include it only from a variants/<name>.c"
#endif

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "autograd.h"
#include "checked.h"

typedef struct node node;
struct node {
    double data;
    double grad;
    node **children; /* inline_children, or a storage array for wide nodes */
    double *local_grads;
    uint32_t child_count;
    uint32_t visit_mark; /* == scalar_graph.epoch once visited by this backward */
    node *inline_children[2];
    double inline_local_grads[2];
};

typedef node *value_t;

typedef struct node_list {
    node **items;
    size_t count, capacity;
} node_list;

static inline void node_list_push(node_list *list, node *item)
{
    if (list->count == list->capacity) {
        list->capacity = list->capacity ? 2 * list->capacity : 4096;
        list->items = realloc_checked(list->items, list->capacity * sizeof *list->items);
    }
    list->items[list->count++] = item;
}

/* A frame of the iterative depth-first search: which child to visit next. */
typedef struct dfs_frame {
    node *node;
    uint32_t next_child;
} dfs_frame;

/* What the sorts and the propagation share, whatever the storage. */
static struct {
    node_list order;   /* topological order, reused across steps */
    size_t sort_depth; /* the last sort's deepest path, in nodes (topological_order.h) */
    uint32_t epoch;
    dfs_frame *dfs_stack; /* used by topological_order_iterative */
    size_t dfs_capacity;
} scalar_graph;

/* The storage contract. A storage defines these, and the variant contract's
 * graph_release_step and graph_destroy (which calls scalar_graph_free):
 *   node_create      a node of this step with room for child_count children,
 *                    its data set, grad and visit mark 0 (node_init);
 *   node_linked      the node's children are set: a counting storage counts
 *                    a reference to each here;
 *   node_held        the model keeps the node in a slot (value_store);
 *   node_released    the model gives that slot up (value_store, value_clear);
 *   parameter_create a leaf that lives until graph_destroy;
 *   node_storage_step_bytes  the bytes this step's nodes take.
 * A storage whose nodes carry more than struct node embeds it first, so a
 * node * converts to its own type and back (variants/refcount.c). */
static inline node *node_create(double data, uint32_t child_count);
static inline void node_linked(node *v);
static inline void node_held(node *v);
static inline void node_released(node *v);
static inline node *parameter_create(double data);
static inline size_t node_storage_step_bytes(void);

/* Points a node's links at its inline arrays when it has at most two
 * children; wide nodes (a fused linear) get theirs from the storage. */
static inline void node_init(node *v, double data, uint32_t child_count)
{
    v->data = data;
    v->grad = 0.0;
    v->child_count = child_count;
    v->visit_mark = 0;
    v->children = v->inline_children;
    v->local_grads = v->inline_local_grads;
}

static inline node *node_unary(double data, node *child, double local_grad)
{
    node *v = node_create(data, 1);
    v->children[0] = child;
    v->local_grads[0] = local_grad;
    node_linked(v);
    return v;
}

static inline node *node_binary(double data, node *a, double local_a, node *b, double local_b)
{
    node *v = node_create(data, 2);
    v->children[0] = a;
    v->children[1] = b;
    v->local_grads[0] = local_a;
    v->local_grads[1] = local_b;
    node_linked(v);
    return v;
}

static inline value_t value_constant(double data) { return node_create(data, 0); }
static inline value_t value_parameter(double data) { return parameter_create(data); }
static inline double value_data(value_t v) { return v->data; }
static inline double *parameter_data(value_t *parameter) { return &(*parameter)->data; }
static inline double *parameter_grad(value_t *parameter) { return &(*parameter)->grad; }
static inline void graph_bind_parameters(value_t *parameters, size_t count) { (void)parameters, (void)count; }
static inline void value_store(value_t *slot, value_t v)
{
    node_held(v);
    if (*slot)
        node_released(*slot);
    *slot = v;
}
static inline void value_clear(value_t *slot)
{
    if (*slot)
        node_released(*slot);
    *slot = NULL;
}

static inline value_t value_add(value_t a, value_t b) { return node_binary(a->data + b->data, a, 1.0, b, 1.0); }
static inline value_t value_mul(value_t a, value_t b) { return node_binary(a->data * b->data, a, b->data, b, a->data); }
/* a ** c: pow(a, c), local c * pow(a, c - 1); libm pow, never x*x (spec). */
static inline value_t value_pow(value_t a, double c)
{
    return node_unary(pow(a->data, c), a, c * pow(a->data, c - 1.0));
}
static inline value_t value_log(value_t a) { return node_unary(log(a->data), a, 1.0 / a->data); }
static inline value_t value_exp(value_t a) { return node_unary(exp(a->data), a, exp(a->data)); }
static inline value_t value_relu(value_t a)
{
    return node_unary(a->data > 0.0 ? a->data : 0.0, a, a->data > 0.0 ? 1.0 : 0.0);
}

/* Reverse topological sweep: each node adds local * grad into its children,
 * in child order (the spec's accumulation rule). */
static inline graph_size scalar_graph_propagate(node *loss, const node_list *order)
{
    graph_size size = {
        .nodes = order->count, .bytes = node_storage_step_bytes(), .sort_depth = scalar_graph.sort_depth};
    loss->grad = 1.0;
    for (size_t i = order->count; i-- > 0;) {
        const node *v = order->items[i];
        for (uint32_t c = 0; c < v->child_count; c++)
            v->children[c]->grad += v->local_grads[c] * v->grad;
        size.edges += v->child_count;
    }
    return size;
}

static inline void scalar_graph_free(void)
{
    free(scalar_graph.order.items);
    free(scalar_graph.dfs_stack);
    scalar_graph.order = (node_list){0};
    scalar_graph.dfs_stack = NULL;
    scalar_graph.dfs_capacity = 0;
}

#endif
