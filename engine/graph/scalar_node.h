/* scalar_node.h: the node of the reference's scalar graph (as in micrograd),
 * what every scalar graph shares whatever its ops and storage: the node list,
 * the sorts' state, the storage contract, and the handle operations (leaves,
 * slots, data). The reference's ops are scalar_graph.h; a variant with ops of
 * its own includes this header instead and embeds struct node first in its
 * node type (variants/closure.c). */
#ifndef MICROGPT_SCALAR_NODE_H
#define MICROGPT_SCALAR_NODE_H
#ifndef MICROGPT_VARIANT_FILE
#error "engine/graph/scalar_node.h is a building block for variants: include it only from a variants/<name>.c"
#endif

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
 * A storage or a variant whose nodes carry more than struct node embeds it
 * first, so a node * converts to its own type and back (variants/refcount.c,
 * variants/closure.c). */
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

static inline void scalar_graph_free(void)
{
    free(scalar_graph.order.items);
    free(scalar_graph.dfs_stack);
    scalar_graph.order = (node_list){0};
    scalar_graph.dfs_stack = NULL;
    scalar_graph.dfs_capacity = 0;
}

#endif
