/* scalar_layers.h: the model's layers written with the contract's scalar ops,
 * exactly as the reference composes them. A variant that declares
 * VARIANT_HAS_<LAYER> brings its own. Outputs go into the model's slots
 * through value_store (variant_contract.h, "who owns what"). */
#ifndef MICROGPT_SCALAR_LAYERS_H
#define MICROGPT_SCALAR_LAYERS_H

#include <math.h>

/* Python's sum(terms): 0 + t0 + t1 + ...; `0 + t0` is t0.__radd__(0), an add
 * node whose second child is a fresh constant 0 (spec, "Consequences"). */
static inline value_t value_sum(const value_t *terms, int count)
{
    value_t total = value_add(terms[0], value_constant(0.0));
    for (int i = 1; i < count; i++)
        total = value_add(total, terms[i]);
    return total;
}

#ifndef VARIANT_HAS_LINEAR
/* out[o] = sum(W[o][i] * x[i] for i): mul(w, x) terms folded left to right. */
static inline void layer_linear(value_t *out, const value_t *w, const value_t *x, int n_out, int n_in)
{
    for (int o = 0; o < n_out; o++) {
        const value_t *row = w + (size_t)o * n_in;
        value_t total = value_add(value_mul(row[0], x[0]), value_constant(0.0));
        for (int i = 1; i < n_in; i++)
            total = value_add(total, value_mul(row[i], x[i]));
        value_store(&out[o], total);
    }
}
#endif

#ifndef VARIANT_HAS_RMSNORM
/* ms = sum(x_i * x_i) / n, i.e. * pow(n, -1); scale = (ms + 1e-5) ** -0.5. */
static inline void layer_rmsnorm(value_t *out, const value_t *x, int n)
{
    value_t total = value_add(value_mul(x[0], x[0]), value_constant(0.0));
    for (int i = 1; i < n; i++)
        total = value_add(total, value_mul(x[i], x[i]));
    value_t mean_square = value_mul(total, value_constant(pow((double)n, -1.0)));
    value_t scale = value_pow(value_add(mean_square, value_constant(1e-5)), -0.5);
    for (int i = 0; i < n; i++)
        value_store(&out[i], value_mul(x[i], scale));
}
#endif

#ifndef VARIANT_HAS_SOFTMAX
/* m = max(z) as a plain number; e_i = exp(z_i + (-m)); p_i = e_i * s ** -1
 * with a separate pow node per element (spec). `out` may alias `z`. */
static inline void layer_softmax(value_t *out, const value_t *z, int n)
{
    double max_value = value_data(z[0]);
    for (int i = 1; i < n; i++)
        if (value_data(z[i]) > max_value)
            max_value = value_data(z[i]);
    for (int i = 0; i < n; i++)
        value_store(&out[i], value_exp(value_add(z[i], value_constant(-max_value))));
    value_t total = value_sum(out, n);
    for (int i = 0; i < n; i++)
        value_store(&out[i], value_mul(out[i], value_pow(total, -1.0)));
}
#endif

#ifndef VARIANT_HAS_ATTENTION
/* One head at the newest position: logits over the cached positions, scaled
 * by pow(head_dim ** 0.5, -1) (a constant leaf), softmax, weighted sum of the
 * values. keys[t * row_stride + j] is element j of this head's key at t.
 * scratch holds `positions` handles. */
static inline void layer_attention_head(value_t *out, const value_t *q, const value_t *keys, const value_t *values,
                                        int positions, int row_stride, int head_dim, value_t *scratch)
{
    const double inverse_scale = pow(pow((double)head_dim, 0.5), -1.0);
    for (int t = 0; t < positions; t++) {
        const value_t *key = keys + (size_t)t * row_stride;
        value_t dot = value_add(value_mul(q[0], key[0]), value_constant(0.0));
        for (int j = 1; j < head_dim; j++)
            dot = value_add(dot, value_mul(q[j], key[j]));
        value_store(&scratch[t], value_mul(dot, value_constant(inverse_scale)));
    }
    layer_softmax(scratch, scratch, positions);
    for (int j = 0; j < head_dim; j++) {
        value_t total = value_add(value_mul(scratch[0], values[j]), value_constant(0.0));
        for (int t = 1; t < positions; t++)
            total = value_add(total, value_mul(scratch[t], values[(size_t)t * row_stride + j]));
        value_store(&out[j], total);
    }
}
#endif

#endif
