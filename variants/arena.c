/* arena: naive with one thing changed, where the nodes live. The same nodes,
 * ops, recursive sort and propagation as naive, but a step's nodes are
 * bump-allocated from an arena rewound after the step (arena_graph.h)
 * instead of a malloc and a free each. Same graph, same order: bit-exact. */
#define VARIANT_DESCRIPTION "naive's graph and recursive sort, step nodes from a per-step arena"
#define VARIANT_TOLERANCE 0.0
#define VARIANT_SORT SORT_RECURSIVE
#define VARIANT_GRAPH GRAPH_SCALAR

#include "graph/arena_graph.h"
#include "graph/topological_order.h"

static inline graph_size graph_backward(value_t loss)
{
    topological_order_recursive(loss, &scalar_graph.order);
    return scalar_graph_propagate(loss, &scalar_graph.order);
}
