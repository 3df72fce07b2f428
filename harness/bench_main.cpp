// bench_main.cpp: microgpt-bench, the Google Benchmark harness over every
// variant of the registry (generated from variants/*.c). Each variant is
// gradient-checked against naive before it is timed; the verdict labels each
// of its rows (counter gradient_status), so no row is timed unchecked. The
// benchmarks (train_full, train_k, forward, backward, update, or sweep/ with
// --sweep) and their counters: docs/benchmarking.md, "The harness". One model
// per variant at a time: benchmarks run one after another, on a stack that
// fits the size's deepest recursive sort (call_stack.h).
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "call_stack.h"
#include "command_line.h"
#include "dataset.h"
#include "dataset_source.h"
#include "gradient_check.h"
#include "sha256.h"
#include "training_run.h"
#include "variant.h"
}

#include "step_record.h"

namespace
{

const char *const program = "microgpt-bench";

// Finite-difference probes per parameter matrix in the gradient check.
const size_t gradient_check_parameters_per_matrix = 8;
// Where --sweep checks gradients: several layers and heads, small enough to
// check in milliseconds (tests/CMakeLists.txt's gradients_size tests use it,
// with more finite differences); a sweep starts a process per point.
const model_shape sweep_check_shape = {8, 2, 2, 8, 0};
const size_t sweep_check_parameters_per_matrix = 2;

struct bench_options {
    std::vector<std::string> variants; // empty: all
    std::string data_path;
    std::string step_times_path; // --step-times: empty for none
    int steps = 1000;
    int k_steps = 300;
    int phase_iterations = 200;
    bool list_variants = false;
    bool sweep = false;
    model_shape shape = model_shape_default();
};

struct variant_context {
    const microgpt_variant *variant;
    const dataset *data;
    model_shape shape; // vocab_size set
    gradient_check_result check;
    std::string status; // "bit-exact", "within tol 1.0e-16" or "wrong gradients"
};

[[noreturn]] void exit_bad_input(const std::string &message)
{
    std::fprintf(stderr, "%s: %s\n", program, message.c_str());
    std::exit(2);
}

void usage(FILE *stream)
{
    std::fprintf(stream,
                 "usage: %s [--variant NAME]... [--steps N] [--k-steps K] [--phase-iterations I]\n"
                 "                      [--n-embd E] [--n-head H] [--n-layer L] [--block-size B] [--sweep]\n"
                 "                      [--data PATH] [--list-variants] [--help] [--benchmark_...]\n"
                 "Times every microgpt autograd variant (or those named) with Google Benchmark,\n"
                 "after checking its gradients against 'naive'.\n"
                 "  --variant NAME          benchmark this variant (repeatable, each name once; default: all)\n"
                 "  --steps N               steps of the full training run (default 1000)\n"
                 "  --k-steps K             steps of the short run compared with Python, at most --steps\n"
                 "                          (default 300, or --steps if fewer)\n"
                 "  --phase-iterations I    iterations of the forward/backward/update benchmarks\n"
                 "                          (default 200)\n"
                 "  --n-embd E, --n-head H, --n-layer L, --block-size B\n"
                 "                          model size (default: the reference's 16, 4, 1, 16; limits as\n"
                 "                          in microgpt-<variant> --help); at another size the benchmark\n"
                 "                          names end in it, e.g. train_full/naive/e64_h4_l2_b16\n"
                 "  --sweep                 only sweep/<variant>/e<E>_h<H>_l<L>_b<B>: the training run of\n"
                 "                          --steps steps with memory counters (peak RSS of the process:\n"
                 "                          VmHWM, and getrusage's ru_maxrss), repeated until\n"
                 "                          --benchmark_min_time;\n"
                 "                          the gradient check runs at e8_h2_l2_b8 (make sweep)\n"
                 "  --data PATH             names file (default: $MICROGPT_DATA, else data/names.txt)\n"
                 "  --step-times FILE       write every step's time, nodes, page faults and heap statistics\n"
                 "                          of each variant's first train_full run as JSON (step_record.h)\n"
                 "  --list-variants         print the variant names, one per line, and exit\n"
                 "Google Benchmark's flags pass through, e.g. --benchmark_repetitions=3\n"
                 "--benchmark_out=FILE --benchmark_out_format=json (--benchmark_help lists them).\n"
                 "Exit status: 0 on success, 2 on bad input.\n",
                 program);
}

// Takes our options out of argv (engine/command_line.h: the CLI's rules),
// leaving Google Benchmark's --benchmark_* flags for Initialize.
bench_options parse_options(int *argc, char **argv)
{
    enum {
        HELP,
        LIST_VARIANTS,
        SWEEP,
        VARIANT,
        STEPS,
        K_STEPS,
        PHASE_ITERATIONS,
        DATA,
        N_EMBD,
        N_HEAD,
        N_LAYER,
        BLOCK_SIZE,
        STEP_TIMES,
        OPTION_TOTAL
    };
    bench_options options;
    // .count holds the default until the option is given.
    command_option table[OPTION_TOTAL] = {};
    table[HELP] = {.name = "--help", .alias = "-h", .kind = OPTION_HELP};
    table[LIST_VARIANTS] = {.name = "--list-variants", .kind = OPTION_FLAG};
    table[SWEEP] = {.name = "--sweep", .kind = OPTION_FLAG};
    table[VARIANT] = {.name = "--variant", .kind = OPTION_LIST};
    table[STEPS] = {.name = "--steps", .kind = OPTION_COUNT, .low = 1, .high = 1000000, .count = options.steps};
    table[K_STEPS] = {.name = "--k-steps", .kind = OPTION_COUNT, .low = 1, .high = 1000000, .count = options.k_steps};
    table[PHASE_ITERATIONS] = {.name = "--phase-iterations",
                               .kind = OPTION_COUNT,
                               .low = 1,
                               .high = 100000000,
                               .count = options.phase_iterations};
    table[DATA] = {.name = "--data", .kind = OPTION_FILE};
    table[N_EMBD] = {
        .name = "--n-embd", .kind = OPTION_COUNT, .low = 1, .high = MODEL_MAX_N_EMBD, .count = options.shape.n_embd};
    table[N_HEAD] = {
        .name = "--n-head", .kind = OPTION_COUNT, .low = 1, .high = MODEL_MAX_N_HEAD, .count = options.shape.n_head};
    table[N_LAYER] = {
        .name = "--n-layer", .kind = OPTION_COUNT, .low = 1, .high = MODEL_MAX_N_LAYER, .count = options.shape.n_layer};
    table[BLOCK_SIZE] = {.name = "--block-size",
                         .kind = OPTION_COUNT,
                         .low = 1,
                         .high = MODEL_MAX_BLOCK_SIZE,
                         .count = options.shape.block_size};
    table[STEP_TIMES] = {.name = "--step-times", .kind = OPTION_FILE};
    command_line line = {
        .program = program, .options = table, .option_count = OPTION_TOTAL, .pass_through_prefix = "--benchmark_"};
    if (command_line_parse(&line, argc, argv)) {
        usage(stdout);
        std::exit(0);
    }
    for (int i = 1; i < *argc; i++)
        if (std::strcmp(argv[i], "--benchmark_help") == 0)
            argv[i] = const_cast<char *>("--help");
    options.variants.assign(table[VARIANT].values, table[VARIANT].values + table[VARIANT].given);
    options.list_variants = table[LIST_VARIANTS].given;
    options.sweep = table[SWEEP].given;
    options.steps = table[STEPS].count;
    // Unless given, train_k runs min(300, --steps) steps.
    options.k_steps = table[K_STEPS].given ? table[K_STEPS].count : std::min(options.k_steps, options.steps);
    options.phase_iterations = table[PHASE_ITERATIONS].count;
    if (table[DATA].text)
        options.data_path = table[DATA].text;
    if (table[STEP_TIMES].text)
        options.step_times_path = table[STEP_TIMES].text;
    options.shape.n_embd = table[N_EMBD].count;
    options.shape.n_head = table[N_HEAD].count;
    options.shape.n_layer = table[N_LAYER].count;
    options.shape.block_size = table[BLOCK_SIZE].count;
    // train_k is the first K steps of the full run (scripts/bench run refuses the same).
    if (options.k_steps > options.steps)
        exit_bad_input("--k-steps (" + std::to_string(options.k_steps) + ") must not exceed --steps (" +
                       std::to_string(options.steps) + ")");
    return options;
}

// The model of a run after seed(42) and the shuffle, and the run's first
// document: the phase benchmarks' fixed input.
struct fixed_document_model {
    const microgpt_variant *variant;
    model *m;
    const int *tokens;
    int token_count;

