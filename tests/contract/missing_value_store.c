/* expect: undeclared[a-z ]*'value_store'|'value_store' undeclared
 * A value type without the model's slot operations (who owns what): the
 * contract names the missing op. */
#define VARIANT_DESCRIPTION "contract test: no value_store"
#define VARIANT_TOLERANCE 0
#define VARIANT_SORT SORT_NONE
#define VARIANT_GRAPH GRAPH_NONE

#include <math.h>

#include "autograd.h"

typedef double value_t;

static inline value_t value_constant(double data) { return data; }
static inline value_t value_parameter(double data) { return data; }
static inline void graph_bind_parameters(value_t *parameters, size_t count) { (void)parameters, (void)count; }
static inline double value_data(value_t v) { return v; }
static inline double *parameter_data(value_t *parameter) { return parameter; }
static inline double *parameter_grad(value_t *parameter) { return parameter; }
static inline value_t value_add(value_t a, value_t b) { return a + b; }
static inline value_t value_mul(value_t a, value_t b) { return a * b; }
static inline value_t value_pow(value_t a, double c) { return pow(a, c); }
static inline value_t value_log(value_t a) { return log(a); }
static inline value_t value_exp(value_t a) { return exp(a); }
static inline value_t value_relu(value_t a) { return a > 0.0 ? a : 0.0; }
static inline graph_size graph_backward(value_t loss) { return (graph_size){.nodes = loss > 0.0}; }
static inline void graph_release_step(void) {}
static inline void graph_destroy(void) {}
