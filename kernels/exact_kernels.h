/* exact_kernels.h: hand-derived forward and backward of microgpt's layers
 * over plain arrays, giving the reference's scalar graph's bits: values as
 * its ops compute them, every gradient's contributions in its order
 * (docs/exact-arithmetic.md). Used by floor, vector, replay and sequence. */
#ifndef MICROGPT_EXACT_KERNELS_H
#define MICROGPT_EXACT_KERNELS_H
#ifndef MICROGPT_VARIANT_FILE
#error "kernels/exact_kernels.h is a building block for variants: include it only from a variants/<name>.c"
#endif

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "kernels/exact_pow.h"
#include "parameter_layout.h"

/* Four doubles, four independent sums in the reference's order each (one
 * AVX2 instruction per operation, two SSE2 ones in the baseline copies). */
typedef double exact_v4 __attribute__((vector_size(32)));
/* Loops over the four accumulators of a kernel carry `#pragma GCC unroll 4`:
 * fully unrolled, the accumulators stay in registers. */
/* The same, at any address of a double, aliasing doubles. */
typedef double exact_v4_unaligned __attribute__((vector_size(32), aligned(8), may_alias));

/* A lane mask of a comparison, as the vector extension gives it. */
typedef long long exact_v4_mask __attribute__((vector_size(32)));

/* Eight doubles, for the AVX-512 copies only (one instruction per operation
 * there): the kernels that have them take `wide`, a constant 1 in those
 * copies and 0 in the others, whose compilers drop the wide code before it
 * is lowered (a 64-byte vector without AVX-512 would live in memory). */
typedef double exact_v8 __attribute__((vector_size(64)));
typedef double exact_v8_unaligned __attribute__((vector_size(64), aligned(8), may_alias));

#define V4_LOAD(p) (*(const exact_v4_unaligned *)(const void *)(p))
#define V4_STORE(p, v) (*(exact_v4_unaligned *)(void *)(p) = (v))
#define V4_BROADCAST(x) ((exact_v4){(x), (x), (x), (x)})
#define V8_LOAD(p) (*(const exact_v8_unaligned *)(const void *)(p))
#define V8_STORE(p, v) (*(exact_v8_unaligned *)(void *)(p) = (v))
#define V8_BROADCAST(x) ((exact_v8){(x), (x), (x), (x), (x), (x), (x), (x)})
/* Lanes 0..3 and 4..7 of an exact_v8, and two exact_v4 side by side. */
#define V8_LOW(v) __builtin_shufflevector((v), (v), 0, 1, 2, 3)
#define V8_HIGH(v) __builtin_shufflevector((v), (v), 4, 5, 6, 7)
#define V8_JOIN(low, high) __builtin_shufflevector((low), (high), 0, 1, 2, 3, 4, 5, 6, 7)

/* y[i] = y[i] + x[i] * s */
static inline void vector_add_scaled(double *y, const double *x, double s, int n)
{
    const exact_v4 scale = V4_BROADCAST(s);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        exact_v4 sum = V4_LOAD(y + i) + V4_LOAD(x + i) * scale;
        V4_STORE(y + i, sum);
    }
    for (; i < n; i++)
        y[i] = y[i] + x[i] * s;
}

/* out[i] = x[i] * s */
static inline void vector_scale(double *out, const double *x, double s, int n)
{
    const exact_v4 scale = V4_BROADCAST(s);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        exact_v4 product = V4_LOAD(x + i) * scale;
        V4_STORE(out + i, product);
    }
    for (; i < n; i++)
        out[i] = x[i] * s;
}

/* out[i] = a[i] + b[i] */
static inline void vector_add(double *out, const double *a, const double *b, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        exact_v4 sum = V4_LOAD(a + i) + V4_LOAD(b + i);
        V4_STORE(out + i, sum);
    }
    for (; i < n; i++)
        out[i] = a[i] + b[i];
}

/* Constants the kernels would otherwise recompute with pow at every call:
 * the same call gives the same double, so computing it once per shape is
 * exact (pow((double)n, -1) of rmsnorm; 1 / sqrt(head_dim) of attention,
 * which the reference writes pow(pow(head_dim, 0.5), -1)). */
typedef struct exact_constants {
    double inverse_n_embd, inverse_scale;
} exact_constants;

static inline exact_constants exact_constants_of(int n_embd, int head_dim)
{
    return (exact_constants){pow((double)n_embd, -1.0), pow(pow((double)head_dim, 0.5), -1.0)};
}

typedef struct rmsnorm_saved {
    double shifted; /* ms + 1e-5, whose pow gives the scale */
    double scale;
} rmsnorm_saved;

/* ms = (0 + x0*x0 + x1*x1 ...) * pow(n, -1); scale = (ms + 1e-5) ** -0.5.
 * inverse_n is pow(n, -1) (exact_constants). */
static inline void rmsnorm_forward(double *out, const double *x, int n, double inverse_n, rmsnorm_saved *saved)
{
    double total = x[0] * x[0] + 0.0;
    for (int i = 1; i < n; i++)
        total = total + x[i] * x[i];
    saved->shifted = total * inverse_n + 1e-5;
    saved->scale = pow(saved->shifted, -0.5);
    vector_scale(out, x, saved->scale, n);
}

