/* linear_fused.h: a linear output as one node of the scalar graph
 * (scalar_graph.h), whatever its storage: out[o] = sum_i W[o][i] * x[i] with
 * 2*n_in children, interleaved W[o][0], x[0], W[o][1], x[1], ... That is the
 * order in which the reference's search meets them through its mul/add
 * chain, so every other node's order, and every gradient sum, is unchanged
 * (the weights are leaves: where they stand reorders nothing). The constant
 * 0 leaf and the 2*n_in mul/add nodes leave the graph. A variant including
 * it declares #define VARIANT_HAS_LINEAR: this is its layer_linear. */
#ifndef MICROGPT_LINEAR_FUSED_H
#define MICROGPT_LINEAR_FUSED_H
#ifndef MICROGPT_VARIANT_FILE
#error "engine/graph/linear_fused.h is a building block for variants: include it only from a variants/<name>.c"
#endif

#ifndef VARIANT_HAS_LINEAR
#error "graph/linear_fused.h is the variant's layer_linear: #define VARIANT_HAS_LINEAR before including it"
#endif

#include "scalar_graph.h"

/* The value is summed as the reference sums it: (w0*x0 + 0) + w1*x1 + ... */
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
        node_linked(v);
        value_store(&out[o], v);
    }
}

#endif
