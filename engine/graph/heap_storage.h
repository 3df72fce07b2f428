/* heap_storage.h: a storage of scalar nodes (scalar_node.h): a malloc per
 * node, as in micrograd. The step's nodes are listed, so that
 * graph_release_step frees them one by one (in the reference, CPython's
 * reference counts free them, as variants/refcount.c does). The node is
 * struct node or a variant's type embedding it first: its size is an
 * argument. heap_graph.h binds it to struct node and the reference's ops;
 * variants/closure.c to its own node. */
#ifndef MICROGPT_HEAP_STORAGE_H
#define MICROGPT_HEAP_STORAGE_H
#ifndef MICROGPT_VARIANT_FILE
#error "engine/graph/heap_storage.h is a building block for variants: include it only from a variants/<name>.c"
#endif

#include "scalar_node.h"

static struct {
    node_list step_nodes; /* every non-parameter node since the last release */
    node_list parameters;
    size_t step_bytes; /* bytes of the nodes in step_nodes */
} heap_graph;

/* node_bytes: sizeof(node), or of the variant's node that embeds it first. */
static inline node *heap_node_allocate(size_t node_bytes, double data, uint32_t child_count)
{
    node *v = malloc_checked(node_bytes);
    node_init(v, data, child_count);
    if (child_count > 2) {
        v->children = malloc_checked(child_count * sizeof *v->children);
        v->local_grads = malloc_checked(child_count * sizeof *v->local_grads);
    }
    return v;
}

/* node_create's storage part: a node of this step. */
static inline node *heap_step_node_create(size_t node_bytes, double data, uint32_t child_count)
{
    node *v = heap_node_allocate(node_bytes, data, child_count);
    heap_graph.step_bytes += node_bytes + (child_count > 2 ? child_count * (sizeof(node *) + sizeof(double)) : 0);
    node_list_push(&heap_graph.step_nodes, v);
    return v;
}

/* parameter_create's storage part. */
static inline node *heap_parameter_create(size_t node_bytes, double data)
{
    node *v = heap_node_allocate(node_bytes, data, 0);
    node_list_push(&heap_graph.parameters, v);
    return v;
}

/* A node's links, and the model's slots, cost nothing here (scalar_node.h). */
static inline void node_linked(node *v) { (void)v; }
static inline void node_held(node *v) { (void)v; }
static inline void node_released(node *v) { (void)v; }

static inline size_t node_storage_step_bytes(void) { return heap_graph.step_bytes; }

static inline void node_free(node *v)
{
    if (v->children != v->inline_children) {
        free(v->children);
        free(v->local_grads);
    }
    free(v);
}

static inline void graph_release_step(void)
{
    for (size_t i = 0; i < heap_graph.step_nodes.count; i++)
        node_free(heap_graph.step_nodes.items[i]);
    heap_graph.step_nodes.count = 0;
    heap_graph.step_bytes = 0;
}

static inline void graph_destroy(void)
{
    graph_release_step();
    for (size_t i = 0; i < heap_graph.parameters.count; i++)
        node_free(heap_graph.parameters.items[i]);
    free(heap_graph.step_nodes.items);
    free(heap_graph.parameters.items);
    heap_graph.step_nodes = heap_graph.parameters = (node_list){0};
    scalar_graph_free();
}

#endif
