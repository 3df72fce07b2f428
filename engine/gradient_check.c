/* gradient_check: see gradient_check.h. */
#include "gradient_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "checked.h"
#include "training_run.h"

enum { CHECK_DOCUMENTS = 3 };

/* The run's first documents and, if longer, the longest of its first 1000:
 * short and full-length graphs both get checked. */
static size_t pick_documents(const dataset *data, const size_t *order, size_t picked[CHECK_DOCUMENTS + 1])
{
    size_t count = data->doc_count < CHECK_DOCUMENTS ? data->doc_count : CHECK_DOCUMENTS;
    size_t longest = order[0];
    int longest_tokens = 0;
    for (size_t i = 0; i < data->doc_count && i < 1000; i++) {
        int token_count;
        dataset_doc_tokens(data, order[i], &token_count);
        if (token_count > longest_tokens)
            longest_tokens = token_count, longest = order[i];
    }
    for (size_t i = 0; i < count; i++)
        picked[i] = order[i];
    int already = 0;
    for (size_t i = 0; i < count; i++)
        already |= picked[i] == longest;
    if (!already)
        picked[count++] = longest;
    return count;
}

/* Gradients of every picked document from a fresh, seeded model. */
static double *gradients_of(const microgpt_variant *variant, const dataset *data, const model_shape *shape,
                            const size_t *documents, size_t document_count, size_t *parameter_count)
{
    python_random rng;
    python_random_seed(&rng, 42);
    size_t *order = training_document_order(data, &rng);
    free(order);
    model *m = variant->create(shape, &rng);
    *parameter_count = variant->parameter_count(m);
    double *gradients = malloc_checked(document_count * *parameter_count * sizeof *gradients);
    for (size_t d = 0; d < document_count; d++) {
        int token_count;
        const int *tokens = dataset_doc_tokens(data, documents[d], &token_count);
        variant->loss_and_gradients(m, tokens, token_count, gradients + d * *parameter_count, NULL);
    }
    variant->destroy(m);
    return gradients;
}

/* Parameter indices to difference: `per_matrix` evenly spread over each
 * block of n_embd * n_embd parameters, plus every parameter of the embedding
 * rows the first document uses (the ones with non-zero gradients). */
static size_t pick_parameters(const model_shape *shape, const int *tokens, int token_count, size_t per_matrix,
                              size_t **picked_out)
{
    size_t embd = (size_t)shape->n_embd, total = model_shape_parameter_count(shape);
    size_t block = embd * embd, capacity = (total / block + 1) * per_matrix + (size_t)token_count * embd;
    size_t *picked = malloc_checked(capacity * sizeof *picked), count = 0;
    for (size_t start = 0; start < total; start += block)
        for (size_t k = 0; k < per_matrix; k++) {
            size_t index = start + (k * 7919 + 13) % block; /* a stride coprime with the row length */
            if (index < total)
                picked[count++] = index;
        }
    for (int t = 0; t < model_shape_positions(shape, token_count); t++)
        for (size_t i = 0; i < embd; i += embd / 4 ? embd / 4 : 1)
            picked[count++] = model_matrix_offset(shape, 0, MATRIX_WTE) + (size_t)tokens[t] * embd + i;
    *picked_out = picked;
    return count;
}

gradient_check_result gradient_check(const microgpt_variant *variant, const microgpt_variant *reference,
                                     const dataset *data, const model_shape *shape, size_t parameters_per_matrix)
{
    gradient_check_result result = {GRADIENTS_BIT_EXACT, 0.0, 0.0, 0.0, 0, 0};
    model_shape sized = *shape;
    sized.vocab_size = data->vocab_size;

    python_random rng;
    python_random_seed(&rng, 42);
    size_t *order = training_document_order(data, &rng);
    size_t documents[CHECK_DOCUMENTS + 1];
    result.documents = pick_documents(data, order, documents);
    free(order);

    size_t parameter_count, reference_count;
    double *expected = gradients_of(reference, data, &sized, documents, result.documents, &reference_count);
    double *actual = gradients_of(variant, data, &sized, documents, result.documents, &parameter_count);
    if (parameter_count != reference_count) {
        result.status = GRADIENTS_WRONG;
        result.max_reference_difference = result.max_relative_difference = HUGE_VAL;
    }
    for (size_t d = 0; parameter_count == reference_count && d < result.documents; d++) {
        const double *g = actual + d * parameter_count, *reference_g = expected + d * parameter_count;
        double largest = 0.0, worst = 0.0;
        for (size_t i = 0; i < parameter_count; i++) {
            double difference = fabs(g[i] - reference_g[i]);
            if (!(difference <= worst)) /* NaN counts as the worst */
                worst = isnan(difference) ? HUGE_VAL : difference;
            if (fabs(reference_g[i]) > largest)
                largest = fabs(reference_g[i]);
            if (g[i] != reference_g[i] && result.status == GRADIENTS_BIT_EXACT)
                result.status = GRADIENTS_WITHIN_TOLERANCE;
        }
        double relative = worst == 0.0 ? 0.0 : largest > 0.0 ? worst / largest : HUGE_VAL;
        if (worst > result.max_reference_difference)
            result.max_reference_difference = worst;
        if (relative > result.max_relative_difference)
            result.max_relative_difference = relative;
    }

    /* Central differences of the variant's own loss on the first document. */
    int token_count;
    const int *tokens = dataset_doc_tokens(data, documents[0], &token_count);
    size_t *picked;
    result.finite_difference_parameters = pick_parameters(&sized, tokens, token_count, parameters_per_matrix, &picked);
    python_random_seed(&rng, 42);
    free(training_document_order(data, &rng));
    model *m = variant->create(&sized, &rng);
    double *parameters = malloc_checked(parameter_count * sizeof *parameters);
    variant->get_parameters(m, parameters);
    for (size_t k = 0; k < result.finite_difference_parameters; k++) {
        size_t index = picked[k];
        double original = parameters[index], step = 1e-5;
        parameters[index] = original + step;
        variant->set_parameters(m, parameters);
        double loss_up = variant->forward(m, tokens, token_count);
        variant->release(m);
        parameters[index] = original - step;
        variant->set_parameters(m, parameters);
        double loss_down = variant->forward(m, tokens, token_count);
        variant->release(m);
        parameters[index] = original;
        double finite_difference = (loss_up - loss_down) / (2.0 * step);
        double error = fabs(actual[index] - finite_difference) / (1e-3 + fabs(finite_difference));
        if (!(error <= result.max_finite_difference_error))
            result.max_finite_difference_error = isnan(error) ? HUGE_VAL : error;
    }
    variant->set_parameters(m, parameters);
    variant->destroy(m);

    if (result.status == GRADIENTS_WITHIN_TOLERANCE && !(result.max_reference_difference <= variant->tolerance &&
                                                         result.max_relative_difference <= GRADIENT_REORDERING_BOUND))
        result.status = GRADIENTS_WRONG;
    if (!(result.max_finite_difference_error <= FINITE_DIFFERENCE_TOLERANCE))
        result.status = GRADIENTS_WRONG;
    free(parameters);
    free(picked);
    free(expected);
    free(actual);
    return result;
}

void gradient_status_text(const gradient_check_result *result, char *text, size_t capacity)
{
    switch (result->status) {
    case GRADIENTS_BIT_EXACT: snprintf(text, capacity, "bit-exact"); break;
    case GRADIENTS_WITHIN_TOLERANCE:
        snprintf(text, capacity, "within tol %.1e", result->max_reference_difference);
        break;
    default: snprintf(text, capacity, "wrong gradients"); break;
    }
}
