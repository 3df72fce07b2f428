/* linear_fused.h: a whole linear output as one node of the scalar graph
 * (scalar_graph.h), whatever its storage.
 *
 * out[o] = sum_i W[o][i] * x[i] becomes one node with 2*n_in children,
 * interleaved W[o][0], x[0], W[o][1], x[1], ...: the order in which the
 * reference's depth-first search meets them through its mul/add chain. The
 * inputs x[i] are met in the reference's order, so the topological order of
 * every other node, and with it every gradient sum, is unchanged (the
 * weights are leaves: where they stand cannot reorder anything). The value is summed as the reference sums it:
 * (w0*x0 + 0) + w1*x1 + ... (spec: sum starts from 0). The constant 0 leaf
 * and the 2*n_in mul/add nodes disappear from the graph. */
#ifndef MICROGPT_LINEAR_FUSED_H
#define MICROGPT_LINEAR_FUSED_H
#ifndef MICROGPT_VARIANT_FILE
#error "engine/graph/linear_fused.h is a building block for variants: include it only from a variants/<name>.c"
#endif

#include "scalar_graph.h"

/* A hook of engine/variant_contract.h: the variant's own layer_linear. */
#define VARIANT_HAS_LINEAR
static inline void layer_linear(value_t *out, const value_t *w, const value_t *x, int n_out, int n_in)
{
    for (int o = 0; o < n_out; o++) {
        const value_t *row = w + (size_t)o * n_in;
        node *v = node_create(0.0, 2u * (uint32_t)n_in);
        double total = row[0]->data * x[0]->data + 0.0;
        for (int i = 1; i < n_in; i++)
            total = total + row[i]->data * x[i]->data;
        for (int i = 0; i < n_in; i++) {
            v->children[2 * i] = row[i];
            v->local_grads[2 * i] = x[i]->data;
            v->children[2 * i + 1] = x[i];
            v->local_grads[2 * i + 1] = row[i]->data;
        }
        v->data = total;
        out[o] = v;
    }
}

#endif