/* x's gradient gets, after what the caller already added, scale * g_out[i],
 * then x_i * g_S twice (the square node x_i * x_i has x_i as both children).
 * Each element's three contributions stay in that order; elements are
 * independent, so they go four at a time. */
static inline void rmsnorm_backward(double *grad_x, const double *grad_out, const double *x, int n, double inverse_n,
                                    const rmsnorm_saved *s)
{
    double grad_scale = 0.0;
    for (int i = n - 1; i >= 0; i--)
        grad_scale += x[i] * grad_out[i];
    vector_add_scaled(grad_x, grad_out, s->scale, n);
    double grad_shifted = (-0.5 * pow(s->shifted, -1.5)) * grad_scale;
    double grad_total = inverse_n * grad_shifted;
    vector_add_scaled(grad_x, x, grad_total, n);
    vector_add_scaled(grad_x, x, grad_total, n);
}

/* ---- linear ---- */

/* One position's forward runs four output rows in the lanes: it reads the
 * weights in blocks of four rows, column by column, a copy made once per
 * step (the weights change only in Adam): blocked[b][i][lane] =
 * W[4b + lane][i], the rows past n_out zero. */
static inline size_t linear_blocked_size(int n_out, int n_in) { return (size_t)((n_out + 3) / 4) * 4 * (size_t)n_in; }

static inline void linear_block_weights(double *blocked, const double *w, int n_out, int n_in)
{
    for (int b = 0; b < (n_out + 3) / 4; b++) {
        double *block = blocked + (size_t)b * 4 * n_in;
        const double *row = w + (size_t)4 * b * n_in;
        if (4 * b + 4 <= n_out)
            for (int i = 0; i < n_in; i++) {
                exact_v4 column = {row[i], row[n_in + i], row[2 * n_in + i], row[3 * n_in + i]};
                V4_STORE(block + (size_t)i * 4, column);
            }
        else
            for (int lane = 0; lane < 4; lane++)
                for (int i = 0; i < n_in; i++)
                    block[(size_t)i * 4 + lane] = 4 * b + lane < n_out ? row[(size_t)lane * n_in + i] : 0.0;
    }
}

/* A variant's blocked copies in one buffer: lm_head, then each layer's six
 * matrices in the parameters' order (parameter_layout.h), each
 * linear_blocked_size long; wte and wpe, no linears, have none. The offset
 * of the matrix of creation index `index`; at model_matrix_count(shape), the
 * buffer's size. */
static inline size_t blocked_matrix_offset_at(const model_shape *shape, int index)
{
    const int embd = shape->n_embd;
    const size_t square = linear_blocked_size(embd, embd);
    const size_t before[MODEL_LAYER_MATRICES + 1] = {0,
                                                     square,
                                                     2 * square,
                                                     3 * square,
                                                     4 * square,
                                                     4 * square + linear_blocked_size(4 * embd, embd),
                                                     4 * square + linear_blocked_size(4 * embd, embd) +
                                                         linear_blocked_size(embd, 4 * embd)};
    if (index <= MATRIX_LM_HEAD)
        return 0;
    const int layer = (index - MATRIX_WQ) / MODEL_LAYER_MATRICES, which = (index - MATRIX_WQ) % MODEL_LAYER_MATRICES;
    return linear_blocked_size(shape->vocab_size, embd) + (size_t)layer * before[MODEL_LAYER_MATRICES] + before[which];
}

static inline size_t blocked_matrix_offset(const model_shape *shape, int layer, model_matrix matrix)
{
    return blocked_matrix_offset_at(shape, model_matrix_index(layer, matrix));
}

static inline size_t blocked_matrices_size(const model_shape *shape)
{
    return blocked_matrix_offset_at(shape, model_matrix_count(shape));
}

/* Rows 4b..4b+3 of a block's sums, stored up to n_out. */
static inline void linear_store_block(double *out, const exact_v4 *sum, int b, int n_out)
{
    if (4 * b + 4 <= n_out)
        V4_STORE(out + 4 * b, *sum);
    else
        for (int lane = 0; 4 * b + lane < n_out; lane++)
            out[4 * b + lane] = (*sum)[lane];
}

/* out[o] = 0 + W[o][0] * x[0] + W[o][1] * x[1] + ..., one position, over
 * the blocked copy: four blocks (sixteen rows, four independent chains) at
 * a time (vector and replay, whose nodes are one position each; floor runs
 * linear_forward_rows below). */
