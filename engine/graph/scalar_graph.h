/* scalar_graph.h: the reference's graph in C, one node per scalar op (as in
 * micrograd), over a storage the variant chooses: heap_graph.h (a malloc per
 * node), arena_graph.h (a per-step arena), or its own (variants/refcount.c).
 * Each op records its local gradients in the node at forward, as the
 * reference does, and the propagation multiplies them by the node's gradient;
 * the node, its lists and the storage contract are scalar_node.h. */
#ifndef MICROGPT_SCALAR_GRAPH_H
#define MICROGPT_SCALAR_GRAPH_H
#ifndef MICROGPT_VARIANT_FILE
#error "engine/graph/scalar_graph.h is a building block for variants: include it only from a variants/<name>.c"
#endif

#include <math.h>

#include "scalar_node.h"

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

#endif
