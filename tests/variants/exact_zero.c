/* exact_zero: a test-only variant (tests/test_variant_facts.c), not in the
 * registry: naive's graph and sort, declaring its tolerance as `0` rather
 * than `0.0`. Any zero means bit-exact: the tests hold it to the reference
 * bit for bit. Built with -DLAST_BIT_OFF, mul's local gradients are one unit
 * in the last place off, and the same declaration must make that a wrong
 * variant. */
#define VARIANT_DESCRIPTION "test only: naive, declaring VARIANT_TOLERANCE 0"
#define VARIANT_TOLERANCE 0
#define VARIANT_SORT SORT_RECURSIVE
#define VARIANT_GRAPH GRAPH_SCALAR

#ifdef LAST_BIT_OFF
#include <math.h>
#define value_mul heap_graph_value_mul
#endif
#include "graph/heap_graph.h"
#include "graph/topological_order.h"

#ifdef LAST_BIT_OFF
#undef value_mul
static inline value_t value_mul(value_t a, value_t b)
{
    return node_binary(a->data * b->data, a, nextafter(b->data, HUGE_VAL), b, nextafter(a->data, HUGE_VAL));
}
#endif

static inline graph_size graph_backward(value_t loss)
{
    topological_order_recursive(loss, &scalar_graph.order);
    return scalar_graph_propagate(loss, &scalar_graph.order);
}
