/* topological_order.h: the two ways the scalar variants order the heap graph
 * for backward. Both give the reference's order exactly (spec, "gradient
 * accumulation order"): a depth-first search from the loss that visits
 * children in order and appends a node after its children. */
#ifndef MICROGPT_TOPOLOGICAL_ORDER_H
#define MICROGPT_TOPOLOGICAL_ORDER_H

#include "heap_graph.h"

static inline void visit_recursive(node *v, uint32_t epoch, node_list *order)
{
    if (v->visit_mark == epoch)
        return;
    v->visit_mark = epoch;
    for (uint32_t c = 0; c < v->child_count; c++)
        visit_recursive(v->children[c], epoch, order);
    node_list_push(order, v);
}

/* The reference's build_topo: recursion as deep as the graph. */
static inline void topological_order_recursive(node *root, node_list *order)
{
    order->count = 0;
    visit_recursive(root, ++heap_graph.epoch, order);
}

/* The same post-order with an explicit stack: a frame remembers which child
 * to visit next, and a node is appended when its children are exhausted. */
static inline void topological_order_iterative(node *root, node_list *order)
{
    uint32_t epoch = ++heap_graph.epoch;
    size_t depth = 0;
    order->count = 0;
    if (!heap_graph.dfs_capacity) {
        heap_graph.dfs_capacity = 1024;
        heap_graph.dfs_stack = malloc_checked(heap_graph.dfs_capacity * sizeof *heap_graph.dfs_stack);
    }
    dfs_frame *stack = heap_graph.dfs_stack;
    root->visit_mark = epoch;
    stack[depth++] = (dfs_frame){root, 0};
    while (depth > 0) {
        dfs_frame *top = &stack[depth - 1];
        if (top->next_child == top->node->child_count) {
            node_list_push(order, top->node);
            depth--;
            continue;
        }
        node *child = top->node->children[top->next_child++];
        if (child->visit_mark == epoch)
            continue;
        child->visit_mark = epoch;
        if (depth == heap_graph.dfs_capacity) {
            heap_graph.dfs_capacity *= 2;
            stack = heap_graph.dfs_stack = realloc_checked(stack, heap_graph.dfs_capacity * sizeof *stack);
        }
        stack[depth++] = (dfs_frame){child, 0};
    }
}

#endif
