/* cli_main.c: the microgpt-<variant> program, built once per variant.
 *
 * Prints what the reference prints (num docs, vocab size, num params, one
 * line per step, the samples), then a summary of time and graph size.
 * The model's size is the reference's unless --n-embd, --n-head, --n-layer or
 * --block-size say otherwise (limits: variant.h). The training runs on a
 * thread whose stack fits the deepest graph of that size (call_stack.h).
 * Bad input: one line on stderr, exit 2, no output file left behind. */
#ifndef MICROGPT_VARIANT_SYMBOL
#error "compile with -DMICROGPT_VARIANT_SYMBOL=microgpt_variant_<name>"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "call_stack.h"
#include "command_line.h"
#include "dataset.h"
#include "dataset_source.h"
#include "monotonic_clock.h"
#include "training_run.h"
#include "variant.h"

extern const microgpt_variant MICROGPT_VARIANT_SYMBOL;

enum { MAX_STEPS = 1000000, MAX_SAMPLES = 100000 };

typedef struct cli_options {
    const char *data_path, *losses_path;
    int steps, samples, quiet;
    model_shape shape; /* vocab_size comes from the dataset */
} cli_options;

static const char *program = "microgpt";

static void usage(FILE *stream, const microgpt_variant *variant)
{
    char memory_limit[256];
    if (variant->step_bytes)
        snprintf(memory_limit, sizeof memory_limit,
                 "  and at most about %.0f GB in a step of B positions (this variant's own\n"
                 "  estimate: parameters, Adam, activations and its graph, if any).\n",
                 MODEL_MAX_STEP_BYTES / 1e9);
    else
        snprintf(memory_limit, sizeof memory_limit,
                 "  and at most %d graph nodes in a step of B positions, parameters included\n"
                 "  (the reference graph: every scalar op a node; about 100 bytes each).\n",
                 MODEL_MAX_GRAPH_NODES);
    fprintf(stream,
            "usage: %s [--data PATH] [--steps N] [--samples K] [--losses FILE] [--quiet] [--help]\n"
            "                [--n-embd E] [--n-head H] [--n-layer L] [--block-size B]\n"
            "Trains microgpt with the '%s' autograd variant: %s.\n"
            "  --data PATH     names file (default: $MICROGPT_DATA, else %s,\n"
            "                  downloaded and verified if missing)\n"
            "  --steps N       training steps, 1..%d (default 1000)\n"
            "  --samples K     names sampled after training, 0..%d (default 20)\n"
            "  --losses FILE   write each step's loss as %%.17g, one per line\n"
            "  --quiet         omit the per-step lines\n"
            "Model size (defaults: the reference's 16, 4, 1, 16):\n"
            "  --n-embd E      embedding width, 1..%d, divisible by --n-head\n"
            "  --n-head H      attention heads, 1..%d\n"
            "  --n-layer L     transformer layers, 1..%d\n"
            "  --block-size B  longest context (positions per step), 1..%d\n"
            "%s"
            "Exit status: 0 on success, 2 on bad input.\n",
            program, variant->name, variant->description, dataset_default_path(), MAX_STEPS, MAX_SAMPLES,
            MODEL_MAX_N_EMBD, MODEL_MAX_N_HEAD, MODEL_MAX_N_LAYER, MODEL_MAX_BLOCK_SIZE, memory_limit);
}

static void fail(const char *message, const char *detail)
{
    fprintf(stderr, "%s: %s%s\n", program, message, detail ? detail : "");
    exit(2);
}

/* The options, in the order of the usage line. */
enum {
    OPTION_HELP_INDEX,
    OPTION_QUIET,
    OPTION_DATA,
    OPTION_STEPS,
    OPTION_SAMPLES,
    OPTION_LOSSES,
    OPTION_N_EMBD,
    OPTION_N_HEAD,
    OPTION_N_LAYER,
    OPTION_BLOCK_SIZE,
    OPTION_TOTAL
};

