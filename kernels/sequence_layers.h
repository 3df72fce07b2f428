/* sequence_layers.h: microgpt's layers over all the positions of a step at
 * once, for floor (whose rows are its per-position blocks) and sequence
 * (whose rows are a node's [position][width] arrays): each layer a forward
 * beside its backward, the rows found through position_rows, the work done
 * by exact_kernels.h. A backward takes the positions last to first and adds
 * into the gradients it is given (the callers zero them), but for the
 * cross-entropy's, which writes the logits' gradient (their one consumer).
 * Why running a layer over all positions keeps the reference's order of
 * every gradient: docs/exact-arithmetic.md, "Layers over all positions". */
#ifndef MICROGPT_SEQUENCE_LAYERS_H
#define MICROGPT_SEQUENCE_LAYERS_H
#ifndef MICROGPT_VARIANT_FILE
#error "kernels/sequence_layers.h is a building block for variants: include it only from a variants/<name>.c"
#endif

#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "kernels/exact_kernels.h"

/* ---- embedding: out_p = wte[tokens[p]] + wpe[p] ---- */

static inline void embedding_forward_positions(position_rows out, const double *wte, const double *wpe,
                                               const int *tokens, int positions, int n_embd)
{
    for (int p = 0; p < positions; p++)
        vector_add(position_row(out, p), wte + (size_t)tokens[p] * n_embd, wpe + (size_t)p * n_embd, n_embd);
}

/* A wte row met at several positions gets their contributions last to first. */
static inline void embedding_backward_positions(double *grad_wte, double *grad_wpe, position_rows grad_out,
                                                const int *tokens, int positions, int n_embd)
{
    for (int p = positions - 1; p >= 0; p--) {
        double *wte = grad_wte + (size_t)tokens[p] * n_embd, *wpe = grad_wpe + (size_t)p * n_embd;
        vector_add(wte, wte, position_row(grad_out, p), n_embd);
        vector_add(wpe, wpe, position_row(grad_out, p), n_embd);
    }
}

/* ---- rmsnorm of each row; saved: [position] ---- */

static inline void rmsnorm_forward_positions(position_rows out, position_rows x, int positions, int n, double inverse_n,
                                             rmsnorm_saved *saved)
{
    for (int p = 0; p < positions; p++)
        rmsnorm_forward(position_row(out, p), position_row(x, p), n, inverse_n, &saved[p]);
}

static inline void rmsnorm_backward_positions(position_rows grad_x, position_rows grad_out, position_rows x,
                                              int positions, int n, double inverse_n, const rmsnorm_saved *saved)
{
    for (int p = positions - 1; p >= 0; p--)
        rmsnorm_backward(position_row(grad_x, p), position_row(grad_out, p), position_row(x, p), n, inverse_n,
                         &saved[p]);
}

/* ---- relu: max(0, x); local gradient 1.0 where x > 0, else 0.0 ---- */

/* x > 0 ? value : +0.0 for four lanes, by the comparison's lane mask (all
 * ones or zeros): the scalar select's bits, NaN and -0.0 giving +0.0. A
 * macro: no vector crosses a function boundary (exact_kernels.h). */
#define RELU_SELECT(x, value) ((exact_v4)((exact_v4_mask)((x) > V4_BROADCAST(0.0)) & (exact_v4_mask)(value)))

static inline void relu_forward_positions(position_rows out, position_rows x, int positions, int n)
{
    for (int p = 0; p < positions; p++) {
        const double *in = position_row(x, p);
        double *o = position_row(out, p);
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            const exact_v4 v = V4_LOAD(in + i);
            V4_STORE(o + i, RELU_SELECT(v, v));
        }
        for (; i < n; i++)
            o[i] = in[i] > 0.0 ? in[i] : 0.0;
    }
}

static inline void relu_backward_positions(position_rows grad_x, position_rows grad_out, position_rows x, int positions,
                                           int n)
{
    for (int p = positions - 1; p >= 0; p--) {
        const double *in = position_row(x, p), *g = position_row(grad_out, p);
        double *grad = position_row(grad_x, p);
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            exact_v4 sum = V4_LOAD(grad + i) + RELU_SELECT(V4_LOAD(in + i), V4_BROADCAST(1.0)) * V4_LOAD(g + i);
            V4_STORE(grad + i, sum);
        }
        for (; i < n; i++)
            grad[i] += (in[i] > 0.0 ? 1.0 : 0.0) * g[i];
    }
}

/* ---- q, k, v: three linears of one input, rows in the lanes ---- */

static inline void qkv_forward_positions(position_rows q, position_rows k, position_rows v, const double *wq,
                                         const double *wk, const double *wv, position_rows x, int positions, int n_embd,
                                         double *x_t, int wide)
{
    linear_forward_rows(q.base, q.stride, wq, x.base, x.stride, positions, n_embd, n_embd, x_t, wide);
    linear_forward_rows(k.base, k.stride, wk, x.base, x.stride, positions, n_embd, n_embd, x_t, wide);
    linear_forward_rows(v.base, v.stride, wv, x.base, x.stride, positions, n_embd, n_embd, x_t, wide);
}

/* ---- causal attention, every head, every position ---- */

/* One head's slices of a layer's keys and values (and their gradients) at
 * positions 0..T-1, as the kernels take them, and the backward's scratch:
 * block_size entries each, made once. */
typedef struct head_rows {
    const double **keys, **values;
    double **grad_keys, **grad_values;
    double *grad_weight, *grad_exp;
} head_rows;

