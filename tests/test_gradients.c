/* test_gradients: a whole training step's gradients of one variant, through
 * the same gradient check the harness runs before timing (gradient_check.h):
 * against the reference variant and against finite differences, at the
 * default size. A variant that declares tolerance 0 must be bit-exact; a
 * negative control (expected_wrong) must be caught.
 * Usage: test_gradients VARIANT */
#include "gradient_check.h"
#include "test_support.h"

int main(int argc, char **argv)
{
    const microgpt_variant *variant = test_variant_argument(argc, argv);
    const microgpt_variant *reference = microgpt_variant_find("naive");
    CHECK(reference != NULL, "the registry has no 'naive' variant");
    if (!reference)
        return test_finish("test_gradients");
    dataset data;
    test_load_dataset(&data);
    model_shape shape = model_shape_default();
    gradient_check_result result = gradient_check(variant, reference, &data, &shape, 24);
    char status[64];
    gradient_status_text(&result, status, sizeof status);
    printf("%s: %s; max |g - g_naive| %.3g over %zu documents; finite differences on %zu parameters, max error %.3g\n",
           variant->name, status, result.max_reference_difference, result.documents,
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
        CHECK(result.status == GRADIENTS_WITHIN_TOLERANCE, "declared tolerance %g, got %s", variant->tolerance,
              status);
    dataset_free(&data);
    return test_finish("test_gradients");
}