    fixed_document_model(const microgpt_variant *v, const dataset *data, const model_shape &shape) : variant(v)
    {
        python_random rng;
        python_random_seed(&rng, 42);
        size_t *order = training_document_order(data, &rng);
        tokens = dataset_doc_tokens(data, order[0], &token_count);
        std::free(order);
        m = variant->create(&shape, &rng);
    }
    ~fixed_document_model() { variant->destroy(m); }
    fixed_document_model(const fixed_document_model &) = delete;
    fixed_document_model &operator=(const fixed_document_model &) = delete;
};

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void set_check_counters(benchmark::State &state, const variant_context &context)
{
    state.SetLabel(context.status);
    state.counters["gradient_status"] = static_cast<double>(context.check.status);
    state.counters["max_gradient_difference"] = context.check.max_reference_difference;
    state.counters["expected_wrong"] = context.variant->expected_wrong;
}

// The process's peak resident set so far, from getrusage: ru_maxrss, in
// kilobytes on Linux.
double ru_maxrss_bytes()
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return 1024.0 * static_cast<double>(usage.ru_maxrss);
}

// This program's own peak resident set: VmHWM of /proc/self/status where
// there is one, else ru_maxrss. Linux carries ru_maxrss over fork and exec
// (it keeps the larger of the parent's peak and the new program's), so a
// harness started by a 60 MB Python reports at least 60 MB there; VmHWM
// belongs to the address space exec made.
double peak_rss_bytes()
{
    FILE *status = std::fopen("/proc/self/status", "r");
    char line[256];
    double kilobytes = -1.0;
    while (status && std::fgets(line, sizeof line, status))
        if (std::sscanf(line, "VmHWM: %lf kB", &kilobytes) == 1)
            break;
    if (status)
        std::fclose(status);
    return kilobytes >= 0.0 ? 1024.0 * kilobytes : ru_maxrss_bytes();
}