static inline void linear_forward(double *out, const double *blocked, const double *x, int n_out, int n_in)
{
    const int blocks = (n_out + 3) / 4;
    const size_t stride = (size_t)4 * n_in;
    int b = 0;
    for (; b + 4 <= blocks; b += 4) {
        const double *w = blocked + (size_t)b * stride;
        exact_v4 sum[4], first = V4_BROADCAST(x[0]), zero = V4_BROADCAST(0.0);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++)
            sum[k] = V4_LOAD(w + k * stride) * first + zero;
        for (int i = 1; i < n_in; i++) {
            const exact_v4 xi = V4_BROADCAST(x[i]);
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++)
                sum[k] = sum[k] + V4_LOAD(w + k * stride + (size_t)i * 4) * xi;
        }
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++)
            linear_store_block(out, &sum[k], b + k, n_out);
    }
    for (; b < blocks; b++) {
        const double *w = blocked + (size_t)b * stride;
        exact_v4 sum = V4_LOAD(w) * V4_BROADCAST(x[0]) + V4_BROADCAST(0.0);
        for (int i = 1; i < n_in; i++)
            sum = sum + V4_LOAD(w + (size_t)i * 4) * V4_BROADCAST(x[i]);
        linear_store_block(out, &sum, b, n_out);
    }
}

/* Forward with the positions in the lanes, over the weights as they are
 * (row-major), so a variant that runs a layer's positions together needs no
 * blocked copy: for eight positions at a time, out_p[o] = 0 + W[o][0] *
 * x_p[0] + W[o][1] * x_p[1] + ..., each (o, p) its own chain in the same
 * order, four rows at a time (eight chains of four lanes). x_t, scratch of
 * 8 * n_in doubles, holds the eight inputs transposed (x_t[i][lane]). The
 * transposes are register shuffles, 4 x 4 at a time: they move values and
 * round nothing. */
enum { FORWARD_GROUP = 8 };

/* rows[0..3] become their transpose. */
static inline void v4_transpose(exact_v4 *rows)
{
    const exact_v4 t0 = __builtin_shufflevector(rows[0], rows[1], 0, 4, 2, 6);
    const exact_v4 t1 = __builtin_shufflevector(rows[0], rows[1], 1, 5, 3, 7);
    const exact_v4 t2 = __builtin_shufflevector(rows[2], rows[3], 0, 4, 2, 6);
    const exact_v4 t3 = __builtin_shufflevector(rows[2], rows[3], 1, 5, 3, 7);
    rows[0] = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
    rows[1] = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
    rows[2] = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
    rows[3] = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
}

/* x_t[i][half * 4 + k] = x_(first + k)[i] for the k < count of four
 * positions, zero for the others. */
static inline void forward_transpose_inputs(double *x_t, const double *x, size_t x_stride, int first, int count,
                                            int half, int n_in)
{
    int i = 0;
    for (; i + 4 <= n_in; i += 4) {
        exact_v4 rows[4];
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++)
            rows[k] = k < count ? (exact_v4)V4_LOAD(x + (size_t)(first + k) * x_stride + i) : V4_BROADCAST(0.0);
        v4_transpose(rows);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++)
            V4_STORE(x_t + (size_t)(i + k) * FORWARD_GROUP + half * 4, rows[k]);
    }
    for (; i < n_in; i++)
        for (int k = 0; k < 4; k++)
            x_t[(size_t)i * FORWARD_GROUP + half * 4 + k] = k < count ? x[(size_t)(first + k) * x_stride + i] : 0.0;
}

/* out_(first + k)[o + r] = sums[r][k] for the k < count of four positions. */
static inline void forward_store_outputs(double *out, size_t out_stride, exact_v4 *sums, int first, int count, int o)
{
    v4_transpose(sums);
    for (int k = 0; k < count; k++)
        V4_STORE(out + (size_t)(first + k) * out_stride + o, sums[k]);
}

/* x_t[i][lane] = x_(first + lane)[i] for the lanes < count of eight
 * positions, zero for the others, one eight-lane row per i (built in
 * registers, stored whole: the kernel's loads of it then find one store
 * each). */
static inline void forward_transpose_inputs_wide(double *x_t, const double *x, size_t x_stride, int first, int count,
                                                 int n_in)
{
    int i = 0;
    for (; i + 4 <= n_in; i += 4) {
        exact_v4 low[4], high[4];
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            low[k] = k < count ? (exact_v4)V4_LOAD(x + (size_t)(first + k) * x_stride + i) : V4_BROADCAST(0.0);
            high[k] = k + 4 < count ? (exact_v4)V4_LOAD(x + (size_t)(first + 4 + k) * x_stride + i) : V4_BROADCAST(0.0);
        }
        v4_transpose(low);
        v4_transpose(high);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++)
            V8_STORE(x_t + (size_t)(i + k) * FORWARD_GROUP, V8_JOIN(low[k], high[k]));
    }
    for (; i < n_in; i++)
        for (int lane = 0; lane < FORWARD_GROUP; lane++)
            x_t[(size_t)i * FORWARD_GROUP + lane] = lane < count ? x[(size_t)(first + lane) * x_stride + i] : 0.0;
}

/* linear_forward_rows for one group of eight positions with `wide`: each
 * row's eight chains in one exact_v8. */
