/* mul_off: a test-only variant (tests/test_variant_facts.c), not in the
 * registry: naive, but mul's local gradients are off by MUL_RELATIVE_ERROR
 * (relative; set by the build), while it declares the largest tolerance the
 * contract allows. The gradient check must call it wrong: a declaration does
 * not excuse gradients further from the reference's than a reordering. */
#define VARIANT_DESCRIPTION "test only: naive with mul's local gradients off, declaring tolerance 1e-9"
#define VARIANT_TOLERANCE 1e-9
#define VARIANT_SORT SORT_RECURSIVE
#define VARIANT_GRAPH GRAPH_SCALAR

#ifndef MUL_RELATIVE_ERROR
#error "build with -DMUL_RELATIVE_ERROR=<relative error of mul's local gradients>"
#endif

#define value_mul heap_graph_value_mul
#include "graph/heap_graph.h"
#include "graph/topological_order.h"
#undef value_mul

static inline value_t value_mul(value_t a, value_t b)
{
    const double off = 1.0 + MUL_RELATIVE_ERROR;
    return node_binary(a->data * b->data, a, b->data * off, b, a->data * off);
}

static inline graph_size graph_backward(value_t loss)
{
    topological_order_recursive(loss, &scalar_graph.order);
    return scalar_graph_propagate(loss, &scalar_graph.order);
}
