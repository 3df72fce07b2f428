/* slowed_naive: a test-only variant, naive with an extra loop in every
 * step, built only for tests/test_instructions.py (program
 * test_slowed_naive): the instruction-count check must fail on it against a
 * baseline of naive.
 *
 * The loop is the kind of leftover a change can bring in: after backward,
 * a gradient-norm pass over every edge of the step's graph, run twice
 * (about 14% more instructions per step; the check allows 5%). */
#define graph_backward graph_backward_unslowed
#include "../../variants/naive.c"
#undef graph_backward

#undef VARIANT_DESCRIPTION
#define VARIANT_DESCRIPTION "naive with an extra pass over the graph (test only)"

static inline graph_size graph_backward(value_t loss)
{
    graph_size size = graph_backward_unslowed(loss);
    volatile double norm = 0.0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < scalar_graph.order.count; i++) {
            const node *v = scalar_graph.order.items[i];
            for (uint32_t c = 0; c < v->child_count; c++)
                norm += v->local_grads[c] * v->grad;
        }
    (void)norm; /* read once: clang counts the volatile sum as used */
    return size;
}