// record: where to keep every step of the first run (train_full with
// --step-times), else nullptr.
void benchmark_training_run(benchmark::State &state, const variant_context *context, int steps, bool sweep,
                            step_record::run_steps *record)
{
    run_options options = {};
    options.steps = steps;
    options.samples = 0;
    options.shape = context->shape;
    if (record && record->seconds.empty()) {
        options.on_step = step_record::on_step;
        options.context = record;
        record->start();
    }
    // Google Benchmark calls this function again as it settles the number of
    // iterations: the peak before the first call is the setup's.
    static const double rss_before = peak_rss_bytes();
    run_report report = {};
    double mean_loss = 0.0;
    // The sweep's memory counters are the process's (one process a point).
    bool peak_reset = !sweep && step_record::reset_peak_rss();
    step_record::page_faults faults = step_record::page_faults_now();
    for (auto _ : state) {
        run_report_free(&report);
        training_run(context->variant, context->data, &options, &report);
        state.SetIterationTime(report.train_seconds);
    }
    if (!sweep) {
        step_record::page_faults after = step_record::page_faults_now();
        state.counters["peak_rss_bytes"] = peak_rss_bytes();
        state.counters["peak_rss_reset"] = peak_reset;
        state.counters["page_faults_minor"] = after.minor - faults.minor;
        state.counters["page_faults_major"] = after.major - faults.major;
    }
    for (int step = 0; step < report.steps; step++)
        mean_loss += report.losses[step];
    mean_loss /= report.steps;
    double node_total = report.nodes.mean * report.steps;
    state.counters["steps"] = report.steps;
    state.counters["nodes_per_step"] = report.nodes.mean;
    state.counters["nodes_min"] = static_cast<double>(report.nodes.min);
    state.counters["nodes_max"] = static_cast<double>(report.nodes.max);
    state.counters["edges_per_step"] = report.edges.mean;
    state.counters["bytes_per_step"] = report.bytes.mean;
    state.counters["final_loss"] = report.losses[report.steps - 1];
    state.counters["mean_loss"] = mean_loss;
    state.counters["ns_per_node"] = node_total > 0 ? 1e9 * report.train_seconds / node_total : 0.0;
    state.counters["forward_seconds"] = report.forward_seconds;
    state.counters["backward_seconds"] = report.backward_seconds;
    state.counters["update_seconds"] = report.update_seconds;
    state.counters["sort_depth_max"] = static_cast<double>(report.sort_depth.max);
    // The model's arithmetic per step (model_shape_flops) and the rate achieved on it.
    const model_flops &flops = report.flops;
    state.counters["forward_flops"] = flops.forward / report.steps;
    state.counters["backward_flops"] = flops.backward / report.steps;
    state.counters["update_flops"] = flops.update / report.steps;
    state.counters["flops_per_step"] = (flops.forward + flops.backward + flops.update) / report.steps;
    state.counters["gflops_per_second"] = 1e-9 * (flops.forward + flops.backward + flops.update) / report.train_seconds;
    state.counters["adam_slow_path_per_step"] = report.adam_slow_path / report.steps; // calls to pow in Adam
    if (sweep) {
        state.counters["n_embd"] = context->shape.n_embd;
        state.counters["n_head"] = context->shape.n_head;
        state.counters["n_layer"] = context->shape.n_layer;
        state.counters["block_size"] = context->shape.block_size;
        state.counters["parameters"] = static_cast<double>(report.parameter_count);
        state.counters["edges_max"] = static_cast<double>(report.edges.max);
        state.counters["bytes_max"] = static_cast<double>(report.bytes.max);
        state.counters["sort_depth_mean"] = report.sort_depth.mean;
        state.counters["sort_depth_bound"] = model_shape_graph_depth_bound(&context->shape);
        state.counters["nodes_bound"] = model_shape_graph_nodes_bound(&context->shape);
        state.counters["rss_before_run_bytes"] = rss_before;
        state.counters["max_rss_bytes"] = peak_rss_bytes();
        state.counters["ru_maxrss_bytes"] = ru_maxrss_bytes();
        state.counters["subnormal_parameters"] = static_cast<double>(report.subnormal_parameters);
        state.counters["nonfinite_parameters"] = static_cast<double>(report.nonfinite_parameters);
    }
    set_check_counters(state, *context);
    run_report_free(&report);
}

