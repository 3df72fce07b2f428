/* variant_contract.h: what a variant must define, checked by the compiler.
 * model.c includes variants/<name>.c, then this header: a missing or mistyped
 * piece fails here, at the line that states it, in the contract's words.
 * docs/adding-a-variant.md walks through it; variants/naive.c is the smallest
 * complete variant. */
#ifndef MICROGPT_VARIANT_CONTRACT_H
#define MICROGPT_VARIANT_CONTRACT_H
#ifndef MICROGPT_VARIANT_FILE
#error "engine/variant_contract.h checks a variant: model.c includes it right after variants/<name>.c"
#endif

#include <stddef.h>

#include "variant.h"

/* ---- facts ---- */

#ifndef VARIANT_DESCRIPTION
#error "contract: #define VARIANT_DESCRIPTION \"one line on what the strategy changes\""
#endif
_Static_assert(_Generic(VARIANT_DESCRIPTION, char * : 1, default : 0),
               "contract: VARIANT_DESCRIPTION is a string: one line on what the strategy changes");

/* 0 (or 0.0: any zero) if its gradients are bit-identical to the reference
 * order; else the max |loss difference| it promises over a run, at most
 * VARIANT_MAX_TOLERANCE (the spec's bound for a reordered sum). Whatever it
 * declares, gradients further from the reference's than a reordering can
 * explain are "wrong gradients" (engine/gradient_check.h). */
#ifndef VARIANT_TOLERANCE
#error "contract: #define VARIANT_TOLERANCE 0 (bit-exact) or the max |loss difference| over a run, <= 1e-9"
#endif
#define CONTRACT_TOLERANCE_IN_RANGE(tolerance) ((tolerance) >= 0 && (tolerance) <= VARIANT_MAX_TOLERANCE)
#define CONTRACT_TOLERANCE_MESSAGE                                                                                     \
    "contract: VARIANT_TOLERANCE is 0 (bit-exact) or at most 1e-9 (VARIANT_MAX_TOLERANCE)"
#ifdef __clang__
/* Clang folds no floating comparison in a _Static_assert; diagnose_if
 * evaluates it at the call on the constant. */
static inline void contract_tolerance(double tolerance)
    __attribute__((diagnose_if(!CONTRACT_TOLERANCE_IN_RANGE(tolerance), CONTRACT_TOLERANCE_MESSAGE, "error")))
{
    (void)tolerance;
}
__attribute__((unused)) static inline void contract_check_tolerance(void) { contract_tolerance(VARIANT_TOLERANCE); }
#else
_Static_assert(CONTRACT_TOLERANCE_IN_RANGE(VARIANT_TOLERANCE), CONTRACT_TOLERANCE_MESSAGE);
#endif

/* Optional, 1 for a negative control: a variant kept to show a known-wrong
 * backward; the tests expect it to fail and the harness flags its rows. */
#ifndef VARIANT_EXPECTED_WRONG
#define VARIANT_EXPECTED_WRONG 0
#endif
_Static_assert(VARIANT_EXPECTED_WRONG == 0 || VARIANT_EXPECTED_WRONG == 1,
               "contract: VARIANT_EXPECTED_WRONG is 1 for a negative control, else 0 or undefined");

/* How backward orders the graph: SORT_RECURSIVE (a depth-first search by
 * recursion: tests/test_deep_graph.c then expects a clear error on too small
 * a stack), SORT_ITERATIVE, or SORT_NONE. */
#ifndef VARIANT_SORT
#error "contract: #define VARIANT_SORT SORT_RECURSIVE, SORT_ITERATIVE or SORT_NONE"
#endif
_Static_assert(VARIANT_SORT == SORT_RECURSIVE || VARIANT_SORT == SORT_ITERATIVE || VARIANT_SORT == SORT_NONE,
               "contract: VARIANT_SORT is SORT_RECURSIVE, SORT_ITERATIVE or SORT_NONE");

/* Which graph it builds: GRAPH_SCALAR (the reference's: tests/test_run.c
 * holds its sizes to the spec's), GRAPH_FUSED (linear outputs fused: the
 * spec's fused figures), GRAPH_COARSE (one position's vector operations),
 * GRAPH_SEQUENCE (whole-sequence operations) or GRAPH_NONE. */
