/* test_memory: each step's graph is released by the end of the step. After
 * one step on a document of every length the measured steps use (which
 * grows every reusable buffer, and every cache kept per length, such as
 * replay's captured graphs, to its largest size), the heap in use must not
 * grow over many more steps: a graph kept alive per step would add
 * megabytes. LeakSanitizer and valgrind check the end of a run; this checks
 * its middle. Usage: test_memory VARIANT */
#include <malloc.h>

#include "checked.h"
#include "test_support.h"
#include "training_run.h"

/* In-use heap, mmapped blocks included. glibc counts chunks parked in its
 * per-thread cache (up to 7 per size class) as in use, so the count wobbles by
 * a few kilobytes between steps: ALLOCATOR_SLACK. One step's graph is at
 * least half a megabyte, so a graph kept per step would exceed it 1000-fold. */
static size_t heap_in_use(void)
{
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

enum { ALLOCATOR_SLACK = 64 * 1024 };

int main(int argc, char **argv)
{
    const microgpt_variant *variant = test_variant_argument(argc, argv);
    dataset data;
    test_load_dataset(&data);
    python_random rng;
    python_random_seed(&rng, 42);
    size_t *order = training_document_order(&data, &rng);
    model_shape shape = model_shape_default();
    shape.vocab_size = data.vocab_size;
    model *m = variant->create(&shape, &rng);

    enum { MEASURED_STEPS = 200 };
    int *warmed = calloc_checked((size_t)shape.block_size + 1, sizeof *warmed), token_count;
    for (size_t i = 1; i <= MEASURED_STEPS; i++) {
        const int *tokens = dataset_doc_tokens(&data, order[i], &token_count);
        int positions = model_shape_positions(&shape, token_count);
        if (!warmed[positions]++)
            variant->train_step(m, tokens, token_count, 0, 1000);
    }
    free(warmed);
    size_t baseline = heap_in_use();
    size_t largest_graph = 0;
    for (int step = 1; step <= MEASURED_STEPS; step++) {
        const int *tokens = dataset_doc_tokens(&data, order[step], &token_count);
        step_result result = variant->train_step(m, tokens, token_count, step, 1000);
        if (result.graph.bytes > largest_graph)
            largest_graph = result.graph.bytes;
    }
    size_t after = heap_in_use();
    variant->destroy(m);
    free(order);
    dataset_free(&data);
    /* Sanitizer builds replace malloc and report nothing here. */
    if (baseline == 0)
        return test_skip("test_memory", "mallinfo2 reports no heap (a sanitizer build: LeakSanitizer checks it)");
    printf("%s: heap in use %zu bytes after a step of every length, %zu after 200 more; largest step graph %zu bytes\n",
           variant->name, baseline, after, largest_graph);
    CHECK(largest_graph > 0, "graph bytes per step reported: %zu", largest_graph);
    CHECK(after <= baseline + ALLOCATOR_SLACK, "the heap grew by %zu bytes over 200 steps", after - baseline);
    return test_finish("test_memory");
}