enum class phase { forward, backward, update };

// One fixed document, many iterations, only the named phase timed. After a
// backward, Adam zeroes the gradients (so they stay those of one step) and
// the parameters are put back (so every iteration sees the same model).
void benchmark_phase(benchmark::State &state, const variant_context *context, phase timed)
{
    fixed_document_model fixed(context->variant, context->data, context->shape);
    const microgpt_variant *variant = context->variant;
    std::vector<double> parameters(variant->parameter_count(fixed.m));
    variant->get_parameters(fixed.m, parameters.data());
    graph_size size = {};
    double timed_seconds = 0.0;
    for (auto _ : state) {
        auto start = std::chrono::steady_clock::now();
        double loss = variant->forward(fixed.m, fixed.tokens, fixed.token_count);
        double seconds = seconds_since(start);
        benchmark::DoNotOptimize(loss);
        if (timed == phase::forward) {
            variant->release(fixed.m);
        } else {
            start = std::chrono::steady_clock::now();
            size = variant->backward(fixed.m);
            if (timed == phase::backward)
                seconds = seconds_since(start);
            start = std::chrono::steady_clock::now();
            variant->update(fixed.m, 0, 1000);
            if (timed == phase::update)
                seconds = seconds_since(start);
            variant->set_parameters(fixed.m, parameters.data());
        }
        state.SetIterationTime(seconds);
        timed_seconds += seconds;
    }
    if (timed == phase::forward)
        variant->loss_and_gradients(fixed.m, fixed.tokens, fixed.token_count, nullptr, &size);
    int positions = model_shape_positions(&context->shape, fixed.token_count);
    double iterations = static_cast<double>(state.iterations());
    state.counters["positions"] = positions;
    state.counters["nodes"] = static_cast<double>(size.nodes);
    state.counters["edges"] = static_cast<double>(size.edges);
    state.counters["bytes"] = static_cast<double>(size.bytes);
    if (timed == phase::update) {
        state.counters["parameters"] = static_cast<double>(parameters.size());
        state.counters["ns_per_parameter"] =
            1e9 * timed_seconds / (iterations * static_cast<double>(parameters.size()));
    } else if (size.nodes > 0) {
        state.counters["ns_per_node"] = 1e9 * timed_seconds / (iterations * static_cast<double>(size.nodes));
    }
    set_check_counters(state, *context);
}

std::string hex_sha256_of_file(const char *path)
{
    FILE *file = std::fopen(path, "rb");
    if (!file)
        exit_bad_input(std::string("cannot read ") + path);
    std::vector<char> bytes;
    char buffer[65536];
    size_t got;
    while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0)
        bytes.insert(bytes.end(), buffer, buffer + got);
    std::fclose(file);
    char hex[65];
    sha256_hex(bytes.data(), bytes.size(), hex);
    return hex;
}