static inline void linear_forward_group_wide(double *out, size_t out_stride, const double *w, const double *x,
                                             size_t x_stride, int group, int count, int n_out, int n_in, double *x_t)
{
    const int low_count = count < 4 ? count : 4, high_count = count - low_count;
    forward_transpose_inputs_wide(x_t, x, x_stride, group, count, n_in);
    const exact_v8 zero = V8_BROADCAST(0.0);
    int o = 0;
    for (; o + 4 <= n_out; o += 4) {
        const double *row = w + (size_t)o * n_in;
        exact_v8 sum[4]; /* sum[r][lane]: row o + r, position group + lane */
        const exact_v8 first = V8_LOAD(x_t);
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++)
            sum[r] = V8_BROADCAST(row[(size_t)r * n_in]) * first + zero;
        for (int i = 1; i < n_in; i++) {
            const exact_v8 xi = V8_LOAD(x_t + (size_t)i * FORWARD_GROUP);
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++)
                sum[r] = sum[r] + V8_BROADCAST(row[(size_t)r * n_in + i]) * xi;
        }
        exact_v4 low[4], high[4];
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++)
            low[r] = V8_LOW(sum[r]), high[r] = V8_HIGH(sum[r]);
        forward_store_outputs(out, out_stride, low, group, low_count, o);
        forward_store_outputs(out, out_stride, high, group + 4, high_count, o);
    }
    for (; o < n_out; o++) {
        const double *row = w + (size_t)o * n_in;
        exact_v8 sum = V8_BROADCAST(row[0]) * V8_LOAD(x_t) + zero;
        for (int i = 1; i < n_in; i++)
            sum = sum + V8_BROADCAST(row[i]) * V8_LOAD(x_t + (size_t)i * FORWARD_GROUP);
        for (int lane = 0; lane < count; lane++)
            out[(size_t)(group + lane) * out_stride + o] = sum[lane];
    }
}

static inline void linear_forward_rows(double *out, size_t out_stride, const double *w, const double *x,
                                       size_t x_stride, int positions, int n_out, int n_in, double *x_t, int wide)
{
    for (int group = 0; group < positions; group += FORWARD_GROUP) {
        const int count = positions - group < FORWARD_GROUP ? positions - group : FORWARD_GROUP;
        if (wide) {
            linear_forward_group_wide(out, out_stride, w, x, x_stride, group, count, n_out, n_in, x_t);
            continue;
        }
        const int low_count = count < 4 ? count : 4, high_count = count - low_count;
        forward_transpose_inputs(x_t, x, x_stride, group, low_count, 0, n_in);
        forward_transpose_inputs(x_t, x, x_stride, group + 4, high_count, 1, n_in);
        const exact_v4 zero = V4_BROADCAST(0.0);
        int o = 0;
        for (; o + 4 <= n_out; o += 4) {
            const double *row = w + (size_t)o * n_in;
            exact_v4 low[4], high[4];
            const exact_v4 x_low = V4_LOAD(x_t), x_high = V4_LOAD(x_t + 4);
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++) {
                const exact_v4 weight = V4_BROADCAST(row[(size_t)r * n_in]);
                low[r] = weight * x_low + zero;
                high[r] = weight * x_high + zero;
            }
            for (int i = 1; i < n_in; i++) {
                const exact_v4 xi_low = V4_LOAD(x_t + (size_t)i * FORWARD_GROUP);
                const exact_v4 xi_high = V4_LOAD(x_t + (size_t)i * FORWARD_GROUP + 4);
#pragma GCC unroll 4
                for (int r = 0; r < 4; r++) {
                    const exact_v4 weight = V4_BROADCAST(row[(size_t)r * n_in + i]);
                    low[r] = low[r] + weight * xi_low;
                    high[r] = high[r] + weight * xi_high;
                }
            }
            forward_store_outputs(out, out_stride, low, group, low_count, o);
            forward_store_outputs(out, out_stride, high, group + 4, high_count, o);
        }
        for (; o < n_out; o++) {
            const double *row = w + (size_t)o * n_in;
            exact_v4 sum[2] = {V4_BROADCAST(row[0]) * V4_LOAD(x_t) + zero,
                               V4_BROADCAST(row[0]) * V4_LOAD(x_t + 4) + zero};
            for (int i = 1; i < n_in; i++) {
                sum[0] = sum[0] + V4_BROADCAST(row[i]) * V4_LOAD(x_t + (size_t)i * FORWARD_GROUP);
                sum[1] = sum[1] + V4_BROADCAST(row[i]) * V4_LOAD(x_t + (size_t)i * FORWARD_GROUP + 4);
            }
            for (int lane = 0; lane < count; lane++)
                out[(size_t)(group + lane) * out_stride + o] = sum[lane / 4][lane % 4];
        }
    }
}

/* Backward splits each linear in two. The input's gradient: every column i
 * of grad_x is a chain over the rows in the reference's order, sixteen
 * columns in the lanes at a time (a column span, held in registers) and two
 * positions side by side where their row orders agree. The weights'
 * gradient: each weight gets one contribution per position, positions last
 * to first, so a weight's running sum stays in a register while every
 * position adds its term (linear_weight_gradient), and the gradient array is
 * read and written once per call, not once per position. */
enum { COLUMN_SPAN = 16 };

typedef struct column_span {
    int first, width;
    double *grad_x;
    exact_v4 sum[COLUMN_SPAN / 4];
} column_span;