#ifndef VARIANT_GRAPH
#error "contract: #define VARIANT_GRAPH GRAPH_SCALAR, GRAPH_FUSED, GRAPH_COARSE, GRAPH_SEQUENCE or GRAPH_NONE"
#endif
_Static_assert(VARIANT_GRAPH == GRAPH_SCALAR || VARIANT_GRAPH == GRAPH_FUSED || VARIANT_GRAPH == GRAPH_COARSE ||
                   VARIANT_GRAPH == GRAPH_SEQUENCE || VARIANT_GRAPH == GRAPH_NONE,
               "contract: VARIANT_GRAPH is GRAPH_SCALAR, GRAPH_FUSED, GRAPH_COARSE, GRAPH_SEQUENCE or GRAPH_NONE");

/* ---- who owns what ----
 * A value_t is a handle to one scalar of the graph; the variant's storage
 * owns the nodes. The model keeps handles only in slots of its own (the
 * parameters, the key/value caches, one position's scratch vectors, the
 * step's loss): it puts a handle in a slot with value_store and gives a slot
 * up with value_clear, so a storage that counts references counts what the
 * model holds (variants/refcount.c). A layer's temporaries are not slots:
 * each becomes a child of a node, or is stored, before the layer returns.
 *   - A step's handle is valid while a slot holds it or while it is a child
 *     of a node so held: a counting storage frees a node when the last of
 *     those lets go, mid-step; a storage that frees at graph_release_step
 *     keeps every handle to the end of the step. model.c ends each step
 *     once: after backward (train_step, backward, loss_and_gradients),
 *     after a forward without backward (release), and after each sample.
 *     It clears every step slot, the loss last, then calls
 *     graph_release_step().
 *   - graph_backward(loss) runs while the slots still hold the step.
 *   - Parameters are valid from value_parameter to model_destroy, which
 *     clears their slots, then calls graph_destroy(). The tests' op probes
 *     do the same with slots of their own.
 * One model per variant per process at a time: a variant keeps its graph in
 * static state (model.c asserts it). */

/* ---- required operations ---- */

/* A handle to one scalar of the graph. */
_Static_assert(sizeof(value_t) > 0, "contract: typedef ... value_t; a handle to one scalar of the graph");

/* A plain number meeting a node: a leaf made on the spot (the spec counts them). */
_Static_assert(_Generic(&value_constant, value_t (*)(double) : 1, default : 0),
               "contract: value_t value_constant(double)");
/* A persistent leaf (a model weight). */
_Static_assert(_Generic(&value_parameter, value_t (*)(double) : 1, default : 0),
               "contract: value_t value_parameter(double)");
/* Called once all parameters exist, with the model's array of them (spec order). */
_Static_assert(_Generic(&graph_bind_parameters, void (*)(value_t *, size_t) : 1, default : 0),
               "contract: void graph_bind_parameters(value_t *parameters, size_t count)");
_Static_assert(_Generic(&value_data, double (*)(value_t) : 1, default : 0), "contract: double value_data(value_t)");
/* A parameter's storage, given its slot in the model's array: read and
 * written by Adam between steps. */
_Static_assert(_Generic(&parameter_data, double *(*)(value_t *) : 1, default : 0),
               "contract: double *parameter_data(value_t *parameter)");
_Static_assert(_Generic(&parameter_grad, double *(*)(value_t *) : 1, default : 0),
               "contract: double *parameter_grad(value_t *parameter)");
/* Forward value and local gradients as in the spec's table "How the
 * reference evaluates each operation". */
_Static_assert(_Generic(&value_add, value_t (*)(value_t, value_t) : 1, default : 0),
               "contract: value_t value_add(value_t a, value_t b)");
_Static_assert(_Generic(&value_mul, value_t (*)(value_t, value_t) : 1, default : 0),
               "contract: value_t value_mul(value_t a, value_t b)");
_Static_assert(_Generic(&value_pow, value_t (*)(value_t, double) : 1, default : 0),
               "contract: value_t value_pow(value_t a, double exponent)");
_Static_assert(_Generic(&value_log, value_t (*)(value_t) : 1, default : 0), "contract: value_t value_log(value_t a)");
_Static_assert(_Generic(&value_exp, value_t (*)(value_t) : 1, default : 0), "contract: value_t value_exp(value_t a)");
_Static_assert(_Generic(&value_relu, value_t (*)(value_t) : 1, default : 0), "contract: value_t value_relu(value_t a)");
/* d loss = 1, propagated into every reachable node; returns the graph's size
 * (autograd.h: reachable nodes and child links, bytes, the sort's depth). */
