/* expect: undeclared[a-z ]*'graph_backward'|'graph_backward' undeclared
 * naive without its graph_backward: the contract names the missing op. */
#define VARIANT_DESCRIPTION "contract test: no graph_backward"
#define VARIANT_TOLERANCE 0
#define VARIANT_SORT SORT_RECURSIVE
#define VARIANT_GRAPH GRAPH_SCALAR

#include "graph/heap_graph.h"
#include "graph/topological_order.h"
