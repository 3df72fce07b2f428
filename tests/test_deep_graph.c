/* test_deep_graph: a deep graph through a variant's backward (call_stack.h).
 * Usage:
 *   test_deep_graph VARIANT [N_EMBD N_HEAD N_LAYER BLOCK_SIZE]
 * (default size 4 1 500 4: about 25,000 nodes on the deepest path, and a
 * depth bound whose stack exceeds the 8 MB of a main thread, so that
 * call_stack_run starts a thread). Whether the variant sorts by recursion
 * is its table's fact (sort, VARIANT_SORT).
 *
 * 1. On a stack sized by call_stack_run from the shape's depth bound, one
 *    step's gradients on a full-length document: the run completes, the
 *    sort's depth stays within model_shape_graph_depth_bound, and an exact
 *    variant's gradients are bit-identical to the iterative sort's ('stack'):
 *    the reference's order survives at that depth.
 * 2. The same on a 128 KB thread stack, in a child process: a recursive
 *    variant must stop with exit 2 and the one-line message naming the
 *    limit; no variant may die of a signal. */
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "call_stack.h"
#include "checked.h"
#include "test_support.h"
#include "training_run.h"

enum { SMALL_STACK_BYTES = 128 * 1024 };

typedef struct deep_step {
    const microgpt_variant *variant;
    const dataset *data;
    model_shape shape;
    double *gradients;
    size_t parameter_count, sort_depth;
    double loss;
} deep_step;

/* One training step's forward and backward on the longest of the run's
 * first 1000 documents, from the seeded model. */
static void run_deep_step(void *context)
{
    deep_step *step = context;
    python_random rng;
    python_random_seed(&rng, 42);
    size_t *order = training_document_order(step->data, &rng);
    size_t longest = order[0];
    int longest_tokens = 0, token_count;
    for (size_t i = 0; i < step->data->doc_count && i < 1000; i++) {
        dataset_doc_tokens(step->data, order[i], &token_count);
        if (token_count > longest_tokens)
            longest_tokens = token_count, longest = order[i];
    }
    const int *tokens = dataset_doc_tokens(step->data, longest, &token_count);
    model *m = step->variant->create(&step->shape, &rng);
    step->parameter_count = step->variant->parameter_count(m);
    step->gradients = malloc_checked(step->parameter_count * sizeof *step->gradients);
    /* train_step reports the sort depth but also updates the parameters: the
     * gradients come from a second model, fresh from the same seed. */
    step_result result = step->variant->train_step(m, tokens, token_count, 0, 1000);
    step->sort_depth = result.sort_depth;
    step->variant->destroy(m);
    python_random_seed(&rng, 42);
    free(training_document_order(step->data, &rng));
    m = step->variant->create(&step->shape, &rng);
    step->loss = step->variant->loss_and_gradients(m, tokens, token_count, step->gradients, NULL);
    step->variant->destroy(m);
    free(order);
}

static void *run_deep_step_thread(void *context)
{
    run_deep_step(context);
    return NULL;
}

/* Runs the step in a child on a thread with a small stack; returns the
 * child's wait status and its stderr in `message`. */
static int run_on_small_stack(deep_step *step, char *message, size_t capacity)
{
    int pipe_ends[2];
    if (pipe(pipe_ends) != 0)
        return -1;
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        dup2(pipe_ends[1], 2);
        close(pipe_ends[0]);
        pthread_attr_t attributes;
        pthread_t thread;
        pthread_attr_init(&attributes);
        pthread_attr_setstacksize(&attributes, SMALL_STACK_BYTES);
        if (pthread_create(&thread, &attributes, run_deep_step_thread, step) != 0)
            _exit(3);
        pthread_join(thread, NULL);
        _exit(0);
    }
    close(pipe_ends[1]);
    size_t length = 0;
    ssize_t got;
    while (length + 1 < capacity && (got = read(pipe_ends[0], message + length, capacity - 1 - length)) > 0)
        length += (size_t)got;
    message[length] = '\0';
    close(pipe_ends[0]);
    int status = 0;
    waitpid(child, &status, 0);
    return status;
}

static int parse_size(const char *text)
{
    char *end;
    long value = strtol(text, &end, 10);
    if (*end != '\0' || value < 1 || value > 100000) {
        fprintf(stderr, "test_deep_graph: bad size '%s'\n", text);
        exit(2);
    }
    return (int)value;
}

