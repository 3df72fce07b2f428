/* heap_graph.h: the reference's graph in C, shared by the scalar variants.
 *
 * Every scalar op is one malloc'd node holding its value, its gradient, its
 * children and the local gradients d node / d child, as in micrograd. Nodes
 * made during a step are remembered so graph_release_step() can free them
 * (the reference relies on Python's garbage collector). A variant includes
 * this file and chooses the topological order (topological_order.h) and,
 * optionally, a fused linear (linear_fused.h). */
#ifndef MICROGPT_HEAP_GRAPH_H
#define MICROGPT_HEAP_GRAPH_H
#ifndef MICROGPT_VARIANT_FILE
#error "engine/graph/heap_graph.h is a building block for variants: include it only from a variants/<name>.c"
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
    node **children;      /* inline_children, or a heap array for wide nodes */
    double *local_grads;
    uint32_t child_count;
    uint32_t visit_mark;  /* == heap_graph.epoch once visited by this backward */
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

static struct {
    node_list step_nodes;  /* every non-parameter node since the last release */
    node_list parameters;
    node_list order;       /* topological order, reused across steps */
    size_t step_bytes;     /* bytes of the nodes in step_nodes */
    uint32_t epoch;
    dfs_frame *dfs_stack;  /* used by topological_order_iterative */
    size_t dfs_capacity;
} heap_graph;

static inline node *node_create(double data, uint32_t child_count, node_list *owner)
{
    node *v = malloc_checked(sizeof *v);
    v->data = data;
    v->grad = 0.0;
    v->child_count = child_count;
    v->visit_mark = 0;
    if (child_count <= 2) {
        v->children = v->inline_children;
        v->local_grads = v->inline_local_grads;
    } else {
        v->children = malloc_checked(child_count * sizeof *v->children);
        v->local_grads = malloc_checked(child_count * sizeof *v->local_grads);
    }
    if (owner == &heap_graph.step_nodes)
        heap_graph.step_bytes += sizeof *v + (child_count > 2 ? child_count * (sizeof(node *) + sizeof(double)) : 0);
    node_list_push(owner, v);
    return v;
}

static inline void node_free(node *v)
{
    if (v->children != v->inline_children) {
        free(v->children);
        free(v->local_grads);
    }
    free(v);
}

static inline node *node_unary(double data, node *child, double local_grad)
{
    node *v = node_create(data, 1, &heap_graph.step_nodes);
    v->children[0] = child;
    v->local_grads[0] = local_grad;
    return v;
}

static inline node *node_binary(double data, node *a, double local_a, node *b, double local_b)
{
    node *v = node_create(data, 2, &heap_graph.step_nodes);
    v->children[0] = a;
    v->children[1] = b;
    v->local_grads[0] = local_a;
    v->local_grads[1] = local_b;
    return v;
}

static inline value_t value_constant(double data) { return node_create(data, 0, &heap_graph.step_nodes); }
static inline value_t value_parameter(double data) { return node_create(data, 0, &heap_graph.parameters); }
static inline double value_data(value_t v) { return v->data; }
static inline double *parameter_data(value_t *parameter) { return &(*parameter)->data; }
static inline double *parameter_grad(value_t *parameter) { return &(*parameter)->grad; }
static inline void graph_bind_parameters(value_t *parameters, size_t count) { (void)parameters, (void)count; }

static inline value_t value_add(value_t a, value_t b) { return node_binary(a->data + b->data, a, 1.0, b, 1.0); }
static inline value_t value_mul(value_t a, value_t b) { return node_binary(a->data * b->data, a, b->data, b, a->data); }
/* a ** c: pow(a, c), local c * pow(a, c - 1); libm pow, never x*x (spec). */
static inline value_t value_pow(value_t a, double c) { return node_unary(pow(a->data, c), a, c * pow(a->data, c - 1.0)); }
static inline value_t value_log(value_t a) { return node_unary(log(a->data), a, 1.0 / a->data); }
static inline value_t value_exp(value_t a) { return node_unary(exp(a->data), a, exp(a->data)); }
static inline value_t value_relu(value_t a)
{
    return node_unary(a->data > 0.0 ? a->data : 0.0, a, a->data > 0.0 ? 1.0 : 0.0);
}

/* Reverse topological sweep: each node adds local * grad into its children,
 * in child order (the spec's accumulation rule). */
static inline graph_size heap_graph_propagate(node *loss, const node_list *order)
{
    graph_size size = {order->count, 0, heap_graph.step_bytes};
    loss->grad = 1.0;
    for (size_t i = order->count; i-- > 0;) {
        const node *v = order->items[i];
        for (uint32_t c = 0; c < v->child_count; c++)
            v->children[c]->grad += v->local_grads[c] * v->grad;
        size.edges += v->child_count;
    }
    return size;
}

static inline void graph_release_step(void)
{
    for (size_t i = 0; i < heap_graph.step_nodes.count; i++)
        node_free(heap_graph.step_nodes.items[i]);
    heap_graph.step_nodes.count = 0;
    heap_graph.step_bytes = 0;
}

static inline void graph_destroy(void)
{
    graph_release_step();
    for (size_t i = 0; i < heap_graph.parameters.count; i++)
        node_free(heap_graph.parameters.items[i]);
    free(heap_graph.step_nodes.items);
    free(heap_graph.parameters.items);
    free(heap_graph.order.items);
    free(heap_graph.dfs_stack);
    heap_graph.step_nodes = heap_graph.parameters = heap_graph.order = (node_list){0};
    heap_graph.dfs_stack = NULL;
    heap_graph.dfs_capacity = 0;
}

#endif
