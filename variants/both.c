/* both: the iterative order of `stack` with the fused linear of `fused`. */
#define VARIANT_DESCRIPTION "iterative topological sort and fused linear"
#define VARIANT_TOLERANCE 0.0
#define VARIANT_SORT SORT_ITERATIVE
#define VARIANT_GRAPH GRAPH_FUSED
#define VARIANT_HAS_LINEAR /* graph/linear_fused.h */

#include "graph/heap_graph.h"
#include "graph/linear_fused.h"
#include "graph/topological_order.h"

static inline graph_size graph_backward(value_t loss)
{
    topological_order_iterative(loss, &scalar_graph.order);
    return scalar_graph_propagate(loss, &scalar_graph.order);
}