int main(int argc, char **argv)
{
    const microgpt_variant *variant = argc >= 2 ? microgpt_variant_find(argv[1]) : NULL;
    const microgpt_variant *iterative = microgpt_variant_find("stack");
    const int sizes_at = 2;
    if (!variant || !iterative || (argc != sizes_at && argc != sizes_at + 4)) {
        fprintf(stderr, "usage: %s VARIANT [N_EMBD N_HEAD N_LAYER BLOCK_SIZE] (needs 'stack')\n", argv[0]);
        return 2;
    }
    const int recursive = variant->sort == SORT_RECURSIVE;
    dataset data;
    test_load_dataset(&data);
    model_shape shape = {.n_embd = 4, .n_head = 1, .n_layer = 500, .block_size = 4, .vocab_size = data.vocab_size};
    if (argc == sizes_at + 4)
        shape = (model_shape){parse_size(argv[sizes_at]), parse_size(argv[sizes_at + 1]),
                              parse_size(argv[sizes_at + 2]), parse_size(argv[sizes_at + 3]), data.vocab_size};
    char error[256];
    if (model_shape_check(&shape, variant, error, sizeof error) != 0) {
        fprintf(stderr, "test_deep_graph: %s\n", error);
        return 2;
    }
    double bound = model_shape_graph_depth_bound(&shape);
    size_t stack_bytes = call_stack_bytes_for_depth(bound);

    if (argc == sizes_at)
        CHECK(stack_bytes > call_stack_remaining(),
              "the stack for the bound, %zu KB, fits this thread's %zu KB left: "
              "no thread is tested",
              stack_bytes >> 10, call_stack_remaining() >> 10);
    deep_step deep = {variant, &data, shape, NULL, 0, 0, 0.0};
    call_stack_run(stack_bytes, run_deep_step, &deep);
    deep_step reference = {iterative, &data, shape, NULL, 0, 0, 0.0};
    call_stack_run(stack_bytes, run_deep_step, &reference);
    printf("%s at n_embd %d n_head %d n_layer %d block_size %d: sort depth %zu (bound %.0f, iterative sort %zu); "
           "stack for the bound %zu KB (this thread has %zu KB left)\n",
           variant->name, shape.n_embd, shape.n_head, shape.n_layer, shape.block_size, deep.sort_depth, bound,
           reference.sort_depth, stack_bytes >> 10, call_stack_remaining() >> 10);
    CHECK(reference.sort_depth > 0 && reference.sort_depth <= bound, "iterative sort depth %zu, bound %.0f",
          reference.sort_depth, bound);
    CHECK(deep.sort_depth <= bound, "sort depth %zu, bound %.0f", deep.sort_depth, bound);
    CHECK(deep.loss == deep.loss, "the loss is NaN");
    if (variant->tolerance == 0.0 && !variant->expected_wrong) {
        CHECK(deep.loss == reference.loss, "loss %.17g, iterative %.17g", deep.loss, reference.loss);
        size_t differing = 0;
        for (size_t i = 0; i < deep.parameter_count; i++)
            differing += deep.gradients[i] != reference.gradients[i];
        CHECK(differing == 0, "%zu of %zu gradients differ from the iterative sort's", differing, deep.parameter_count);
    }

    /* Too little stack for the recursion must be an error message. */
    char message[1024];
    deep_step small = {variant, &data, shape, NULL, 0, 0, 0.0};
    int status = run_on_small_stack(&small, message, sizeof message);
    printf("on a %d KB stack: %s%s", SMALL_STACK_BYTES >> 10,
           WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "runs" : "", message[0] ? message : "\n");
    CHECK(!WIFSIGNALED(status), "killed by signal %d on a %d KB stack", WTERMSIG(status), SMALL_STACK_BYTES >> 10);
    if (recursive) {
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2, "the child did not exit 2 (status %#x)", status);
        CHECK(strstr(message, "microgpt: the recursive topological sort reached depth ") == message, "message: %s",
              message);
        CHECK(strchr(message, '\n') == message + strlen(message) - 1, "not one line: %s", message);
    } else {
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "a variant whose table says its sort is %s (not "
              "recursive) failed on a small stack (status %#x): %s",
              variant_sort_name(variant->sort), status, message);
    }
    free(deep.gradients);
    free(reference.gradients);
    dataset_free(&data);
    return test_finish("test_deep_graph");
}
