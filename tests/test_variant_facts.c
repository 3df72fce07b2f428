/* test_variant_facts: a variant's facts are what its table says, and the
 * checks hold it to them. Uses test-only variants (tests/variants/, compiled
 * through engine/model.c like any variant but kept out of the registry):
 *   - exact_zero declares VARIANT_TOLERANCE 0 (not 0.0): its table says 0,
 *     the gradient check finds it bit-exact, and a run's losses equal
 *     naive's bit for bit;
 *   - exact_zero_last_bit declares the same with mul's local gradients one
 *     unit in the last place off: held to bit-exactness, it is wrong;
 *   - mul_off_1e7 and mul_off_1e10 declare the largest tolerance allowed
 *     (1e-9) with mul's local gradients off by 1e-7 and 1e-10 (relative):
 *     both are wrong gradients, the second although every gradient is
 *     within 1e-9 of the reference's (more than a reordering can explain);
 *   - every registered variant's facts are within the contract's range. */
#include <string.h>

#include "gradient_check.h"
#include "test_support.h"
#include "training_run.h"

extern const microgpt_variant test_variant_exact_zero, test_variant_exact_zero_last_bit, test_variant_mul_off_1e7,
    test_variant_mul_off_1e10;

static gradient_check_result checked(const microgpt_variant *variant, const microgpt_variant *reference,
                                     const dataset *data)
{
    model_shape shape = model_shape_default();
    gradient_check_result result = gradient_check(variant, reference, data, &shape, 8);
    char status[64];
    gradient_status_text(&result, status, sizeof status);
    printf("%s (declares tolerance %g): %s; max |g - g_naive| %.3g, %.3g of the largest gradient\n", variant->name,
           variant->tolerance, status, result.max_reference_difference, result.max_relative_difference);
    return result;
}

int main(void)
{
    dataset data;
    test_load_dataset(&data);
    const microgpt_variant *naive = microgpt_variant_find("naive");
    CHECK(naive != NULL, "the registry has no 'naive' variant");
    if (!naive)
        return test_finish("test_variant_facts");

    for (size_t i = 0; i < microgpt_variant_count; i++) {
        const microgpt_variant *v = microgpt_variants[i];
        CHECK(v->tolerance >= 0.0 && v->tolerance <= VARIANT_MAX_TOLERANCE, "%s: tolerance %g", v->name, v->tolerance);
        CHECK(microgpt_variant_find(v->name) == v, "%s: not found by name", v->name);
        printf("%-12s tolerance %-6g expected_wrong %d sort %-9s graph %s\n", v->name, v->tolerance, v->expected_wrong,
               variant_sort_name(v->sort), variant_graph_name(v->graph));
    }
    CHECK(microgpt_variant_find("exact_zero") == NULL, "a test-only variant joined the registry");

    const microgpt_variant *exact = &test_variant_exact_zero;
    CHECK(exact->tolerance == 0.0 && !exact->expected_wrong, "exact_zero's table: tolerance %g", exact->tolerance);
    gradient_check_result result = checked(exact, naive, &data);
    CHECK(result.status == GRADIENTS_BIT_EXACT, "exact_zero is not bit-exact (status %d)", (int)result.status);
    run_options options = {.steps = 20, .samples = 0, .shape = model_shape_default(), .on_step = NULL};
    run_report expected, actual;
    training_run(naive, &data, &options, &expected);
    training_run(exact, &data, &options, &actual);
    CHECK(memcmp(expected.losses, actual.losses, (size_t)options.steps * sizeof *actual.losses) == 0,
          "exact_zero's losses differ from naive's");
    run_report_free(&expected);
    run_report_free(&actual);

    result = checked(&test_variant_exact_zero_last_bit, naive, &data);
    CHECK(result.max_reference_difference > 0.0, "a last-bit change of mul's gradients changed no gradient");
    CHECK(result.status == GRADIENTS_WRONG, "declared 0, differs by %.3g, yet not wrong",
          result.max_reference_difference);

    result = checked(&test_variant_mul_off_1e7, naive, &data);
    CHECK(test_variant_mul_off_1e7.tolerance == 1e-9, "mul_off declares %g", test_variant_mul_off_1e7.tolerance);
    CHECK(result.status == GRADIENTS_WRONG, "mul's gradients 1e-7 off pass as %d", (int)result.status);

    result = checked(&test_variant_mul_off_1e10, naive, &data);
    CHECK(result.max_reference_difference <= test_variant_mul_off_1e10.tolerance,
          "1e-10 off exceeds the declared tolerance by itself (%.3g): the case does not test the relative bound",
          result.max_reference_difference);
    CHECK(result.max_relative_difference > GRADIENT_REORDERING_BOUND, "relative difference %.3g",
          result.max_relative_difference);
    CHECK(result.status == GRADIENTS_WRONG, "mul's gradients 1e-10 off pass as %d", (int)result.status);

    dataset_free(&data);
    return test_finish("test_variant_facts");
}