static cli_options parse_options(int argc, char **argv, const microgpt_variant *variant)
{
    const model_shape size = model_shape_default();
    /* .count holds the default until the option is given. */
    command_option table[OPTION_TOTAL] = {
        [OPTION_HELP_INDEX] = {.name = "--help", .alias = "-h", .kind = OPTION_HELP},
        [OPTION_QUIET] = {.name = "--quiet", .kind = OPTION_FLAG},
        [OPTION_DATA] = {.name = "--data", .kind = OPTION_FILE},
        [OPTION_STEPS] = {.name = "--steps", .kind = OPTION_COUNT, .low = 1, .high = MAX_STEPS, .count = 1000},
        [OPTION_SAMPLES] = {.name = "--samples", .kind = OPTION_COUNT, .low = 0, .high = MAX_SAMPLES, .count = 20},
        [OPTION_LOSSES] = {.name = "--losses", .kind = OPTION_FILE},
        [OPTION_N_EMBD] = {"--n-embd", NULL, OPTION_COUNT, 1, MODEL_MAX_N_EMBD, .count = size.n_embd},
        [OPTION_N_HEAD] = {"--n-head", NULL, OPTION_COUNT, 1, MODEL_MAX_N_HEAD, .count = size.n_head},
        [OPTION_N_LAYER] = {"--n-layer", NULL, OPTION_COUNT, 1, MODEL_MAX_N_LAYER, .count = size.n_layer},
        [OPTION_BLOCK_SIZE] = {"--block-size", NULL, OPTION_COUNT, 1, MODEL_MAX_BLOCK_SIZE, .count = size.block_size},
    };
    command_line line = {program, table, OPTION_TOTAL, NULL};
    if (command_line_parse(&line, &argc, argv)) {
        usage(stdout, variant);
        exit(0);
    }
    cli_options options = {.data_path = table[OPTION_DATA].text,
                           .losses_path = table[OPTION_LOSSES].text,
                           .steps = table[OPTION_STEPS].count,
                           .samples = table[OPTION_SAMPLES].count,
                           .quiet = table[OPTION_QUIET].given,
                           .shape = size};
    options.shape.n_embd = table[OPTION_N_EMBD].count;
    options.shape.n_head = table[OPTION_N_HEAD].count;
    options.shape.n_layer = table[OPTION_N_LAYER].count;
    options.shape.block_size = table[OPTION_BLOCK_SIZE].count;
    return options;
}

typedef struct training_call {
    const microgpt_variant *variant;
    const dataset *data;
    const run_options *options;
    run_report *report;
} training_call;

static void train_on_thread(void *context)
{
    training_call *call = context;
    training_run(call->variant, call->data, call->options, call->report);
}

static void print_step(void *context, int step, int num_steps, const step_result *result)
{
    (void)context;
    printf("step %4d / %4d | loss %.4f\n", step + 1, num_steps, result->loss);
}

/* The --losses temporary file until it is renamed into place; removed at
 * exit otherwise, whatever ends the program (a refusal, out of memory, a
 * graph too deep for the call stack). */
static char unfinished_losses[4096];

static void remove_unfinished_losses(void)
{
    if (unfinished_losses[0])
        remove(unfinished_losses);
}

/* Losses go to a temporary file next to the target, renamed into place only
 * when complete; it is opened before training so a bad path fails at once.
 * A target that exists and is not a regular file (a directory, a symbolic
 * link such as /dev/stdout, a device such as /dev/null, a pipe) is opened as
 * it is: a directory then fails at once with EISDIR, and the others are
 * written through instead of being replaced by the renamed file. */
static FILE *open_losses_file(const char *path, char *temporary, size_t capacity)
{
    struct stat target;
    temporary[0] = '\0';
    if (lstat(path, &target) == 0 && !S_ISREG(target.st_mode)) {
        FILE *file = fopen(path, "w");
        if (!file) {
            fprintf(stderr, "%s: cannot write --losses %s: %s\n", program, path, strerror(errno));
            exit(2);
        }
        return file;
    }
    if (snprintf(temporary, capacity, "%s.tmp-%ld", path, (long)getpid()) >= (int)capacity)
        fail("--losses path is too long: ", path);
    FILE *file = fopen(temporary, "w");
    if (!file) {
        temporary[0] = '\0';
        fprintf(stderr, "%s: cannot write --losses %s: %s\n", program, path, strerror(errno));
        exit(2);
    }
    atexit(remove_unfinished_losses);
    return file;
}

