/* topological_order.h: the reference's order for backward over the scalar
 * graph (scalar_node.h), whatever its ops and storage: a depth-first search
 * from the loss that visits children in order and appends a node after its
 * children, by recursion (the reference's build_topo) or with an explicit
 * stack. */
#ifndef MICROGPT_TOPOLOGICAL_ORDER_H
#define MICROGPT_TOPOLOGICAL_ORDER_H
#ifndef MICROGPT_VARIANT_FILE
#error "engine/graph/topological_order.h is a building block for variants: include it only from a variants/<name>.c"
#endif

#include <stdint.h>

#include "call_stack.h"
#include "scalar_node.h"

/* The stack floor of the sorting thread (call_stack_floor), for the
 * recursive sort's check. The depth goes to scalar_graph.sort_depth. */
static uintptr_t topological_sort_stack_floor;

/* Reached only when the search goes deeper than before in this sort. Frames
 * of one depth sit at one address, so checking each new depth checks every
 * frame: the stack must keep CALL_STACK_RESERVE_BYTES free below it. */
__attribute__((noinline, cold)) static void visit_deeper(size_t depth)
{
    scalar_graph.sort_depth = depth;
    if ((uintptr_t)__builtin_frame_address(0) < topological_sort_stack_floor)
        call_stack_exhausted(depth);
}

static inline void visit_recursive(node *v, uint32_t epoch, node_list *order, size_t depth)
{
    if (v->visit_mark == epoch)
        return;
    v->visit_mark = epoch;
    if (depth > scalar_graph.sort_depth)
        visit_deeper(depth);
    for (uint32_t c = 0; c < v->child_count; c++)
        visit_recursive(v->children[c], epoch, order, depth + 1);
    node_list_push(order, v);
}

/* The reference's build_topo: recursion as deep as the graph (call_stack.h
 * keeps that from overflowing the stack unnoticed). */
static inline void topological_order_recursive(node *root, node_list *order)
{
    order->count = 0;
    scalar_graph.sort_depth = 0;
    topological_sort_stack_floor = call_stack_floor();
    visit_recursive(root, ++scalar_graph.epoch, order, 1);
}

/* The same post-order with an explicit stack: a frame remembers which child
 * to visit next, and a node is appended when its children are exhausted. */
static inline void topological_order_iterative(node *root, node_list *order)
{
    uint32_t epoch = ++scalar_graph.epoch;
    size_t depth = 0;
    order->count = 0;
    if (!scalar_graph.dfs_capacity) {
        scalar_graph.dfs_capacity = 1024;
        scalar_graph.dfs_stack = malloc_checked(scalar_graph.dfs_capacity * sizeof *scalar_graph.dfs_stack);
    }
    dfs_frame *stack = scalar_graph.dfs_stack;
    root->visit_mark = epoch;
    stack[depth++] = (dfs_frame){root, 0};
    scalar_graph.sort_depth = 1;
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
        if (depth == scalar_graph.dfs_capacity) {
            scalar_graph.dfs_capacity *= 2;
            stack = scalar_graph.dfs_stack = realloc_checked(stack, scalar_graph.dfs_capacity * sizeof *stack);
        }
        stack[depth++] = (dfs_frame){child, 0};
        if (depth > scalar_graph.sort_depth)
            scalar_graph.sort_depth = depth;
    }
}

#endif