static inline void head_rows_allocate(head_rows *r, int block_size)
{
    const size_t block = (size_t)block_size;
    r->keys = malloc_checked(block * sizeof *r->keys);
    r->values = malloc_checked(block * sizeof *r->values);
    r->grad_keys = malloc_checked(block * sizeof *r->grad_keys);
    r->grad_values = malloc_checked(block * sizeof *r->grad_values);
    r->grad_weight = malloc_checked(block * sizeof *r->grad_weight);
    r->grad_exp = malloc_checked(block * sizeof *r->grad_exp);
}

static inline void head_rows_free(head_rows *r)
{
    free(r->keys);
    free(r->values);
    free(r->grad_keys);
    free(r->grad_values);
    free(r->grad_weight);
    free(r->grad_exp);
    memset(r, 0, sizeof *r);
}

/* bytes of head_rows_allocate */
static inline double head_rows_bytes(int block_size) { return (double)block_size * (4 * sizeof(double *) + 16); }

/* Where a layer's attention finds its values: rows of n_embd for q, k, v,
 * the heads' outputs side by side and their gradients; for the softmax of
 * head h at position p, exp and weight rows at position_row(exp, p) +
 * h * head_stride (p + 1 entries each) and the total at position_row(total,
 * p)[h]. */
typedef struct attention_positions {
    position_rows query, key, value, out;
    position_rows grad_query, grad_key, grad_value, grad_out;
    position_rows exp, weight, total;
    size_t head_stride;
    int positions, n_head, head_dim;
    double inverse_scale;
} attention_positions;

static inline void head_rows_point(head_rows *r, const attention_positions *a, int h)
{
    const size_t offset = (size_t)h * a->head_dim;
    for (int t = 0; t < a->positions; t++) {
        r->keys[t] = position_row(a->key, t) + offset;
        r->values[t] = position_row(a->value, t) + offset;
        r->grad_keys[t] = position_row(a->grad_key, t) + offset;
        r->grad_values[t] = position_row(a->grad_value, t) + offset;
    }
}

/* Position p attends to positions 0..p: the row tables' first p + 1 rows. */
static inline void attention_forward_positions(const attention_positions *a, head_rows *r)
{
    const int head_dim = a->head_dim;
    for (int h = 0; h < a->n_head; h++) {
        const size_t offset = (size_t)h * head_dim, saved = (size_t)h * a->head_stride;
        head_rows_point(r, a, h);
        for (int p = 0; p < a->positions; p++)
            position_row(a->total, p)[h] = attention_head_forward(
                position_row(a->out, p) + offset, position_row(a->query, p) + offset, r->keys, r->values, p + 1,
                head_dim, a->inverse_scale, position_row(a->exp, p) + saved, position_row(a->weight, p) + saved);
    }
}

/* Heads last to first, each over the positions last to first: a key or
 * value row gets its contributions from later positions first, as in the
 * reference; the heads touch disjoint slices, so their order is free. */
static inline void attention_backward_positions(const attention_positions *a, head_rows *r)
{
    const int head_dim = a->head_dim;
    for (int h = a->n_head - 1; h >= 0; h--) {
        const size_t offset = (size_t)h * head_dim, saved = (size_t)h * a->head_stride;
        head_rows_point(r, a, h);
        for (int p = a->positions - 1; p >= 0; p--)
            attention_head_backward(position_row(a->grad_out, p) + offset, position_row(a->query, p) + offset, r->keys,
                                    r->values, p + 1, head_dim, a->inverse_scale, position_row(a->exp, p) + saved,
                                    position_row(a->weight, p) + saved, position_row(a->total, p)[h],
                                    position_row(a->grad_query, p) + offset, r->grad_keys, r->grad_values,
                                    r->grad_weight, r->grad_exp);
    }
}

/* ---- the loss: -log(softmax(logits_p)[targets[p]]) per position, their mean ---- */

/* losses[p]: position p's loss; ex may be the logits' own rows (overwritten). */
static inline void cross_entropy_forward_positions(double *losses, position_rows logits, position_rows ex,
                                                   const int *targets, int positions, int vocab,
                                                   cross_entropy_saved *saved)
{
    for (int p = 0; p < positions; p++)
        losses[p] = cross_entropy_forward(position_row(logits, p), vocab, targets[p], position_row(ex, p), &saved[p]);
}

/* Writes the logits' gradient from each position's loss gradient (a
 * stride of 0 gives every position the same). */
static inline void cross_entropy_backward_positions(position_rows grad_logits, position_rows ex, int positions,
                                                    int vocab, const cross_entropy_saved *saved,
                                                    position_rows grad_losses)
{
    for (int p = positions - 1; p >= 0; p--)
        cross_entropy_backward(position_row(grad_logits, p), position_row(ex, p), vocab, &saved[p],
                               position_row(grad_losses, p)[0]);
}

/* (0 + l_0 + l_1 + ...) * (1/n): the spec's S * (1/n), 1/n in double. */
static inline double mean_forward(const double *losses, int positions)
{
    double total = losses[0] + 0.0;
    for (int p = 1; p < positions; p++)
        total = total + losses[p];
    return total * (1.0 / (double)positions);
}

/* Each loss's gradient: (1/n) * the mean's. */
static inline double mean_backward(int positions, double grad_mean) { return (1.0 / (double)positions) * grad_mean; }

#endif
