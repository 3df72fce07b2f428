/* expect: "contract: value_t value_add\(value_t a, value_t b\)"
 * value_add taking a float as its second operand: the model would still
 * compile (a double converts to float), the contract refuses it. */
#define VARIANT_DESCRIPTION "contract test: value_add of the wrong type"
#define VARIANT_TOLERANCE 0
#define VARIANT_SORT SORT_NONE
#define VARIANT_GRAPH GRAPH_NONE

#include "autograd.h"

#define value_add plain_value_add
#include "graph/plain_values.h"
#undef value_add

static inline value_t value_add(value_t a, float b) { return a + b; }
static inline graph_size graph_backward(value_t loss)
{
    (void)loss;
    return (graph_size){0};
}
static inline void graph_release_step(void) {}
static inline void graph_destroy(void) { plain_parameters_free(); }
