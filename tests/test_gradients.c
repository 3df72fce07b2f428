/* test_gradients: a whole training step's gradients of one variant, through
 * the same gradient check the harness runs before timing (gradient_check.h):
 * against the reference variant and against finite differences, at the
 * default size or at the one given. A variant that declares tolerance 0 must
 * be bit-exact; a negative control (expected_wrong) must be caught.
 * Usage: test_gradients VARIANT [N_EMBD N_HEAD N_LAYER BLOCK_SIZE] */
#include <string.h>

#include "gradient_check.h"
#include "test_support.h"

static int size_argument(const char *text)
{
    char *end;
    long value = strtol(text, &end, 10);
    if (*end != '\0' || value < 1 || value > 1024) {
        fprintf(stderr, "test_gradients: bad size '%s'\n", text);
        exit(2);
    }
    return (int)value;
}

int main(int argc, char **argv)
{
    const microgpt_variant *variant = test_variant_argument(argc == 6 ? 2 : argc, argv);
    const microgpt_variant *reference = microgpt_variant_find("naive");
    CHECK(reference != NULL, "the registry has no 'naive' variant");
    if (!reference)
        return test_finish("test_gradients");
    dataset data;
    test_load_dataset(&data);
    model_shape shape = model_shape_default();
    if (argc == 6) {
        shape.n_embd = size_argument(argv[2]), shape.n_head = size_argument(argv[3]);
        shape.n_layer = size_argument(argv[4]), shape.block_size = size_argument(argv[5]);
        shape.vocab_size = data.vocab_size;
        char error[256];
        if (model_shape_check(&shape, variant, error, sizeof error) != 0 ||
            model_shape_check(&shape, reference, error, sizeof error) != 0) {
            fprintf(stderr, "test_gradients: %s\n", error);
            return 2;
        }
    }
    gradient_check_result result = gradient_check(variant, reference, &data, &shape, 24);
    char status[64];
    gradient_status_text(&result, status, sizeof status);
    printf("%s at n_embd %d n_head %d n_layer %d block_size %d: %s; max |g - g_naive| %.3g (%.3g of the largest) "
           "over %zu documents; finite differences on %zu parameters, max error %.3g\n",
           variant->name, shape.n_embd, shape.n_head, shape.n_layer, shape.block_size, status,
           result.max_reference_difference, result.max_relative_difference, result.documents,
           result.finite_difference_parameters, result.max_finite_difference_error);
    CHECK(result.finite_difference_parameters >= 100, "only %zu parameters differenced",
          result.finite_difference_parameters);
    if (variant->expected_wrong) {
        CHECK(result.status == GRADIENTS_WRONG, "a negative control passed the gradient check: %s", status);
        CHECK(result.max_finite_difference_error > FINITE_DIFFERENCE_TOLERANCE,
              "a negative control agrees with finite differences (max error %.3g)", result.max_finite_difference_error);
        dataset_free(&data);
        return test_finish("test_gradients");
    }
    CHECK(result.max_finite_difference_error <= FINITE_DIFFERENCE_TOLERANCE,
          "finite differences disagree: max error %.3g", result.max_finite_difference_error);
    if (variant->tolerance == 0.0)
        CHECK(result.status == GRADIENTS_BIT_EXACT, "declared bit-exact, got %s", status);
    else
        CHECK(result.status == GRADIENTS_WITHIN_TOLERANCE, "declared tolerance %g, got %s", variant->tolerance, status);
    dataset_free(&data);
    return test_finish("test_gradients");
}
