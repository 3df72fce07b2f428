/* training_run: see training_run.h. */
#include "training_run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "monotonic_clock.h"

size_t *training_document_order(const dataset *data, python_random *rng)
{
    size_t *order = malloc_checked(data->doc_count * sizeof *order);
    for (size_t i = 0; i < data->doc_count; i++)
        order[i] = i;
    python_random_shuffle(rng, order, data->doc_count);
    return order;
}

static void record_size(size_statistics *statistics, size_t value, int step)
{
    if (step == 0 || value < statistics->min)
        statistics->min = value;
    if (step == 0 || value > statistics->max)
        statistics->max = value;
    statistics->mean += (double)value; /* divided by the step count at the end */
}

void training_run(const microgpt_variant *variant, const dataset *data, const run_options *options, run_report *report)
{
    memset(report, 0, sizeof *report);
    report->steps = options->steps;
    report->samples = options->samples;
    report->losses = malloc_checked((size_t)options->steps * sizeof *report->losses);

    python_random rng;
    python_random_seed(&rng, 42);
    size_t *order = training_document_order(data, &rng);
    model_shape shape = options->shape;
    shape.vocab_size = data->vocab_size;
    model *m = variant->create(&shape, &rng);
    report->parameter_count = variant->parameter_count(m);

    double start = monotonic_seconds();
    for (int step = 0; step < options->steps; step++) {
        int token_count;
        const int *tokens = dataset_doc_tokens(data, order[(size_t)step % data->doc_count], &token_count);
        step_result result = variant->train_step(m, tokens, token_count, step, options->steps);
        report->losses[step] = result.loss;
        record_size(&report->nodes, result.graph.nodes, step);
        record_size(&report->edges, result.graph.edges, step);
        record_size(&report->bytes, result.graph.bytes, step);
        record_size(&report->sort_depth, result.sort_depth, step);
        report->forward_seconds += result.forward_seconds;
        report->backward_seconds += result.backward_seconds;
        report->update_seconds += result.update_seconds;
        report->adam_slow_path += (double)result.adam_slow_path;
        model_flops flops =
            model_shape_flops(&shape, token_count - 1 < shape.block_size ? token_count - 1 : shape.block_size);
        report->flops.forward += flops.forward;
        report->flops.backward += flops.backward;
        report->flops.update += flops.update;
        if (options->on_step)
            options->on_step(options->context, step, options->steps, &result);
    }
    report->train_seconds = monotonic_seconds() - start;
    report->nodes.mean /= options->steps;
    report->edges.mean /= options->steps;
    report->bytes.mean /= options->steps;
    report->sort_depth.mean /= options->steps;
    double *parameters = malloc_checked(report->parameter_count * sizeof *parameters);
    variant->get_parameters(m, parameters);
    for (size_t i = 0; i < report->parameter_count; i++) {
        report->subnormal_parameters += fpclassify(parameters[i]) == FP_SUBNORMAL;
        report->nonfinite_parameters += !isfinite(parameters[i]);
    }
    free(parameters);

    start = monotonic_seconds();
    report->sample_text = calloc_checked((size_t)options->samples + 1, sizeof *report->sample_text);
    int *tokens = malloc_checked((size_t)shape.block_size * sizeof *tokens);
    for (int s = 0; s < options->samples; s++) {
        int count = variant->sample(m, &rng, 0.5, data->bos, tokens);
        char *text = malloc_checked((size_t)count + 1);
        for (int i = 0; i < count; i++)
            text[i] = data->characters[tokens[i]];
        text[count] = '\0';
        report->sample_text[s] = text;
    }
    report->sample_seconds = monotonic_seconds() - start;
    free(tokens);
    free(order);
    variant->destroy(m);
}

void run_report_free(run_report *report)
{
    free(report->losses);
    if (report->sample_text)
        for (int s = 0; s < report->samples; s++)
            free(report->sample_text[s]);
    free(report->sample_text);
    memset(report, 0, sizeof *report);
}
