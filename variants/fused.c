/* fused: the reference's recursive order, but each linear output is one node
 * whose 2*n_in children are its weights and inputs (linear_fused.h). */
#define VARIANT_DESCRIPTION "recursive topological sort; each linear output one node with 2*n_in children"
#define VARIANT_TOLERANCE 0.0
#define VARIANT_SORT SORT_RECURSIVE
#define VARIANT_GRAPH GRAPH_FUSED
#define VARIANT_HAS_LINEAR /* graph/linear_fused.h */

#include "graph/heap_graph.h"
#include "graph/linear_fused.h"
#include "graph/topological_order.h"

static inline graph_size graph_backward(value_t loss)
{
    topological_order_recursive(loss, &scalar_graph.order);
    return scalar_graph_propagate(loss, &scalar_graph.order);
}
