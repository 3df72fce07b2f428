/* plain_values.h: the contract's scalar ops on plain doubles, for variants
 * that replace the step's forward and backward (VARIANT_HAS_LOSS): no graph;
 * the shared model code still runs on them for sampling. The parameters are
 * the model's own array; their gradients a parallel array here, which a
 * variant may give Adam in place (it declares VARIANT_HAS_PARAMETER_ARRAYS). */
#ifndef MICROGPT_PLAIN_VALUES_H
#define MICROGPT_PLAIN_VALUES_H
#ifndef MICROGPT_VARIANT_FILE
#error "engine/graph/plain_values.h is a building block for variants: include it only from a variants/<name>.c"
#endif

#include <math.h>
#include <stdlib.h>

#include "checked.h"

typedef double value_t;

static inline value_t value_constant(double data) { return data; }
static inline value_t value_parameter(double data) { return data; }
static inline double value_data(value_t v) { return v; }
static inline value_t value_add(value_t a, value_t b) { return a + b; }
static inline value_t value_mul(value_t a, value_t b) { return a * b; }
static inline value_t value_pow(value_t a, double c) { return pow(a, c); }
static inline value_t value_log(value_t a) { return log(a); }
static inline value_t value_exp(value_t a) { return exp(a); }
static inline value_t value_relu(value_t a) { return a > 0.0 ? a : 0.0; }
static inline void value_store(value_t *slot, value_t v) { *slot = v; }
static inline void value_clear(value_t *slot) { (void)slot; }

static struct {
    double *data; /* the model's array: value_t is double */
    double *grad;
    size_t count;
} plain_parameters;

static inline void graph_bind_parameters(value_t *parameters, size_t count)
{
    plain_parameters.data = parameters;
    plain_parameters.count = count;
    free(plain_parameters.grad);
    plain_parameters.grad = calloc_checked(count, sizeof *plain_parameters.grad);
}
static inline double *parameter_data(value_t *parameter) { return parameter; }
static inline double *parameter_grad(value_t *parameter)
{
    return &plain_parameters.grad[parameter - plain_parameters.data];
}

/* The parameters as flat arrays, for VARIANT_HAS_PARAMETER_ARRAYS. */
static inline double *parameter_values(void) { return plain_parameters.data; }
static inline double *parameter_gradients(void) { return plain_parameters.grad; }

/* For graph_destroy. */
static inline void plain_parameters_free(void)
{
    free(plain_parameters.grad);
    plain_parameters.grad = NULL;
    plain_parameters.data = NULL;
    plain_parameters.count = 0;
}

#endif