std::string format_double(const char *format, double value)
{
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

// "e64_h4_l2_b16": a size in benchmark names and the JSON context.
std::string shape_name(const model_shape &shape)
{
    return "e" + std::to_string(shape.n_embd) + "_h" + std::to_string(shape.n_head) + "_l" +
           std::to_string(shape.n_layer) + "_b" + std::to_string(shape.block_size);
}

struct benchmark_run {
    const bench_options *options;
    const dataset *data;
    std::vector<const microgpt_variant *> selected;
    const microgpt_variant *reference;
    model_shape shape, check_shape; // vocab_size set
};

// Checks every selected variant, then registers and runs its benchmarks:
// on a stack that fits the recursive sort (call_stack_run).
void check_and_run(void *argument)
{
    const benchmark_run &run = *static_cast<const benchmark_run *>(argument);
    const bench_options &options = *run.options;
    // Checked before anything is timed; contexts live until the benchmarks ran.
    std::vector<variant_context> contexts;
    contexts.reserve(run.selected.size());
    for (const microgpt_variant *variant : run.selected) {
        variant_context context = {.variant = variant, .data = run.data, .shape = run.shape, .check = {}, .status = ""};
        context.check =
            gradient_check(variant, run.reference, run.data, &run.check_shape,
                           options.sweep ? sweep_check_parameters_per_matrix : gradient_check_parameters_per_matrix);
        char status[64];
        gradient_status_text(&context.check, status, sizeof status);
        context.status = status;
        // A negative control (VARIANT_EXPECTED_WRONG) is meant to fail: its row
        // says so, and the driver does not count it as a failure.
        if (variant->expected_wrong && context.check.status == GRADIENTS_WRONG)
            context.status += " (negative control)";
        std::fprintf(stderr,
                     "%s: %s: gradient check %s (max |g - g_naive| %.3g, %.3g of the largest; max finite-difference "
                     "error %.3g)\n",
                     program, variant->name, status, context.check.max_reference_difference,
                     context.check.max_relative_difference, context.check.max_finite_difference_error);
        benchmark::AddCustomContext(
            std::string("microgpt_gradient_check/") + variant->name,
            context.status + "; max |g - g_naive| " + format_double("%.17g", context.check.max_reference_difference) +
                "; max finite-difference error " + format_double("%.3g", context.check.max_finite_difference_error) +
                " on " + std::to_string(context.check.finite_difference_parameters) + " parameters; " +
                std::to_string(context.check.documents) + " documents");
        benchmark::AddCustomContext(std::string("microgpt_variant/") + variant->name, variant->description);
        // The variant's facts, from its table (engine/variant_contract.h).
        benchmark::AddCustomContext(std::string("microgpt_variant_facts/") + variant->name,
                                    "tolerance " + format_double("%g", variant->tolerance) + "; expected_wrong " +
                                        std::to_string(variant->expected_wrong) + "; sort " +
                                        variant_sort_name(variant->sort) + "; graph " +
                                        variant_graph_name(variant->graph));
        contexts.push_back(context);
    }

    // The reference's size keeps the names compare.py matches across runs.
    model_shape reference_size = model_shape_default();
    bool default_size = run.shape.n_embd == reference_size.n_embd && run.shape.n_head == reference_size.n_head &&
                        run.shape.n_layer == reference_size.n_layer &&
                        run.shape.block_size == reference_size.block_size;
    std::string size_suffix = default_size ? "" : "/" + shape_name(run.shape);
    std::map<std::string, step_record::run_steps> step_runs; // --step-times, by variant
    for (const variant_context &context : contexts) {
        std::string name = context.variant->name;
        if (options.sweep) {
            benchmark::RegisterBenchmark(("sweep/" + name + "/" + shape_name(run.shape)).c_str(),
                                         benchmark_training_run, &context, options.steps, true, nullptr)
                ->UseManualTime()
                ->Unit(benchmark::kMillisecond);
            continue;
        }
        step_record::run_steps *record = options.step_times_path.empty() ? nullptr : &step_runs[name];
        benchmark::RegisterBenchmark(("train_full/" + name + size_suffix).c_str(), benchmark_training_run, &context,
                                     options.steps, false, record)
            ->Iterations(1)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("train_k/" + name + size_suffix).c_str(), benchmark_training_run, &context,
                                     options.k_steps, false, nullptr)
            ->Iterations(1)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
        const struct {
            const char *label;
            phase timed;
        } phases[] = {{"forward/", phase::forward}, {"backward/", phase::backward}, {"update/", phase::update}};
        for (const auto &p : phases)
            benchmark::RegisterBenchmark((p.label + name + size_suffix).c_str(), benchmark_phase, &context, p.timed)
                ->Iterations(options.phase_iterations)
                ->UseManualTime()
                ->Unit(benchmark::kMicrosecond);
    }
    // A filter that matches nothing is a mistake, not an empty success.
    if (benchmark::RunSpecifiedBenchmarks() == 0)
        exit_bad_input("no benchmark matches --benchmark_filter (see --benchmark_list_tests)");
    if (!options.step_times_path.empty() && !step_record::write_json(options.step_times_path, options.steps, step_runs))
        exit_bad_input("cannot write " + options.step_times_path);
}

} // namespace

