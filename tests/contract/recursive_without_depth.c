/* expect: "contract: a VARIANT_SORT SORT_RECURSIVE variant defines VARIANT_HAS_SORT_DEPTH
 * A recursive sort must report its depth (the stack it needs is checked
 * against it): a variant that says SORT_RECURSIVE without it is refused. */
#define VARIANT_DESCRIPTION "contract test: a recursive sort that reports no depth"
#define VARIANT_TOLERANCE 0
#define VARIANT_SORT SORT_RECURSIVE
#define VARIANT_GRAPH GRAPH_SCALAR

#include "graph/heap_graph.h"

static void visit(node *v, uint32_t epoch, node_list *order)
{
    if (v->visit_mark == epoch)
        return;
    v->visit_mark = epoch;
    for (uint32_t c = 0; c < v->child_count; c++)
        visit(v->children[c], epoch, order);
    node_list_push(order, v);
}

static inline graph_size graph_backward(value_t loss)
{
    scalar_graph.order.count = 0;
    visit(loss, ++scalar_graph.epoch, &scalar_graph.order);
    return scalar_graph_propagate(loss, &scalar_graph.order);
}
