/* replay: vector's coarse graph captured once per number of positions, then
 * re-executed each step over its preallocated values: no construction, no
 * allocation (coarse_graph.h). Not the scalar graph: the reference's
 * accumulation order there depends on the targets (its search enters each
 * position's logits through the target's), so a capture keyed on the length
 * would replay another name's order; in the coarse graph tokens and targets
 * are node attributes and the structure depends on the length alone. */
#define VARIANT_DESCRIPTION "coarse graph captured once per length, replayed with no construction or allocation"
#define VARIANT_TOLERANCE 0.0
#define VARIANT_SORT SORT_NONE
#define VARIANT_GRAPH GRAPH_COARSE
#define VARIANT_HAS_PARAMETER_ARRAYS /* Adam updates plain_values.h's arrays in place */

#include "graph/coarse_graph.h"

static struct {
    coarse_graph *by_length; /* [block_size + 1]: captured graphs, built on first use */
    coarse_graph *current;
    int block_size;
} replay;

/* A graph for every length 1..block_size, kept (variant.h). */
#define VARIANT_HAS_STEP_BYTES
static double variant_step_bytes(const model_shape *shape)
{
    double bytes = coarse_shared_bytes(shape) + (shape->block_size + 1.0) * sizeof(coarse_graph);
    for (int positions = 1; positions <= shape->block_size; positions++)
        bytes += coarse_graph_bytes(shape, positions);
    return bytes;
}

#define VARIANT_HAS_LOSS
static inline value_t variant_loss(const model_shape *shape, const int *tokens, int positions)
{
    if (!replay.by_length) {
        replay.block_size = shape->block_size;
        replay.by_length = calloc_checked((size_t)shape->block_size + 1, sizeof *replay.by_length);
    }
    coarse_graph *g = &replay.by_length[positions];
    if (!g->nodes) {
        coarse_graph_init(g, shape, positions);
        coarse_graph_build(g, positions);
    }
    replay.current = g;
    coarse_graph_set_tokens(g, tokens);
    return coarse_graph_forward(g);
}

static inline graph_size graph_backward(value_t loss)
{
    (void)loss;
    return coarse_graph_backward(replay.current);
}

static inline void graph_release_step(void) {}

static inline void graph_destroy(void)
{
    if (replay.by_length)
        for (int n = 0; n <= replay.block_size; n++)
            coarse_graph_free(&replay.by_length[n]);
    free(replay.by_length);
    memset(&replay, 0, sizeof replay);
    coarse_scratch_free();
    plain_parameters_free();
}
