/* expect: contract: VARIANT_TOLERANCE is 0 \(bit-exact\) or at most 1e-9
 * A tolerance over the cap is a build error, not a row in the table. */
#define VARIANT_DESCRIPTION "contract test: a tolerance of 1e-6"
#define VARIANT_TOLERANCE 1e-6
#define VARIANT_SORT SORT_RECURSIVE
#define VARIANT_GRAPH GRAPH_SCALAR

#include "graph/heap_graph.h"
#include "graph/topological_order.h"

static inline graph_size graph_backward(value_t loss)
{
    topological_order_recursive(loss, &scalar_graph.order);
    return scalar_graph_propagate(loss, &scalar_graph.order);
}
