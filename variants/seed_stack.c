/* seed_stack: NEGATIVE CONTROL, kept to show a published mistake.
 *
 * The seed's "stack-based backward" as published: pop a node, add its
 * gradient into its children, push them, mark it processed, never revisit.
 * It skips the topological order, so a node can pass its gradient on before
 * all of its parents have added theirs: the gradients are wrong, and the run
 * trains a different model. The gradient check must flag it (the tests
 * expect it to fail); its speed is not a result. */
#define VARIANT_DESCRIPTION "NEGATIVE CONTROL: the seed's stack backward without a topological order (wrong gradients)"
#define VARIANT_TOLERANCE 0.0
#define VARIANT_EXPECTED_WRONG 1
#define VARIANT_SORT SORT_NONE
#define VARIANT_GRAPH GRAPH_SCALAR

#include "graph/heap_graph.h"

static inline graph_size graph_backward(value_t loss)
{
    node_list *stack = &scalar_graph.order; /* reused as the stack */
    uint32_t epoch = ++scalar_graph.epoch;
    graph_size size = {.bytes = node_storage_step_bytes()};
    stack->count = 0;
    loss->grad = 1.0;
    node_list_push(stack, loss);
    while (stack->count > 0) {
        node *v = stack->items[--stack->count];
        if (v->visit_mark == epoch)
            continue;
        v->visit_mark = epoch;
        size.nodes++;
        size.edges += v->child_count;
        for (uint32_t c = 0; c < v->child_count; c++) {
            v->children[c]->grad += v->local_grads[c] * v->grad;
            node_list_push(stack, v->children[c]);
        }
    }
    return size;
}
