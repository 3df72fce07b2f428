/* arena_fused: arena with one thing changed, the linear layers. Each linear
 * output is one node whose 2*n_in children are its weights and inputs
 * (linear_fused.h, as in fused); nodes from the per-step arena, recursive
 * sort. The fused node keeps the reference's order: bit-exact. */
#define VARIANT_DESCRIPTION "per-step arena and recursive sort; each linear output one node with 2*n_in children"
#define VARIANT_TOLERANCE 0.0
#define VARIANT_SORT SORT_RECURSIVE
#define VARIANT_GRAPH GRAPH_FUSED
#define VARIANT_HAS_LINEAR /* graph/linear_fused.h */

#include "graph/arena_graph.h"
#include "graph/linear_fused.h"
#include "graph/topological_order.h"

static inline graph_size graph_backward(value_t loss)
{
    topological_order_recursive(loss, &scalar_graph.order);
    return scalar_graph_propagate(loss, &scalar_graph.order);
}