int main(int argc, char **argv)
{
    bench_options options = parse_options(&argc, argv);
    if (options.list_variants) {
        for (size_t i = 0; i < microgpt_variant_count; i++)
            std::printf("%s\n", microgpt_variants[i]->name);
        return 0;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 2;

    std::vector<const microgpt_variant *> selected;
    for (const std::string &name : options.variants) {
        const microgpt_variant *variant = microgpt_variant_find(name.c_str());
        if (!variant)
            exit_bad_input("no variant named '" + name + "' (see --list-variants)");
        selected.push_back(variant);
    }
    if (options.variants.empty())
        selected.assign(microgpt_variants, microgpt_variants + microgpt_variant_count);
    const microgpt_variant *reference = microgpt_variant_find("naive");
    if (!reference)
        exit_bad_input("the reference variant 'naive' is missing from the build");

    char path[4096], error[1024];
    if (dataset_locate(options.data_path.empty() ? nullptr : options.data_path.c_str(), path, sizeof path, error,
                       sizeof error) != 0)
        exit_bad_input(error);
    dataset data;
    if (dataset_load(path, &data, error, sizeof error) != 0)
        exit_bad_input(error);

    benchmark::AddCustomContext("microgpt_dataset", path);
    benchmark::AddCustomContext("microgpt_dataset_sha256", hex_sha256_of_file(path));
    benchmark::AddCustomContext("microgpt_steps", std::to_string(options.steps));
    benchmark::AddCustomContext("microgpt_k_steps", std::to_string(options.k_steps));
    benchmark::AddCustomContext("microgpt_phase_iterations", std::to_string(options.phase_iterations));
    benchmark::AddCustomContext("microgpt_c_compiler", MICROGPT_C_COMPILER);
    benchmark::AddCustomContext("microgpt_c_flags", MICROGPT_C_FLAGS);
    benchmark::AddCustomContext("microgpt_cxx_compiler", MICROGPT_CXX_COMPILER);
    benchmark::AddCustomContext("microgpt_build_type", MICROGPT_BUILD_TYPE);
    {
        model_shape shape = model_shape_default();
        shape.vocab_size = data.vocab_size;
        fixed_document_model fixed(reference, &data, shape);
        std::string text;
        for (int i = 1; i + 1 < fixed.token_count; i++)
            text += data.characters[fixed.tokens[i]];
        benchmark::AddCustomContext("microgpt_phase_document", text);
    }

    model_shape shape = options.shape;
    shape.vocab_size = data.vocab_size;
    for (const microgpt_variant *variant : selected)
        if (model_shape_check(&shape, variant, error, sizeof error) != 0)
            exit_bad_input(error);
    model_shape check_shape = options.sweep ? sweep_check_shape : shape;
    check_shape.vocab_size = data.vocab_size;
    if (model_shape_check(&check_shape, reference, error, sizeof error) != 0)
        exit_bad_input(error);
    benchmark::AddCustomContext("microgpt_shape", shape_name(shape));
    benchmark::AddCustomContext("microgpt_gradient_check_shape", shape_name(check_shape));
    benchmark_run run = {.options = &options,
                         .data = &data,
                         .selected = selected,
                         .reference = reference,
                         .shape = shape,
                         .check_shape = check_shape};
    model_shape deepest = check_shape.n_layer * check_shape.n_embd > shape.n_layer * shape.n_embd ? check_shape : shape;
    call_stack_run(call_stack_bytes_for_depth(model_shape_graph_depth_bound(&deepest)), check_and_run, &run);
    benchmark::Shutdown();
    dataset_free(&data);
    return 0;
}
