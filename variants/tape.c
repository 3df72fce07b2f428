/* tape: the graph as a tape: nodes in flat arrays bump-allocated per step
 * (parameters at the front), fused linear as linear_fused.h's, and creation
 * order as the topological order: backward is one reverse sweep over what the
 * loss reached (a byte per node), no sort, no visited set. Parents add in
 * reverse creation order, not the reference's, so the run drifts within its
 * declared tolerance (tests/test_run.c holds it to it). */
#define VARIANT_DESCRIPTION "arena tape, creation order as topological order (one reverse sweep), fused linear"
#define VARIANT_TOLERANCE 1e-9
#define VARIANT_SORT SORT_NONE
#define VARIANT_GRAPH GRAPH_FUSED

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "checked.h"

typedef uint32_t value_t;

static struct {
    size_t count, capacity;           /* nodes */
    size_t edge_count, edge_capacity; /* child links */
    size_t parameter_count;           /* nodes [0, parameter_count) persist */
    double *data, *grad;
    uint32_t *first_child, *child_count; /* a node's links: [first_child, first_child + child_count) */
    uint8_t *reached;
    uint32_t *children;
    double *local_grads;
} tape;

/* The current capacity doubled until it holds `needed` (from `initial`). */
static inline size_t grown_capacity(size_t capacity, size_t needed, size_t initial)
{
    capacity = capacity ? capacity : initial;
    while (capacity < needed)
        capacity *= 2;
    return capacity;
}

static inline void tape_reserve(size_t nodes, size_t edges)
{
    if (tape.count + nodes > tape.capacity) {
        size_t capacity = grown_capacity(tape.capacity, tape.count + nodes, 1 << 14);
        tape.data = realloc_checked(tape.data, capacity * sizeof *tape.data);
        tape.grad = realloc_checked(tape.grad, capacity * sizeof *tape.grad);
        tape.first_child = realloc_checked(tape.first_child, capacity * sizeof *tape.first_child);
        tape.child_count = realloc_checked(tape.child_count, capacity * sizeof *tape.child_count);
        tape.reached = realloc_checked(tape.reached, capacity * sizeof *tape.reached);
        tape.capacity = capacity;
    }
    if (tape.edge_count + edges > tape.edge_capacity) {
        size_t capacity = grown_capacity(tape.edge_capacity, tape.edge_count + edges, 1 << 16);
        tape.children = realloc_checked(tape.children, capacity * sizeof *tape.children);
        tape.local_grads = realloc_checked(tape.local_grads, capacity * sizeof *tape.local_grads);
        tape.edge_capacity = capacity;
    }
}

/* Appends a node with room for child_count links; returns its index. */
static inline value_t tape_push(double data, uint32_t child_count)
{
    tape_reserve(1, child_count);
    value_t v = (value_t)tape.count++;
    tape.data[v] = data;
    tape.grad[v] = 0.0;
    tape.reached[v] = 0;
    tape.first_child[v] = (uint32_t)tape.edge_count;
    tape.child_count[v] = child_count;
    tape.edge_count += child_count;
    return v;
}

static inline value_t tape_unary(double data, value_t a, double local_a)
{
    value_t v = tape_push(data, 1);
    tape.children[tape.first_child[v]] = a;
    tape.local_grads[tape.first_child[v]] = local_a;
    return v;
}

static inline value_t tape_binary(double data, value_t a, double local_a, value_t b, double local_b)
{
    value_t v = tape_push(data, 2);
    uint32_t link = tape.first_child[v];
    tape.children[link] = a, tape.local_grads[link] = local_a;
    tape.children[link + 1] = b, tape.local_grads[link + 1] = local_b;
    return v;
}

