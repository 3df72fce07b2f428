/* exact_kernels.h: hand-derived forward and backward of microgpt's vector
 * operations over plain arrays, reproducing the reference's scalar graph bit
 * for bit. Shared by the variants that skip the scalar graph: `floor` calls
 * them in a fixed order, `vector` from the nodes of a coarse graph.
 *
 * Values are computed as the reference's ops compute them (sums from 0, pow
 * for **, the spec's constants). Gradients are accumulated with +=, callers
 * zeroing first; every gradient that receives three or more contributions
 * must receive them in the reference's order (addition is commutative, so
 * two may come in any order). That order is the reverse of the reference's
 * depth-first post-order: reverse creation order (positions last to first;
 * within an operation its scalar ops undone backwards), except at two kinds
 * of node, found by listing every node's parents in the reference's order:
 *   - the lm_head input: the search enters the logits through the target's,
 *     so rows contribute in descending order with the target's last
 *     (linear_backward_row_last);
 *   - the q/k/v input: the search meets a head's q rows, then its k rows,
 *     then its v rows (q and k alternating at position 0, where the keys are
 *     new too), heads in order (qkv_backward). */
#ifndef MICROGPT_EXACT_KERNELS_H
#define MICROGPT_EXACT_KERNELS_H
#ifndef MICROGPT_VARIANT_FILE
#error "engine/graph/exact_kernels.h is a building block for variants: include it only from a variants/<name>.c"
#endif

#include <math.h>
#include <stddef.h>

typedef struct rmsnorm_saved {
    double shifted; /* ms + 1e-5, whose pow gives the scale */
    double scale;
} rmsnorm_saved;

/* ms = (0 + x0*x0 + x1*x1 ...) * pow(n, -1); scale = (ms + 1e-5) ** -0.5. */
static inline void rmsnorm_forward(double *out, const double *x, int n, rmsnorm_saved *saved)
{
    double total = x[0] * x[0] + 0.0;
    for (int i = 1; i < n; i++)
        total = total + x[i] * x[i];
    saved->shifted = total * pow((double)n, -1.0) + 1e-5;
    saved->scale = pow(saved->shifted, -0.5);
    for (int i = 0; i < n; i++)
        out[i] = x[i] * saved->scale;
}

/* x's gradient gets, after what the caller already added, scale * g_out[i],
 * then x_i * g_S twice (the square node x_i * x_i has x_i as both children). */
static inline void rmsnorm_backward(double *grad_x, const double *grad_out, const double *x, int n,
                                    const rmsnorm_saved *s)
{
    double grad_scale = 0.0;
    for (int i = n - 1; i >= 0; i--) {
        grad_x[i] += s->scale * grad_out[i];
        grad_scale += x[i] * grad_out[i];
    }
    double grad_shifted = (-0.5 * pow(s->shifted, -1.5)) * grad_scale;
    double grad_total = pow((double)n, -1.0) * grad_shifted;
    for (int i = n - 1; i >= 0; i--) {
        grad_x[i] += x[i] * grad_total;
        grad_x[i] += x[i] * grad_total;
    }
}

/* out[o] = 0 + W[o][0] * x[0] + W[o][1] * x[1] + ... */
static inline void linear_forward(double *out, const double *w, const double *x, int n_out, int n_in)
{
    for (int o = 0; o < n_out; o++) {
        const double *row = w + (size_t)o * n_in;
        double total = row[0] * x[0] + 0.0;
        for (int i = 1; i < n_in; i++)
            total = total + row[i] * x[i];
        out[o] = total;
    }
}

/* One output row: its weights' and its inputs' gradients. */
static inline void linear_row_backward(double *grad_x, double *grad_row, const double *row, const double *x,
                                       double grad_out, int n_in)
{
    for (int i = 0; i < n_in; i++) {
        grad_row[i] += x[i] * grad_out;
        grad_x[i] += row[i] * grad_out;
    }
}

/* Rows in reverse creation order: the last row's contribution first. */
static inline void linear_backward(double *grad_x, double *grad_w, const double *w, const double *x,
                                   const double *grad_out, int n_out, int n_in)
{
    for (int o = n_out - 1; o >= 0; o--)
        linear_row_backward(grad_x, grad_w + (size_t)o * n_in, w + (size_t)o * n_in, x, grad_out[o], n_in);
}

/* Rows descending, but row `last` last (the lm_head rows, `last` the target). */
static inline void linear_backward_row_last(double *grad_x, double *grad_w, const double *w, const double *x,
                                            const double *grad_out, int n_out, int n_in, int last)
{
    for (int o = n_out - 1; o >= 0; o--)
        if (o != last)
            linear_row_backward(grad_x, grad_w + (size_t)o * n_in, w + (size_t)o * n_in, x, grad_out[o], n_in);
    linear_row_backward(grad_x, grad_w + (size_t)last * n_in, w + (size_t)last * n_in, x, grad_out[last], n_in);
}

/* The weights of one linear: values and gradients. */
typedef struct linear_weights {
    const double *w;
    double *grad;
} linear_weights;

/* q, k, v rows into the normed input, in the order the reference's search
 * meets them: heads descending; within a head v rows, then k and q rows,
 * alternating when the keys are new at this position (position 0), else all
 * k rows then all q rows. */