static inline void span_begin(column_span *s, double *grad_x, int first, int n_in)
{
    s->first = first;
    s->width = n_in - first < COLUMN_SPAN ? n_in - first : COLUMN_SPAN;
    s->grad_x = grad_x + first;
#pragma GCC unroll 4
    for (int k = 0; k < COLUMN_SPAN / 4; k++)
        s->sum[k] = s->width == COLUMN_SPAN ? (exact_v4)V4_LOAD(s->grad_x + 4 * k) : V4_BROADCAST(0.0);
}

/* One row's contribution: grad_x[i] += row[i] * g. */
static inline void span_row(column_span *s, const double *row, double g)
{
    row += s->first;
    if (s->width == COLUMN_SPAN) {
        const exact_v4 gv = V4_BROADCAST(g);
#pragma GCC unroll 4
        for (int k = 0; k < COLUMN_SPAN / 4; k++)
            s->sum[k] = s->sum[k] + V4_LOAD(row + 4 * k) * gv;
    } else
        for (int i = 0; i < s->width; i++)
            s->grad_x[i] += row[i] * g;
}

/* span_row, and with weights_too the row's contribution to its weights'
 * gradients as well, grad_row[i] += x[i] * g, while the row is in registers:
 * for one position, where the weights get one contribution each and
 * linear_weight_gradient's loop over positions saves nothing. */
static inline void span_row_weights(column_span *s, int weights_too, double *grad_row, const double *row,
                                    const double *x, double g)
{
    if (weights_too) {
        grad_row += s->first, x += s->first;
        if (s->width == COLUMN_SPAN) {
            const exact_v4 gv = V4_BROADCAST(g);
#pragma GCC unroll 4
            for (int k = 0; k < COLUMN_SPAN / 4; k++) {
                exact_v4 grad_w = V4_LOAD(grad_row + 4 * k) + V4_LOAD(x + 4 * k) * gv;
                V4_STORE(grad_row + 4 * k, grad_w);
            }
        } else
            for (int i = 0; i < s->width; i++)
                grad_row[i] += x[i] * g;
    }
    span_row(s, row, g);
}

static inline void span_end(column_span *s)
{
    if (s->width == COLUMN_SPAN)
#pragma GCC unroll 4
        for (int k = 0; k < COLUMN_SPAN / 4; k++)
            V4_STORE(s->grad_x + 4 * k, s->sum[k]);
}

/* Where the positions of a batched backward keep their vectors: position
 * p's at base + p * stride. */
typedef struct position_rows {
    double *base;
    size_t stride;
} position_rows;

static inline double *position_row(position_rows rows, int p) { return rows.base + (size_t)p * rows.stride; }

/* linear_weight_gradient (below) with `wide`: each span's sixteen columns
 * in two exact_v8. */
static inline void linear_weight_gradient_wide(double *grad_w, position_rows x, position_rows grad_out, int positions,
                                               int n_out, int n_in)
{
    int o = 0;
    for (; o + 2 <= n_out; o += 2) {
        double *row0 = grad_w + (size_t)o * n_in, *row1 = row0 + n_in;
        int i = 0;
        for (; i + COLUMN_SPAN <= n_in; i += COLUMN_SPAN) {
            exact_v8 sum0[COLUMN_SPAN / 8], sum1[COLUMN_SPAN / 8];
#pragma GCC unroll 4
            for (int k = 0; k < COLUMN_SPAN / 8; k++)
                sum0[k] = V8_LOAD(row0 + i + 8 * k), sum1[k] = V8_LOAD(row1 + i + 8 * k);
            for (int p = positions - 1; p >= 0; p--) {
                const double *xp = position_row(x, p) + i, *gp = position_row(grad_out, p) + o;
                const exact_v8 g0 = V8_BROADCAST(gp[0]), g1 = V8_BROADCAST(gp[1]);
#pragma GCC unroll 4
                for (int k = 0; k < COLUMN_SPAN / 8; k++) {
                    const exact_v8 xv = V8_LOAD(xp + 8 * k);
                    sum0[k] = sum0[k] + xv * g0;
                    sum1[k] = sum1[k] + xv * g1;
                }
            }
#pragma GCC unroll 4
            for (int k = 0; k < COLUMN_SPAN / 8; k++) {
                V8_STORE(row0 + i + 8 * k, sum0[k]);
                V8_STORE(row1 + i + 8 * k, sum1[k]);
            }
        }
        for (; i < n_in; i++)
            for (int p = positions - 1; p >= 0; p--) {
                const double xi = position_row(x, p)[i], *gp = position_row(grad_out, p) + o;
                row0[i] += xi * gp[0];
                row1[i] += xi * gp[1];
            }
    }
    for (; o < n_out; o++)
        for (int p = positions - 1; p >= 0; p--)
            vector_add_scaled(grad_w + (size_t)o * n_in, position_row(x, p), position_row(grad_out, p)[o], n_in);
}

/* grad_w[o][i] += x_p[i] * g_p[o] for p = positions - 1 down to 0: each
 * weight's contributions in the reference's order (positions last to
 * first). Two rows and sixteen columns at a time, the sums in registers. */