static inline value_t value_constant(double data) { return tape_push(data, 0); }
static inline value_t value_parameter(double data) { return tape_push(data, 0); }
static inline void graph_bind_parameters(value_t *parameters, size_t count)
{
    (void)parameters, (void)count;
    tape.parameter_count = tape.count;
}
static inline double value_data(value_t v) { return tape.data[v]; }
/* The model's slots hold indices; the tape is rewound each step, whoever holds them. */
static inline void value_store(value_t *slot, value_t v) { *slot = v; }
static inline void value_clear(value_t *slot) { (void)slot; }
static inline double *parameter_data(value_t *parameter) { return &tape.data[*parameter]; }
static inline double *parameter_grad(value_t *parameter) { return &tape.grad[*parameter]; }

static inline value_t value_add(value_t a, value_t b)
{
    return tape_binary(tape.data[a] + tape.data[b], a, 1.0, b, 1.0);
}
static inline value_t value_mul(value_t a, value_t b)
{
    return tape_binary(tape.data[a] * tape.data[b], a, tape.data[b], b, tape.data[a]);
}
static inline value_t value_pow(value_t a, double c)
{
    return tape_unary(pow(tape.data[a], c), a, c * pow(tape.data[a], c - 1.0));
}
static inline value_t value_log(value_t a) { return tape_unary(log(tape.data[a]), a, 1.0 / tape.data[a]); }
static inline value_t value_exp(value_t a) { return tape_unary(exp(tape.data[a]), a, exp(tape.data[a])); }
static inline value_t value_relu(value_t a)
{
    double x = tape.data[a];
    return tape_unary(x > 0.0 ? x : 0.0, a, x > 0.0 ? 1.0 : 0.0);
}

/* The fused linear of linear_fused.h, on the tape: children interleaved
 * W[o][0], x[0], ..., value summed from 0 as the reference sums it. */
#define VARIANT_HAS_LINEAR
static inline void layer_linear(value_t *out, const value_t *w, const value_t *x, int n_out, int n_in)
{
    for (int o = 0; o < n_out; o++) {
        const value_t *row = w + (size_t)o * n_in;
        double total = tape.data[row[0]] * tape.data[x[0]] + 0.0;
        for (int i = 1; i < n_in; i++)
            total = total + tape.data[row[i]] * tape.data[x[i]];
        value_t v = tape_push(total, 2u * (uint32_t)n_in);
        uint32_t link = tape.first_child[v];
        for (int i = 0; i < n_in; i++) {
            tape.children[link + 2 * i] = row[i], tape.local_grads[link + 2 * i] = tape.data[x[i]];
            tape.children[link + 2 * i + 1] = x[i], tape.local_grads[link + 2 * i + 1] = tape.data[row[i]];
        }
        value_store(&out[o], v);
    }
}

static inline graph_size graph_backward(value_t loss)
{
    graph_size size = {0};
    tape.grad[loss] = 1.0;
    tape.reached[loss] = 1;
    for (size_t v = tape.count; v-- > tape.parameter_count;) {
        if (!tape.reached[v])
            continue;
        size.nodes++;
        size.edges += tape.child_count[v];
        const double grad = tape.grad[v];
        const uint32_t end = tape.first_child[v] + tape.child_count[v];
        for (uint32_t link = tape.first_child[v]; link < end; link++) {
            tape.grad[tape.children[link]] += tape.local_grads[link] * grad;
            tape.reached[tape.children[link]] = 1;
        }
    }
    for (size_t p = 0; p < tape.parameter_count; p++) {
        size.nodes += tape.reached[p];
        tape.reached[p] = 0;
    }
    size.bytes = (tape.count - tape.parameter_count) * (2 * sizeof(double) + 2 * sizeof(uint32_t) + 1) +
                 tape.edge_count * (sizeof(uint32_t) + sizeof(double));
    return size;
}

static inline void graph_release_step(void)
{
    tape.count = tape.parameter_count;
    tape.edge_count = 0;
}

static inline void graph_destroy(void)
{
    free(tape.data);
    free(tape.grad);
    free(tape.first_child);
    free(tape.child_count);
    free(tape.reached);
    free(tape.children);
    free(tape.local_grads);
    memset(&tape, 0, sizeof tape);
}
