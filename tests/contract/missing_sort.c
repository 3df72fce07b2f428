/* expect: "contract: #define VARIANT_SORT SORT_RECURSIVE, SORT_ITERATIVE or SORT_NONE"
 * A fact left out: the contract says which values it takes. */
#define VARIANT_DESCRIPTION "contract test: no VARIANT_SORT"
#define VARIANT_TOLERANCE 0.0
#define VARIANT_GRAPH GRAPH_SCALAR

#include "graph/heap_graph.h"
#include "graph/topological_order.h"

static inline graph_size graph_backward(value_t loss)
{
    topological_order_iterative(loss, &scalar_graph.order);
    return scalar_graph_propagate(loss, &scalar_graph.order);
}
