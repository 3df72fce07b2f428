/* test_kernel_paths: every compiled copy of the SIMD kernels (kernel_path.h:
 * AVX-512 for Adam, floor and sequence, whose linears then run eight lanes
 * wide; AVX2; the baseline) gives the same bits. For each
 * variant named, training runs at every level this processor supports must
 * give the baseline's losses and samples exactly, at the default size and
 * at one whose widths leave remainders (n_embd 24: a 16-column span and 8
 * scalar columns; head_dim 12; 27 lm_head rows in blocks of four).
 *
 * Usage: test_kernel_paths VARIANT...   (skipped on a processor
 * without AVX2: only the baseline runs there). With
 * MICROGPT_GENERIC_KERNELS=1 in the environment, it checks instead that the
 * baseline was selected at start-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernel_path.h"
#include "test_support.h"
#include "training_run.h"

static void compare_levels(const microgpt_variant *variant, const dataset *data, model_shape shape, int steps)
{
    run_options options = {.steps = steps, .samples = 3, .shape = shape, .on_step = NULL};
    run_report baseline;
    kernel_path_limit(KERNEL_GENERIC);
    training_run(variant, data, &options, &baseline);
    for (kernel_level level = KERNEL_AVX2; level <= kernel_path_supported(); level++) {
        kernel_path_limit(level);
        CHECK(kernel_path_level() == level, "level %d not selected", (int)level);
        run_report report;
        training_run(variant, data, &options, &report);
        int first_difference = -1;
        for (int step = 0; step < steps && first_difference < 0; step++)
            if (memcmp(&report.losses[step], &baseline.losses[step], sizeof(double)) != 0)
                first_difference = step;
        CHECK(first_difference < 0, "%s e%d l%d, %s: step %d loss %.17g, baseline %.17g", variant->name, shape.n_embd,
              shape.n_layer, kernel_path_name(level), first_difference + 1,
              report.losses[first_difference < 0 ? 0 : first_difference],
              baseline.losses[first_difference < 0 ? 0 : first_difference]);
        for (int s = 0; s < report.samples; s++)
            CHECK(strcmp(report.sample_text[s], baseline.sample_text[s]) == 0, "%s %s: sample %d differs",
                  variant->name, kernel_path_name(level), s + 1);
        printf("%s e%d_h%d_l%d_b%d: %s = generic over %d steps\n", variant->name, shape.n_embd, shape.n_head,
               shape.n_layer, shape.block_size, kernel_path_name(level), steps);
        run_report_free(&report);
    }
    run_report_free(&baseline);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s VARIANT...\n", argv[0]);
        return 2;
    }
    const char *forced = getenv("MICROGPT_GENERIC_KERNELS");
    if (forced && strcmp(forced, "1") == 0) {
        CHECK(kernel_path_level() == KERNEL_GENERIC, "MICROGPT_GENERIC_KERNELS=1, but %s selected",
              kernel_path_name(kernel_path_level()));
        return test_finish("test_kernel_paths");
    }
    if (kernel_path_supported() < KERNEL_AVX2) {
        printf("no AVX2 on this processor: only the baseline kernels run, nothing to compare\n");
        return MICROGPT_TEST_SKIPPED;
    }
    dataset data;
    test_load_dataset(&data);
    model_shape wide = model_shape_default();
    wide.n_embd = 24, wide.n_head = 2, wide.n_layer = 2, wide.block_size = 12;
    for (int i = 1; i < argc; i++) {
        const microgpt_variant *variant = microgpt_variant_find(argv[i]);
        CHECK(variant != NULL, "no variant '%s'", argv[i]);
        if (!variant)
            continue;
        compare_levels(variant, &data, model_shape_default(), 300);
        compare_levels(variant, &data, wide, 30);
    }
    dataset_free(&data);
    return test_finish("test_kernel_paths");
}