static inline void qkv_backward(double *grad_normed, const double *normed, linear_weights q, linear_weights k,
                                linear_weights v, const double *grad_q, const double *grad_k, const double *grad_v,
                                int n_embd, int n_head, int first_position)
{
    const int head_dim = n_embd / n_head;
    for (int h = n_head - 1; h >= 0; h--) {
        int first = h * head_dim, last = first + head_dim - 1;
        for (int r = last; r >= first; r--)
            linear_row_backward(grad_normed, v.grad + (size_t)r * n_embd, v.w + (size_t)r * n_embd, normed, grad_v[r],
                                n_embd);
        for (int r = last; r >= first; r--) {
            linear_row_backward(grad_normed, k.grad + (size_t)r * n_embd, k.w + (size_t)r * n_embd, normed, grad_k[r],
                                n_embd);
            if (first_position)
                linear_row_backward(grad_normed, q.grad + (size_t)r * n_embd, q.w + (size_t)r * n_embd, normed,
                                    grad_q[r], n_embd);
        }
        if (!first_position)
            for (int r = last; r >= first; r--)
                linear_row_backward(grad_normed, q.grad + (size_t)r * n_embd, q.w + (size_t)r * n_embd, normed,
                                    grad_q[r], n_embd);
    }
}

/* One attention head at the newest of `positions` positions. keys[t] and
 * values[t] point at this head's slice of position t's key and value; ex and
 * weight hold `positions` numbers each; returns the softmax total. */
static inline double attention_head_forward(double *out, const double *q, const double *const *keys,
                                            const double *const *values, int positions, int head_dim, double *ex,
                                            double *weight)
{
    const double inverse_scale = pow(pow((double)head_dim, 0.5), -1.0);
    double max_logit = 0.0;
    for (int t = 0; t < positions; t++) {
        double dot = q[0] * keys[t][0] + 0.0;
        for (int j = 1; j < head_dim; j++)
            dot = dot + q[j] * keys[t][j];
        weight[t] = dot * inverse_scale; /* the logits, until the weights replace them */
        if (t == 0 || weight[t] > max_logit)
            max_logit = weight[t];
    }
    for (int t = 0; t < positions; t++)
        ex[t] = exp(weight[t] + -max_logit);
    double total = ex[0] + 0.0;
    for (int t = 1; t < positions; t++)
        total = total + ex[t];
    const double inverse = pow(total, -1.0);
    for (int t = 0; t < positions; t++)
        weight[t] = ex[t] * inverse;
    for (int j = 0; j < head_dim; j++) {
        double sum = weight[0] * values[0][j] + 0.0;
        for (int t = 1; t < positions; t++)
            sum = sum + weight[t] * values[t][j];
        out[j] = sum;
    }
    return total;
}

/* Backward of one head: gradients into q, every position's key and value
 * (grad_keys[t], grad_values[t] point at this head's slices). grad_weight
 * and grad_ex are scratch of `positions` numbers. */
static inline void attention_head_backward(const double *grad_out, const double *q, const double *const *keys,
                                           const double *const *values, int positions, int head_dim,
                                           const double *ex, const double *weight, double total, double *grad_q,
                                           double *const *grad_keys, double *const *grad_values, double *grad_weight,
                                           double *grad_ex)
{
    const double inverse_scale = pow(pow((double)head_dim, 0.5), -1.0);
    const double inverse = pow(total, -1.0);
    for (int t = 0; t < positions; t++)
        grad_weight[t] = 0.0;
    /* out_j = sum_t w_t * v_t[j]: chains j descending, terms t descending */
    for (int j = head_dim - 1; j >= 0; j--)
        for (int t = positions - 1; t >= 0; t--) {
            grad_weight[t] += values[t][j] * grad_out[j];
            grad_values[t][j] += weight[t] * grad_out[j];
        }
    /* w_t = ex_t * pow(Z, -1): each t its own pow node, t descending */
    double grad_total = 0.0;
    for (int t = positions - 1; t >= 0; t--) {
        grad_ex[t] = inverse * grad_weight[t];
        grad_total += (-1.0 * pow(total, -2.0)) * (ex[t] * grad_weight[t]);
    }
    for (int t = positions - 1; t >= 0; t--) {
        grad_ex[t] += grad_total;
        /* ex = exp(logit - max); logit = dot * inverse_scale */
        const double grad_dot = inverse_scale * (ex[t] * grad_ex[t]);
        for (int j = head_dim - 1; j >= 0; j--) {
            grad_q[j] += keys[t][j] * grad_dot;
            grad_keys[t][j] += q[j] * grad_dot;
        }
    }
}

/* -log(softmax(logits)[target]): keeps exp(logit - max) and their total;
 * returns the loss of the position. */
typedef struct cross_entropy_saved {
    double total, probability;
    int target;
} cross_entropy_saved;

static inline double cross_entropy_forward(const double *logits, int vocab, int target, double *ex,
                                           cross_entropy_saved *saved)
{
    double max_logit = logits[0];
    for (int i = 1; i < vocab; i++)
        if (logits[i] > max_logit)
            max_logit = logits[i];
    for (int i = 0; i < vocab; i++)
        ex[i] = exp(logits[i] + -max_logit);
    double total = ex[0] + 0.0;
    for (int i = 1; i < vocab; i++)
        total = total + ex[i];
    saved->total = total;
    saved->target = target;
    saved->probability = ex[target] * pow(total, -1.0);
    return log(saved->probability) * -1.0;
}

/* Gradients of the logits from the position loss's gradient. Only the
 * target's probability (its own pow node) reaches the loss. */
static inline void cross_entropy_backward(double *grad_logits, const double *ex, int vocab,
                                          const cross_entropy_saved *s, double grad_loss)
{
    const double grad_log = -1.0 * grad_loss;
    const double grad_probability = (1.0 / s->probability) * grad_log;
    const double inverse = pow(s->total, -1.0);
    const double grad_total = (-1.0 * pow(s->total, -2.0)) * (ex[s->target] * grad_probability);
    for (int i = 0; i < vocab; i++) {
        double grad_exp = i == s->target ? inverse * grad_probability + grad_total : grad_total;
        grad_logits[i] = ex[i] * grad_exp;
    }
}

#endif
