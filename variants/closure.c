/* closure: naive with one change: each node carries its backward as a
 * function pointer, as micrograd's _backward closures and PyTorch's virtual
 * Node::apply do, and backward calls it through that pointer. What the
 * closure captures is the node itself (its children and its data) and, for
 * pow, the exponent. Each contribution is the reference's local * grad, in
 * child order: bit-exact. It measures what dynamic dispatch costs. Same heap
 * storage (heap_storage.h) and recursive sort as naive. */
#define VARIANT_DESCRIPTION "naive's graph and recursive sort, each node's backward called through a function pointer"
#define VARIANT_TOLERANCE 0.0
#define VARIANT_SORT SORT_RECURSIVE
#define VARIANT_GRAPH GRAPH_SCALAR

#include <math.h>

#include "graph/heap_storage.h"
#include "graph/topological_order.h"

typedef struct closure_node closure_node;
struct closure_node {
    node node; /* first: the sort and the storage take it as a node; its local_grads stay unused */
    /* adds out's gradient contributions into its children */
    void (*backward)(const closure_node *out);
    double exponent; /* pow's: captured at forward */
};

static inline closure_node *closure(node *v) { return (closure_node *)(void *)v; }

/* A leaf's closure does nothing (micrograd's `lambda: None`). */
static void backward_leaf(const closure_node *out) { (void)out; }

static inline node *node_create(double data, uint32_t child_count)
{
    node *v = heap_step_node_create(sizeof(closure_node), data, child_count);
    closure(v)->backward = backward_leaf;
    return v;
}

static inline node *parameter_create(double data)
{
    node *v = heap_parameter_create(sizeof(closure_node), data);
    closure(v)->backward = backward_leaf;
    return v;
}

/* An op's node: its value, its closure and its children. */
static inline node *closure_unary(double data, void (*backward)(const closure_node *), node *a)
{
    node *v = node_create(data, 1);
    closure(v)->backward = backward;
    v->children[0] = a;
    node_linked(v);
    return v;
}

static inline node *closure_binary(double data, void (*backward)(const closure_node *), node *a, node *b)
{
    node *v = node_create(data, 2);
    closure(v)->backward = backward;
    v->children[0] = a;
    v->children[1] = b;
    node_linked(v);
    return v;
}

/* Each backward adds local * grad into each child in child order, local
 * being the spec's table's, computed from the doubles the reference computes
 * it from at forward (no node's data changes within a step): every
 * contribution has the reference's bits. */
static void backward_add(const closure_node *out)
{
    /* local 1: 1 * grad is grad, exactly */
    out->node.children[0]->grad += out->node.grad;
    out->node.children[1]->grad += out->node.grad;
}

static void backward_mul(const closure_node *out)
{
    node *const *c = out->node.children;
    c[0]->grad += c[1]->data * out->node.grad;
    c[1]->grad += c[0]->data * out->node.grad;
}

static void backward_pow(const closure_node *out)
{
    node *a = out->node.children[0];
    a->grad += (out->exponent * pow(a->data, out->exponent - 1.0)) * out->node.grad;
}

static void backward_log(const closure_node *out)
{
    node *a = out->node.children[0];
    a->grad += (1.0 / a->data) * out->node.grad;
}

/* exp's local gradient is its value: exp(a), the same double as out's. */
static void backward_exp(const closure_node *out) { out->node.children[0]->grad += out->node.data * out->node.grad; }

static void backward_relu(const closure_node *out)
{
    node *a = out->node.children[0];
    a->grad += (a->data > 0.0 ? 1.0 : 0.0) * out->node.grad;
}

static inline value_t value_add(value_t a, value_t b) { return closure_binary(a->data + b->data, backward_add, a, b); }
static inline value_t value_mul(value_t a, value_t b) { return closure_binary(a->data * b->data, backward_mul, a, b); }
/* a ** c: pow(a, c); libm pow, never x*x (spec). */
static inline value_t value_pow(value_t a, double c)
{
    node *v = closure_unary(pow(a->data, c), backward_pow, a);
    closure(v)->exponent = c;
    return v;
}
static inline value_t value_log(value_t a) { return closure_unary(log(a->data), backward_log, a); }
static inline value_t value_exp(value_t a) { return closure_unary(exp(a->data), backward_exp, a); }
static inline value_t value_relu(value_t a) { return closure_unary(a->data > 0.0 ? a->data : 0.0, backward_relu, a); }

static inline graph_size graph_backward(value_t loss)
{
    const node_list *order = &scalar_graph.order;
    topological_order_recursive(loss, &scalar_graph.order);
    graph_size size = {
        .nodes = order->count, .bytes = node_storage_step_bytes(), .sort_depth = scalar_graph.sort_depth};
    loss->grad = 1.0;
    for (size_t i = order->count; i-- > 0;) {
        const closure_node *v = closure(order->items[i]);
        v->backward(v); /* an indirect call: the closure, whatever its op */
        size.edges += v->node.child_count;
    }
    return size;
}