static inline void linear_weight_gradient(double *grad_w, position_rows x, position_rows grad_out, int positions,
                                          int n_out, int n_in, int wide)
{
    if (wide) {
        linear_weight_gradient_wide(grad_w, x, grad_out, positions, n_out, n_in);
        return;
    }
    int o = 0;
    for (; o + 2 <= n_out; o += 2) {
        double *row0 = grad_w + (size_t)o * n_in, *row1 = row0 + n_in;
        int i = 0;
        for (; i + COLUMN_SPAN <= n_in; i += COLUMN_SPAN) {
            exact_v4 sum0[COLUMN_SPAN / 4], sum1[COLUMN_SPAN / 4];
#pragma GCC unroll 4
            for (int k = 0; k < COLUMN_SPAN / 4; k++)
                sum0[k] = V4_LOAD(row0 + i + 4 * k), sum1[k] = V4_LOAD(row1 + i + 4 * k);
            for (int p = positions - 1; p >= 0; p--) {
                const double *xp = position_row(x, p) + i, *gp = position_row(grad_out, p) + o;
                const exact_v4 g0 = V4_BROADCAST(gp[0]), g1 = V4_BROADCAST(gp[1]);
#pragma GCC unroll 4
                for (int k = 0; k < COLUMN_SPAN / 4; k++) {
                    const exact_v4 xv = V4_LOAD(xp + 4 * k);
                    sum0[k] = sum0[k] + xv * g0;
                    sum1[k] = sum1[k] + xv * g1;
                }
            }
#pragma GCC unroll 4
            for (int k = 0; k < COLUMN_SPAN / 4; k++) {
                V4_STORE(row0 + i + 4 * k, sum0[k]);
                V4_STORE(row1 + i + 4 * k, sum1[k]);
            }
        }
        for (; i < n_in; i++)
            for (int p = positions - 1; p >= 0; p--) {
                const double xi = position_row(x, p)[i], *gp = position_row(grad_out, p) + o;
                row0[i] += xi * gp[0];
                row1[i] += xi * gp[1];
            }
    }
    for (; o < n_out; o++)
        for (int p = positions - 1; p >= 0; p--)
            vector_add_scaled(grad_w + (size_t)o * n_in, position_row(x, p), position_row(grad_out, p)[o], n_in);
}

/* linear_input_gradient_pair (below) with `wide`: each span's sixteen
 * columns in two exact_v8 (four chains of eight lanes). */
static inline void linear_input_gradient_pair_wide(double *grad_x0, double *grad_x1, const double *w, const double *g0,
                                                   const double *g1, int n_out, int n_in)
{
    int first = 0;
    for (; first + COLUMN_SPAN <= n_in; first += COLUMN_SPAN) {
        exact_v8 sum0[COLUMN_SPAN / 8], sum1[COLUMN_SPAN / 8];
#pragma GCC unroll 4
        for (int k = 0; k < COLUMN_SPAN / 8; k++)
            sum0[k] = V8_LOAD(grad_x0 + first + 8 * k), sum1[k] = V8_LOAD(grad_x1 + first + 8 * k);
        for (int o = n_out - 1; o >= 0; o--) {
            const double *row = w + (size_t)o * n_in + first;
            const exact_v8 gv0 = V8_BROADCAST(g0[o]), gv1 = V8_BROADCAST(g1[o]);
#pragma GCC unroll 4
            for (int k = 0; k < COLUMN_SPAN / 8; k++) {
                const exact_v8 wv = V8_LOAD(row + 8 * k);
                sum0[k] = sum0[k] + wv * gv0;
                sum1[k] = sum1[k] + wv * gv1;
            }
        }
#pragma GCC unroll 4
        for (int k = 0; k < COLUMN_SPAN / 8; k++) {
            V8_STORE(grad_x0 + first + 8 * k, sum0[k]);
            V8_STORE(grad_x1 + first + 8 * k, sum1[k]);
        }
    }
    for (int i = first; i < n_in; i++)
        for (int o = n_out - 1; o >= 0; o--) {
            grad_x0[i] += w[(size_t)o * n_in + i] * g0[o];
            grad_x1[i] += w[(size_t)o * n_in + i] * g1[o];
        }
}

/* grad_x[i] += W[o][i] * g[o] for rows o descending, for two positions at
 * once: the same row order, eight chains of four lanes. */
