/* stack: the reference's graph, ordered without recursion. An explicit stack
 * of (node, next child) frames yields exactly the recursive post-order, so
 * gradients stay bit-identical; no call depth grows with the graph. */
#define VARIANT_DESCRIPTION "every scalar op a heap node; iterative topological sort with an explicit stack"
#define VARIANT_TOLERANCE 0.0
#define VARIANT_SORT SORT_ITERATIVE
#define VARIANT_GRAPH GRAPH_SCALAR

#include "graph/heap_graph.h"
#include "graph/topological_order.h"

static inline graph_size graph_backward(value_t loss)
{
    topological_order_iterative(loss, &scalar_graph.order);
    return scalar_graph_propagate(loss, &scalar_graph.order);
}
