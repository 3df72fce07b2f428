/* naive: the reference's engine. Every scalar op is a heap node
 * (heap_graph.h); backward orders the graph by a recursive depth-first
 * search, the reference's build_topo. */
#define VARIANT_DESCRIPTION "every scalar op a heap node; recursive topological sort (the reference)"
#define VARIANT_TOLERANCE 0.0
#define VARIANT_SORT SORT_RECURSIVE
#define VARIANT_GRAPH GRAPH_SCALAR

#include "graph/heap_graph.h"
#include "graph/topological_order.h"

static inline graph_size graph_backward(value_t loss)
{
    topological_order_recursive(loss, &scalar_graph.order);
    return scalar_graph_propagate(loss, &scalar_graph.order);
}