static inline void linear_input_gradient_pair(double *grad_x0, double *grad_x1, const double *w, const double *g0,
                                              const double *g1, int n_out, int n_in, int wide)
{
    if (wide) {
        linear_input_gradient_pair_wide(grad_x0, grad_x1, w, g0, g1, n_out, n_in);
        return;
    }
    int first = 0;
    for (; first + COLUMN_SPAN <= n_in; first += COLUMN_SPAN) {
        exact_v4 sum0[COLUMN_SPAN / 4], sum1[COLUMN_SPAN / 4];
#pragma GCC unroll 4
        for (int k = 0; k < COLUMN_SPAN / 4; k++)
            sum0[k] = V4_LOAD(grad_x0 + first + 4 * k), sum1[k] = V4_LOAD(grad_x1 + first + 4 * k);
        for (int o = n_out - 1; o >= 0; o--) {
            const double *row = w + (size_t)o * n_in + first;
            const exact_v4 gv0 = V4_BROADCAST(g0[o]), gv1 = V4_BROADCAST(g1[o]);
#pragma GCC unroll 4
            for (int k = 0; k < COLUMN_SPAN / 4; k++) {
                const exact_v4 wv = V4_LOAD(row + 4 * k);
                sum0[k] = sum0[k] + wv * gv0;
                sum1[k] = sum1[k] + wv * gv1;
            }
        }
#pragma GCC unroll 4
        for (int k = 0; k < COLUMN_SPAN / 4; k++) {
            V4_STORE(grad_x0 + first + 4 * k, sum0[k]);
            V4_STORE(grad_x1 + first + 4 * k, sum1[k]);
        }
    }
    for (int i = first; i < n_in; i++)
        for (int o = n_out - 1; o >= 0; o--) {
            grad_x0[i] += w[(size_t)o * n_in + i] * g0[o];
            grad_x1[i] += w[(size_t)o * n_in + i] * g1[o];
        }
}

/* Rows in reverse creation order, the last row's contribution first; with
 * last[p] >= 0, row last[p] is skipped there and comes at the very end (the
 * lm_head rows, last[p] position p's target: see the top of this file). For
 * `positions` positions, last to first; the input gradients of a pair of
 * positions run together where no row is moved to the end. */
static inline void linear_backward_positions(position_rows grad_x, double *grad_w, const double *w, position_rows x,
                                             position_rows grad_out, int positions, int n_out, int n_in,
                                             const int *last, int wide)
{
    const int one = positions == 1;
    if (!one)
        linear_weight_gradient(grad_w, x, grad_out, positions, n_out, n_in, wide);
    int p = positions - 1;
    if (!last)
        for (; p >= 1; p -= 2)
            linear_input_gradient_pair(position_row(grad_x, p), position_row(grad_x, p - 1), w,
                                       position_row(grad_out, p), position_row(grad_out, p - 1), n_out, n_in, wide);
    for (; p >= 0; p--) {
        const double *xp = position_row(x, p), *gp = position_row(grad_out, p);
        const int skip = last ? last[p] : -1;
        for (int first = 0; first < n_in; first += COLUMN_SPAN) {
            column_span s;
            span_begin(&s, position_row(grad_x, p), first, n_in);
            for (int o = n_out - 1; o >= 0; o--)
                if (o != skip)
                    span_row_weights(&s, one, grad_w + (size_t)o * n_in, w + (size_t)o * n_in, xp, gp[o]);
            if (skip >= 0)
                span_row_weights(&s, one, grad_w + (size_t)skip * n_in, w + (size_t)skip * n_in, xp, gp[skip]);
            span_end(&s);
        }
    }
}

/* One position; last < 0 for none. */
static inline void linear_backward(double *grad_x, double *grad_w, const double *w, const double *x,
                                   const double *grad_out, int n_out, int n_in, int last)
{
    linear_backward_positions((position_rows){grad_x, 0}, grad_w, w, (position_rows){(double *)x, 0},
                              (position_rows){(double *)grad_out, 0}, 1, n_out, n_in, last >= 0 ? &last : NULL, 0);
}

/* The weights of one linear: values and gradients. */
typedef struct linear_weights {
    const double *w;
    double *grad;
} linear_weights;

/* q, k, v rows into the normed input, in the order the reference's search
 * meets them: heads descending; within a head v rows, then k and q rows,
 * alternating when the keys are new at this position (position 0), else all
 * k rows then all q rows. For `positions` positions, last to first (as
 * linear_backward_positions); the first of them is position 0 if
 * starts_at_zero. */
static inline void qkv_backward_positions(position_rows grad_normed_rows, position_rows normed_rows, linear_weights q,
                                          linear_weights k, linear_weights v, position_rows grad_q_rows,
                                          position_rows grad_k_rows, position_rows grad_v_rows, int positions,
                                          int n_embd, int n_head, int starts_at_zero, int wide)
{
    const int head_dim = n_embd / n_head, one = positions == 1;
    if (!one) {
        linear_weight_gradient(q.grad, normed_rows, grad_q_rows, positions, n_embd, n_embd, wide);
        linear_weight_gradient(k.grad, normed_rows, grad_k_rows, positions, n_embd, n_embd, wide);
        linear_weight_gradient(v.grad, normed_rows, grad_v_rows, positions, n_embd, n_embd, wide);
    }
#define QKV_ROW(m, r, g)                                                                                               \
    span_row_weights(&s, one, (m).grad + (size_t)(r)*n_embd, (m).w + (size_t)(r)*n_embd, normed, (g)[r])
    for (int first = 0; first < n_embd; first += COLUMN_SPAN)
        for (int p = positions - 1; p >= 0; p--) {
            const int first_position = starts_at_zero && p == 0;
            const double *normed = position_row(normed_rows, p), *grad_q = position_row(grad_q_rows, p);
            const double *grad_k = position_row(grad_k_rows, p), *grad_v = position_row(grad_v_rows, p);
            column_span s;
            span_begin(&s, position_row(grad_normed_rows, p), first, n_embd);
            for (int h = n_head - 1; h >= 0; h--) {
                int head_first = h * head_dim, head_last = head_first + head_dim - 1;
                for (int r = head_last; r >= head_first; r--)
                    QKV_ROW(v, r, grad_v);
                for (int r = head_last; r >= head_first; r--) {
                    QKV_ROW(k, r, grad_k);
                    if (first_position)
                        QKV_ROW(q, r, grad_q);
                }
                if (!first_position)
                    for (int r = head_last; r >= head_first; r--)
                        QKV_ROW(q, r, grad_q);
            }
            span_end(&s);
        }
#undef QKV_ROW
}

