/* arena_sweep: arena_fused with one thing changed, the order of backward. A
 * node is made after its children, so the arena's creation order is a
 * topological order: backward is one sweep, newest first, over the nodes the
 * loss reached (marked with this backward's epoch). Parents add into a node in
 * reverse creation order, not the reference's depth-first order, so sums can
 * differ in the last bit: the same order as tape, identical losses to it. */
#define VARIANT_DESCRIPTION "per-step arena, fused linear, creation order as topological order (one reverse sweep)"
#define VARIANT_TOLERANCE 1e-9
#define VARIANT_SORT SORT_NONE
#define VARIANT_GRAPH GRAPH_FUSED
#define VARIANT_HAS_LINEAR /* graph/linear_fused.h */

#include "graph/arena_graph.h"
#include "graph/linear_fused.h"

static inline graph_size graph_backward(value_t loss)
{
    const uint32_t epoch = ++scalar_graph.epoch;
    graph_size size = {.bytes = node_storage_step_bytes()};
    loss->grad = 1.0;
    loss->visit_mark = epoch;
    for (size_t chunk = arena_graph_chunks_in_use(); chunk-- > 0;) {
        size_t count;
        node *nodes = arena_graph_chunk_nodes(chunk, &count);
        for (size_t i = count; i-- > 0;) {
            const node *v = &nodes[i];
            if (v->visit_mark != epoch)
                continue;
            size.nodes++;
            size.edges += v->child_count;
            for (uint32_t c = 0; c < v->child_count; c++) {
                v->children[c]->grad += v->local_grads[c] * v->grad;
                v->children[c]->visit_mark = epoch;
            }
        }
    }
    for (size_t p = 0; p < arena_graph.parameters.count; p++)
        size.nodes += arena_graph.parameters.items[p]->visit_mark == epoch;
    return size;
}
