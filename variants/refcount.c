/* refcount: naive's graph, sort and propagation, with nodes owned as Rust's
 * Rc<RefCell<Value>> or CPython own them: a parent holds a reference to each
 * child, a slot of the model holds one to its node, and a node is freed the
 * moment its count drops to zero, cascading into its children. No list of the
 * step's nodes and no arena: the model dropping its slots and the loss
 * (model_end_step) frees the step's graph. It measures what counting costs. */
#define VARIANT_DESCRIPTION "naive's graph and recursive sort, nodes reference-counted and freed at count zero"
#define VARIANT_TOLERANCE 0.0
#define VARIANT_SORT SORT_RECURSIVE
#define VARIANT_GRAPH GRAPH_SCALAR

#include <assert.h>
#include <stdbool.h>

#include "graph/scalar_graph.h"
#include "graph/topological_order.h"

typedef struct counted_node {
    node node; /* first: a node * converts to a counted_node * and back */
    uint32_t references;
    bool parameter; /* lives while the model holds it, but outside any step */
} counted_node;

static struct {
    size_t step_nodes_alive, parameters_alive;
    node_list dying; /* the free cascade's work stack, reused (CPython's trashcan) */
} refcount_graph;

static inline counted_node *counted(node *v) { return (counted_node *)(void *)v; }

/* The scalar graph's nodes have at most two children, inline: no wide
 * nodes (a fused linear) here. */
static inline counted_node *counted_node_create(double data, uint32_t child_count)
{
    assert(child_count <= 2);
    counted_node *v = malloc_checked(sizeof *v);
    node_init(&v->node, data, child_count);
    /* Nobody holds it yet: the op making it links it into a parent or the
     * model stores it before the layer returns (variant_contract.h). */
    v->references = 0;
    v->parameter = false;
    return v;
}

static inline node *node_create(double data, uint32_t child_count)
{
    counted_node *v = counted_node_create(data, child_count);
    refcount_graph.step_nodes_alive++;
    return &v->node;
}

static inline node *parameter_create(double data)
{
    counted_node *v = counted_node_create(data, 0);
    v->parameter = true;
    refcount_graph.parameters_alive++;
    return &v->node;
}

static inline void node_linked(node *v)
{
    for (uint32_t c = 0; c < v->child_count; c++)
        counted(v->children[c])->references++;
}

static inline void node_held(node *v) { counted(v)->references++; }

/* Frees `v` and every node only it kept alive. A chain of nodes is as deep as
 * the graph (thousands of nodes at 4 layers), so the cascade goes through an
 * explicit stack instead of recursing. The order of the frees (depth first,
 * the last child's nodes first) is not creation order: glibc's LIFO free
 * lists hand the next step's nodes out in this order, scattered over the
 * heap, which costs time but no instructions. */
__attribute__((noinline)) static void node_free_cascade(node *v)
{
    node_list *dying = &refcount_graph.dying;
    node_list_push(dying, v);
    while (dying->count > 0) {
        node *n = dying->items[--dying->count];
        for (uint32_t c = 0; c < n->child_count; c++)
            if (--counted(n->children[c])->references == 0)
                node_list_push(dying, n->children[c]);
        if (counted(n)->parameter)
            refcount_graph.parameters_alive--;
        else
            refcount_graph.step_nodes_alive--;
        free(counted(n));
    }
}

static inline void node_released(node *v)
{
    assert(counted(v)->references > 0);
    if (--counted(v)->references == 0)
        node_free_cascade(v);
}

/* Read by backward: the step's nodes still alive then, reachable or not. */
static inline size_t node_storage_step_bytes(void) { return refcount_graph.step_nodes_alive * sizeof(counted_node); }

/* The model has dropped every slot of the step and its loss: the step's
 * nodes are already freed. What is left alive here has leaked. */
static inline void graph_release_step(void) { assert(refcount_graph.step_nodes_alive == 0); }

static inline void graph_destroy(void)
{
    assert(refcount_graph.step_nodes_alive == 0 && refcount_graph.parameters_alive == 0);
    free(refcount_graph.dying.items);
    refcount_graph.dying = (node_list){0};
    scalar_graph_free();
}

static inline graph_size graph_backward(value_t loss)
{
    topological_order_recursive(loss, &scalar_graph.order);
    return scalar_graph_propagate(loss, &scalar_graph.order);
}
