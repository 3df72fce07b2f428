/* test_parity: every variant against every other on the same steps. From the
 * same seeded start, the gradients of the same documents and the parameters
 * after a few Adam steps must be identical, bit for bit, between variants that
 * declare tolerance 0, and within the declared tolerance otherwise. A
 * negative control (expected_wrong) must differ from every other variant. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "test_support.h"
#include "training_run.h"

enum { DOCUMENTS = 5, STEPS = 5 };

typedef struct trace {
    size_t parameter_count;
    double *gradients;  /* [DOCUMENTS][parameter_count], from the initial parameters */
    double *parameters; /* after STEPS training steps */
    double losses[STEPS];
} trace;

static trace record(const microgpt_variant *variant, const dataset *data)
{
    trace t;
    python_random rng;
    python_random_seed(&rng, 42);
    size_t *order = training_document_order(data, &rng);
    model_shape shape = model_shape_default();
    shape.vocab_size = data->vocab_size;
    model *m = variant->create(&shape, &rng);
    t.parameter_count = variant->parameter_count(m);
    t.gradients = malloc_checked(DOCUMENTS * t.parameter_count * sizeof *t.gradients);
    t.parameters = malloc_checked(t.parameter_count * sizeof *t.parameters);
    int token_count;
    for (int d = 0; d < DOCUMENTS; d++) {
        const int *tokens = dataset_doc_tokens(data, order[d], &token_count);
        variant->loss_and_gradients(m, tokens, token_count, t.gradients + d * t.parameter_count, NULL);
    }
    for (int step = 0; step < STEPS; step++) {
        const int *tokens = dataset_doc_tokens(data, order[step], &token_count);
        t.losses[step] = variant->train_step(m, tokens, token_count, step, 1000).loss;
    }
    variant->get_parameters(m, t.parameters);
    variant->destroy(m);
    free(order);
    return t;
}

static double max_difference(const double *a, const double *b, size_t count)
{
    double worst = 0.0;
    for (size_t i = 0; i < count; i++) {
        double difference = fabs(a[i] - b[i]);
        if (!(difference <= worst))
            worst = isnan(difference) ? HUGE_VAL : difference;
    }
    return worst;
}

int main(void)
{
    dataset data;
    test_load_dataset(&data);
    CHECK(microgpt_variant_count >= 4, "only %zu variants registered", microgpt_variant_count);
    trace *traces = malloc_checked(microgpt_variant_count * sizeof *traces);
    for (size_t v = 0; v < microgpt_variant_count; v++)
        traces[v] = record(microgpt_variants[v], &data);
    for (size_t a = 0; a < microgpt_variant_count; a++)
        for (size_t b = a + 1; b < microgpt_variant_count; b++) {
            const microgpt_variant *first = microgpt_variants[a], *second = microgpt_variants[b];
            const trace *x = &traces[a], *y = &traces[b];
            CHECK(x->parameter_count == y->parameter_count, "%s and %s: parameter counts differ", first->name,
                  second->name);
            if (x->parameter_count != y->parameter_count)
                continue;
            double allowed = first->tolerance > second->tolerance ? first->tolerance : second->tolerance;
            double gradients = max_difference(x->gradients, y->gradients, DOCUMENTS * x->parameter_count);
            double parameters = max_difference(x->parameters, y->parameters, x->parameter_count);
            double losses = max_difference(x->losses, y->losses, STEPS);
            if (first->expected_wrong != second->expected_wrong) {
                CHECK(gradients > 1e-6, "negative control %s matches %s: gradients differ by only %.3g",
                      first->expected_wrong ? first->name : second->name,
                      first->expected_wrong ? second->name : first->name, gradients);
                continue;
            }
            CHECK(gradients <= allowed, "%s vs %s: gradients differ by %.3g (allowed %g)", first->name, second->name,
                  gradients, allowed);
            CHECK(parameters <= allowed, "%s vs %s: parameters after %d steps differ by %.3g", first->name,
                  second->name, STEPS, parameters);
            CHECK(losses <= allowed, "%s vs %s: losses differ by %.3g", first->name, second->name, losses);
            if (allowed == 0.0)
                CHECK(memcmp(x->gradients, y->gradients, DOCUMENTS * x->parameter_count * sizeof(double)) == 0,
                      "%s vs %s: gradients not bit-identical", first->name, second->name);
        }
    for (size_t v = 0; v < microgpt_variant_count; v++) {
        free(traces[v].gradients);
        free(traces[v].parameters);
    }
    free(traces);
    dataset_free(&data);
    return test_finish("test_parity");
}
