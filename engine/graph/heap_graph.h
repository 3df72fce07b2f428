/* heap_graph.h: the reference's ops (scalar_graph.h) over heap storage
 * (heap_storage.h, a malloc per node, as in micrograd), on struct node. */
#ifndef MICROGPT_HEAP_GRAPH_H
#define MICROGPT_HEAP_GRAPH_H
#ifndef MICROGPT_VARIANT_FILE
#error "engine/graph/heap_graph.h is a building block for variants: include it only from a variants/<name>.c"
#endif

#include "heap_storage.h"
#include "scalar_graph.h"

static inline node *node_create(double data, uint32_t child_count)
{
    return heap_step_node_create(sizeof(node), data, child_count);
}

static inline node *parameter_create(double data) { return heap_parameter_create(sizeof(node), data); }

#endif