static inline void qkv_backward(double *grad_normed, const double *normed, linear_weights q, linear_weights k,
                                linear_weights v, const double *grad_q, const double *grad_k, const double *grad_v,
                                int n_embd, int n_head, int first_position)
{
#define ONE_ROW(pointer) ((position_rows){(double *)(pointer), 0})
    qkv_backward_positions(ONE_ROW(grad_normed), ONE_ROW(normed), q, k, v, ONE_ROW(grad_q), ONE_ROW(grad_k),
                           ONE_ROW(grad_v), 1, n_embd, n_head, first_position, 0);
#undef ONE_ROW
}

/* ---- attention ---- */

/* One attention head at the newest of `positions` positions. keys[t] and
 * values[t] point at this head's slice of position t's key and value; ex and
 * weight hold `positions` numbers each; returns the softmax total. */
static inline double attention_head_forward(double *out, const double *q, const double *const *keys,
                                            const double *const *values, int positions, int head_dim,
                                            double inverse_scale, double *ex, double *weight)
{
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
    const double inverse = pow_reciprocal(total);
    vector_scale(weight, ex, inverse, positions);
    /* out_j = 0 + w_0 v_0[j] + w_1 v_1[j] + ...: the dimensions j in the lanes */
    int j = 0;
    for (; j + 4 <= head_dim; j += 4) {
        exact_v4 sum = V4_BROADCAST(weight[0]) * V4_LOAD(values[0] + j) + V4_BROADCAST(0.0);
        for (int t = 1; t < positions; t++)
            sum = sum + V4_BROADCAST(weight[t]) * V4_LOAD(values[t] + j);
        V4_STORE(out + j, sum);
    }
    for (; j < head_dim; j++) {
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
                                           double inverse_scale, const double *ex, const double *weight, double total,
                                           double *grad_q, double *const *grad_keys, double *const *grad_values,
                                           double *grad_weight, double *grad_ex)
{
    const double inverse = pow_reciprocal(total);
    /* out_j = sum_t w_t * v_t[j]: chains j descending, terms t descending.
     * Each w_t gets its j terms in descending j, each v_t[j] one term: the
     * loops can run t outer. */
    for (int t = positions - 1; t >= 0; t--) {
        double sum = 0.0;
        for (int j = head_dim - 1; j >= 0; j--)
            sum += values[t][j] * grad_out[j];
        grad_weight[t] = sum;
        vector_add_scaled(grad_values[t], grad_out, weight[t], head_dim);
    }
    /* w_t = ex_t * pow(Z, -1): each t its own pow node, t descending; the
     * local gradient -1 * pow(Z, -2) is the same double for every t */
    const double grad_inverse = -1.0 * pow_inverse_square(total);
    double grad_total = 0.0;
    for (int t = positions - 1; t >= 0; t--) {
        grad_ex[t] = inverse * grad_weight[t];
        grad_total += grad_inverse * (ex[t] * grad_weight[t]);
    }
    for (int t = positions - 1; t >= 0; t--) {
        grad_ex[t] += grad_total;
        /* ex = exp(logit - max); logit = dot * inverse_scale */
        const double grad_dot = inverse_scale * (ex[t] * grad_ex[t]);
        vector_add_scaled(grad_q, keys[t], grad_dot, head_dim); /* the dimensions in the lanes */
        vector_add_scaled(grad_keys[t], q, grad_dot, head_dim);
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
    saved->probability = ex[target] * pow_reciprocal(total);
    return log(saved->probability) * -1.0;
}

/* Gradients of the logits from the position loss's gradient. Only the
 * target's probability (its own pow node) reaches the loss. */
static inline void cross_entropy_backward(double *grad_logits, const double *ex, int vocab,
                                          const cross_entropy_saved *s, double grad_loss)
{
    const double grad_log = -1.0 * grad_loss;
    const double grad_probability = (1.0 / s->probability) * grad_log;
    const double inverse = pow_reciprocal(s->total);
    const double grad_total = (-1.0 * pow_inverse_square(s->total)) * (ex[s->target] * grad_probability);
    for (int i = 0; i < vocab; i++) {
        double grad_exp = i == s->target ? inverse * grad_probability + grad_total : grad_total;
        grad_logits[i] = ex[i] * grad_exp;
    }
}

#endif
