/* autograd.h: the contract the model (engine/model.c) is written against.
 *
 * A variant is one file, variants/<name>.c. The build compiles engine/model.c
 * once per variant with -DMICROGPT_VARIANT_FILE="variants/<name>.c"; model.c
 * includes that file first, so every operation below is a static function of
 * the same translation unit: bound at compile time, inlinable, no dispatch.
 *
 * A variant defines:
 *
 *   VARIANT_DESCRIPTION        string: one line on what the strategy changes
 *   VARIANT_TOLERANCE          0.0 if its gradients are bit-identical to the
 *                              reference order; else the max |loss difference|
 *                              it promises over a run (tests hold it to that)
 *   VARIANT_EXPECTED_WRONG     optional, 1 for a negative control: a variant
 *                              kept to show a known-wrong backward; the tests
 *                              expect it to fail and the harness flags it
 *   value_t                    a handle to one scalar of the graph
 *   value_t value_constant(double)     a plain number meeting a node: a leaf
 *                                      made on the spot (the spec counts them)
 *   value_t value_parameter(double)    a persistent leaf (a model weight)
 *   void graph_bind_parameters(value_t *parameters, size_t count)
 *                                      called once all parameters exist, with
 *                                      the model's array of them (spec order)
 *   double  value_data(value_t)
 *   double *parameter_data(value_t *), *parameter_grad(value_t *)
 *                                      a parameter's storage (given its slot
 *                                      in the model's array), read and written
 *                                      by Adam between steps
 *   value_t value_add(a, b), value_mul(a, b), value_pow(a, double c),
 *           value_log(a), value_exp(a), value_relu(a)
 *                                      forward value and local gradients as in
 *                                      the spec's table "How the reference
 *                                      evaluates each operation"
 *   graph_size graph_backward(value_t loss)
 *                                      d loss = 1, propagate into every
 *                                      reachable node; returns the number of
 *                                      reachable nodes and child links, and
 *                                      the bytes the step's graph holds
 *   void graph_release_step(void)      free every non-parameter node made
 *                                      since the last call
 *   void graph_destroy(void)           free everything, parameters included
 *
 * Layer operations come from engine/scalar_layers.h, written with the ops
 * above. A variant may replace any of them by defining the macro and the
 * function before model.c includes the shared definitions:
 *
 *   VARIANT_HAS_LINEAR     void layer_linear(value_t *out, const value_t *w,
 *                                            const value_t *x, int n_out, int n_in)
 *   VARIANT_HAS_RMSNORM    void layer_rmsnorm(value_t *out, const value_t *x, int n)
 *   VARIANT_HAS_SOFTMAX    void layer_softmax(value_t *out, const value_t *z, int n)
 *   VARIANT_HAS_ATTENTION  void layer_attention_head(value_t *out, const value_t *q,
 *                              const value_t *keys, const value_t *values,
 *                              int positions, int row_stride, int head_dim,
 *                              value_t *scratch)
 *
 * A variant whose backward orders the graph by a depth-first search reports
 * how deep it went (topological_order.h does this for its users):
 *
 *   VARIANT_HAS_SORT_DEPTH  size_t graph_sort_depth(void): nodes on the
 *                           deepest path of the last backward's search
 *
 * A variant whose parameters already sit in two flat arrays (values and
 * gradients, in the spec's order) may say so, and Adam updates them in place:
 *
 *   VARIANT_HAS_PARAMETER_ARRAYS  double *parameter_values(void),
 *                                 double *parameter_gradients(void)
 *
 * A variant may also replace a step's whole forward (no graph at all, or a
 * replayed one): it defines VARIANT_HAS_LOSS and
 *     value_t variant_loss(const model_shape *shape, const int *tokens,
 *                          int positions)
 * which returns the loss of tokens[0..positions] with what its
 * graph_backward needs kept aside. Sampling still runs the shared model code
 * on the variant's value ops.
 *
 * State lives in static variables of the variant's file: one model per
 * variant per process at a time (model.c asserts it). */
#ifndef MICROGPT_AUTOGRAD_H
#define MICROGPT_AUTOGRAD_H

#include <stddef.h>

typedef struct graph_size {
    size_t nodes; /* distinct nodes reachable from the loss, leaves included */
    size_t edges; /* child links of those nodes */
    size_t bytes; /* memory the step's graph took, reachable or not */
} graph_size;

#endif
