/* training_run: the reference program's main loop over any variant.
 *
 * seed(42), shuffle the documents, create the model, train, sample: the
 * order in which the reference draws its random numbers. Shared by the CLI,
 * the tests and the benchmark harness. */
#ifndef MICROGPT_TRAINING_RUN_H
#define MICROGPT_TRAINING_RUN_H

#include <stddef.h>

#include "dataset.h"
#include "variant.h"

typedef struct run_options {
    int steps;
    int samples;
    model_shape shape; /* vocab_size is taken from the dataset */
    /* Called after every step, may be NULL. */
    void (*on_step)(void *context, int step, int num_steps, const step_result *result);
    void *context;
} run_options;

typedef struct size_statistics {
    double mean;
    size_t min, max;
} size_statistics;

typedef struct run_report {
    int steps, samples;
    size_t parameter_count;
    double *losses;     /* [steps] */
    char **sample_text; /* [samples], each NUL-terminated */
    size_statistics nodes, edges;
    size_statistics bytes;                                    /* graph memory per step (graph_size.bytes) */
    size_statistics sort_depth;                               /* step_result.sort_depth: 0 without a depth-first sort */
    double forward_seconds, backward_seconds, update_seconds; /* summed over steps */
    model_flops flops;                                        /* model_shape_flops, summed over steps */
    double adam_slow_path;                                    /* step_result.adam_slow_path, summed over steps */
    double train_seconds, sample_seconds;
    /* The parameters after training that are subnormal (arithmetic on them
     * is slow) or not finite (the run diverged): a timing must say so. */
    size_t subnormal_parameters, nonfinite_parameters;
} run_report;

void training_run(const microgpt_variant *variant, const dataset *data, const run_options *options, run_report *report);
void run_report_free(run_report *report);
/* The shuffled document order of a run: what random.shuffle(docs) gives. */
size_t *training_document_order(const dataset *data, python_random *rng);

#endif