static void write_losses(FILE *file, char *temporary, const char *path, const run_report *report)
{
    for (int step = 0; step < report->steps; step++)
        fprintf(file, "%.17g\n", report->losses[step]);
    int failed = ferror(file);
    failed |= fclose(file) != 0;
    if (failed || (temporary[0] && rename(temporary, path) != 0)) {
        fprintf(stderr, "%s: cannot write --losses %s: %s\n", program, path, strerror(errno));
        exit(2); /* remove_unfinished_losses removes the temporary file */
    }
    temporary[0] = '\0';
}

static void print_summary(const microgpt_variant *variant, const run_report *report, double wall_seconds)
{
    double steps = report->steps, mean_loss = 0.0;
    for (int step = 0; step < report->steps; step++)
        mean_loss += report->losses[step];
    printf("\n--- summary (%s) ---\n", variant->name);
    printf("wall time: %.3f s (training %.3f s, %.4f ms/step; sampling %.3f s)\n", wall_seconds, report->train_seconds,
           1e3 * report->train_seconds / steps, report->sample_seconds);
    printf("time per step: forward %.4f ms, backward %.4f ms, update %.4f ms\n", 1e3 * report->forward_seconds / steps,
           1e3 * report->backward_seconds / steps, 1e3 * report->update_seconds / steps);
    printf("graph nodes per step: mean %.2f min %zu max %zu\n", report->nodes.mean, report->nodes.min,
           report->nodes.max);
    printf("graph edges per step: mean %.2f min %zu max %zu\n", report->edges.mean, report->edges.min,
           report->edges.max);
    printf("loss: final %.4f, mean %.4f\n", report->losses[report->steps - 1], mean_loss / steps);
}

int main(int argc, char **argv)
{
    double wall_start = monotonic_seconds();
    const microgpt_variant *variant = &MICROGPT_VARIANT_SYMBOL;
    static char program_name[64];
    snprintf(program_name, sizeof program_name, "microgpt-%s", variant->name);
    program = program_name;
    cli_options options = parse_options(argc, argv, variant);

    char path[4096], error[1024];
    if (dataset_locate(options.data_path, path, sizeof path, error, sizeof error) != 0)
        fail(error, NULL);
    dataset data;
    if (dataset_load(path, &data, error, sizeof error) != 0)
        fail(error, NULL);
    model_shape shape = options.shape;
    shape.vocab_size = data.vocab_size;
    if (model_shape_check(&shape, variant, error, sizeof error) != 0)
        fail(error, NULL);

    FILE *losses_file =
        options.losses_path ? open_losses_file(options.losses_path, unfinished_losses, sizeof unfinished_losses) : NULL;

    printf("num docs: %zu\n", data.doc_count);
    printf("vocab size: %d\n", data.vocab_size);
    run_options run = {.steps = options.steps,
                       .samples = options.samples,
                       .shape = shape,
                       .on_step = options.quiet ? NULL : print_step,
                       .context = NULL};
    printf("num params: %zu\n", model_shape_parameter_count(&shape));
    run_report report;
    training_call call = {variant, &data, &run, &report};
    call_stack_run(call_stack_bytes_for_depth(model_shape_graph_depth_bound(&shape)), train_on_thread, &call);
    printf("\n--- inference (new, hallucinated names) ---\n");
    for (int s = 0; s < report.samples; s++)
        printf("sample %2d: %s\n", s + 1, report.sample_text[s]);
    if (losses_file)
        write_losses(losses_file, unfinished_losses, options.losses_path, &report);
    print_summary(variant, &report, monotonic_seconds() - wall_start);
    run_report_free(&report);
    dataset_free(&data);
    return 0;
}