_Static_assert(_Generic(&graph_backward, graph_size (*)(value_t) : 1, default : 0),
               "contract: graph_size graph_backward(value_t loss)");
/* Ends a step: frees every non-parameter node made since the last call. */
_Static_assert(_Generic(&graph_release_step, void (*)(void) : 1, default : 0),
               "contract: void graph_release_step(void)");
/* Frees what the storage still holds, once the parameters' slots are clear. */
_Static_assert(_Generic(&graph_destroy, void (*)(void) : 1, default : 0), "contract: void graph_destroy(void)");
/* The model's slots (see "who owns what"). */
_Static_assert(_Generic(&value_store, void (*)(value_t *, value_t) : 1, default : 0),
               "contract: void value_store(value_t *slot, value_t v): the slot holds v instead of what it held");
_Static_assert(_Generic(&value_clear, void (*)(value_t *) : 1, default : 0),
               "contract: void value_clear(value_t *slot): the model gives up the slot's handle");

/* ---- optional hooks: the variant defines the macro and the function ---- */

/* Layer operations: engine/scalar_layers.h writes them with the ops above; a
 * variant may replace any of them. */
#ifdef VARIANT_HAS_LINEAR
_Static_assert(_Generic(&layer_linear, void (*)(value_t *, const value_t *, const value_t *, int, int) : 1,
                        default : 0),
               "contract: VARIANT_HAS_LINEAR: void layer_linear(value_t *out, const value_t *w, const value_t *x, "
               "int n_out, int n_in)");
#endif
#ifdef VARIANT_HAS_RMSNORM
_Static_assert(_Generic(&layer_rmsnorm, void (*)(value_t *, const value_t *, int) : 1, default : 0),
               "contract: VARIANT_HAS_RMSNORM: void layer_rmsnorm(value_t *out, const value_t *x, int n)");
#endif
#ifdef VARIANT_HAS_SOFTMAX
_Static_assert(_Generic(&layer_softmax, void (*)(value_t *, const value_t *, int) : 1, default : 0),
               "contract: VARIANT_HAS_SOFTMAX: void layer_softmax(value_t *out, const value_t *z, int n)");
#endif
#ifdef VARIANT_HAS_ATTENTION
_Static_assert(_Generic(&layer_attention_head,
                        void (*)(value_t *, const value_t *, const value_t *, const value_t *, int, int, int,
                                 value_t *) : 1,
                        default : 0),
               "contract: VARIANT_HAS_ATTENTION: void layer_attention_head(value_t *out, const value_t *q, "
               "const value_t *keys, const value_t *values, int positions, int row_stride, int head_dim, "
               "value_t *scratch)");
#endif

/* A variant that bounds its own memory: the bytes it allocates for a step
 * of block_size positions (variant.h, step_bytes; model.c adds the model's). */
#ifdef VARIANT_HAS_STEP_BYTES
_Static_assert(_Generic(&variant_step_bytes, double (*)(const model_shape *) : 1, default : 0),
               "contract: VARIANT_HAS_STEP_BYTES: double variant_step_bytes(const model_shape *shape)");
#endif

/* Parameters that already sit in two flat arrays (values and gradients, in
 * the spec's order): Adam updates them in place. */
#ifdef VARIANT_HAS_PARAMETER_ARRAYS
_Static_assert(_Generic(&parameter_values, double *(*)(void) : 1, default : 0),
               "contract: VARIANT_HAS_PARAMETER_ARRAYS: double *parameter_values(void)");
_Static_assert(_Generic(&parameter_gradients, double *(*)(void) : 1, default : 0),
               "contract: VARIANT_HAS_PARAMETER_ARRAYS: double *parameter_gradients(void)");
#endif

/* A step's whole forward replaced (no graph at all, or a replayed one):
 * returns the loss of tokens[0..positions] with what its graph_backward
 * needs kept aside. Sampling still runs the shared model code on the value
 * ops, and the variant has no op graph for the test probes. */
#ifdef VARIANT_HAS_LOSS
_Static_assert(_Generic(&variant_loss, value_t (*)(const model_shape *, const int *, int) : 1, default : 0),
               "contract: VARIANT_HAS_LOSS: value_t variant_loss(const model_shape *shape, const int *tokens, "
               "int positions)");
#endif

#endif
