/* vector: a graph of coarse nodes, one per vector operation, built each step.
 *
 * About a hundred nodes a step instead of tens of thousands: an embedding,
 * rmsnorms, one q/k/v projection, one node per attention head, linears,
 * residual adds, a relu, a cross-entropy per position and a mean, each with
 * a hand-written backward (coarse_graph.h, exact_kernels.h). Backward walks
 * the nodes in reverse creation order, which gives the reference's gradient
 * order: bit-exact. The sampling path reuses the shared model code on plain
 * doubles. */
#define VARIANT_DESCRIPTION "coarse graph: one node per vector operation, hand-written local backward"
#define VARIANT_TOLERANCE 0.0
#define VARIANT_SORT SORT_NONE
#define VARIANT_GRAPH GRAPH_COARSE
#define VARIANT_HAS_PARAMETER_ARRAYS /* Adam updates plain_values.h's arrays in place */

#include "graph/coarse_graph.h"

static coarse_graph vector_graph;

/* One graph of block_size positions, reused every step (variant.h). */
#define VARIANT_HAS_STEP_BYTES
static double variant_step_bytes(const model_shape *shape)
{
    return coarse_graph_bytes(shape, shape->block_size) + coarse_shared_bytes(shape);
}

#define VARIANT_HAS_LOSS
static inline value_t variant_loss(const model_shape *shape, const int *tokens, int positions)
{
    if (!vector_graph.nodes)
        coarse_graph_init(&vector_graph, shape, shape->block_size);
    coarse_graph_build(&vector_graph, positions);
    coarse_graph_set_tokens(&vector_graph, tokens);
    return coarse_graph_forward(&vector_graph);
}

static inline graph_size graph_backward(value_t loss)
{
    (void)loss;
    return coarse_graph_backward(&vector_graph);
}

static inline void graph_release_step(void) {}

static inline void graph_destroy(void)
{
    coarse_graph_free(&vector_graph);
    coarse_scratch_free();
    plain_parameters_free();
}
