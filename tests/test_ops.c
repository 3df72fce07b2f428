/* test_ops: every op and layer op of one variant, by central finite
 * differences through the variant's probe (variant.h), plus the exact forward
 * value of each scalar op. A negative control (expected_wrong) must fail at
 * least one layer op. Usage: test_ops VARIANT */
#include <math.h>
#include <stdio.h>

#include "test_support.h"
#include "variant.h"

static const char *const op_names[PROBE_COUNT] = {
    "add", "mul", "pow(-1)", "pow(-0.5)", "log", "exp", "relu", "linear", "rmsnorm", "softmax", "attention_head",
};

enum { MAX_INPUTS = 32 };

/* Returns the number of inputs whose gradient disagrees with the finite
 * difference; reports them as failures unless the variant is expected wrong. */
static int check_gradients(const microgpt_variant *variant, probe_op op, const double *inputs)
{
    int disagreements = 0;
    int input_count, output_count;
    variant->probe_shape(op, &input_count, &output_count);
    CHECK(input_count <= MAX_INPUTS, "%s: %d inputs", op_names[op], input_count);
    double gradients[MAX_INPUTS], ignored[MAX_INPUTS], shifted[MAX_INPUTS];
    variant->probe(op, inputs, gradients);
    for (int i = 0; i < input_count; i++) {
        const double step = 1e-6;
        for (int j = 0; j < input_count; j++)
            shifted[j] = inputs[j];
        shifted[i] = inputs[i] + step;
        double up = variant->probe(op, shifted, ignored);
        shifted[i] = inputs[i] - step;
        double down = variant->probe(op, shifted, ignored);
        double finite_difference = (up - down) / (2 * step);
        int agrees = fabs(gradients[i] - finite_difference) <= 1e-7 * (1.0 + fabs(finite_difference));
        disagreements += !agrees;
        if (!variant->expected_wrong)
            CHECK(agrees, "%s (%s): d/d input %d = %.12g, finite difference %.12g", op_names[op], variant->name, i,
                  gradients[i], finite_difference);
    }
    return disagreements;
}

static double probe_value(const microgpt_variant *variant, probe_op op, double a, double b)
{
    double inputs[2] = {a, b}, gradients[2];
    return variant->probe(op, inputs, gradients);
}

int main(int argc, char **argv)
{
    const microgpt_variant *variant = test_variant_argument(argc, argv);
    if (!variant->probe)
        return test_skip("test_ops", "no op graph to probe (its whole-step gradients are checked by test_gradients)");
    int disagreements = 0;
    for (int op = 0; op < PROBE_COUNT; op++) {
        double inputs[MAX_INPUTS];
        for (int i = 0; i < MAX_INPUTS; i++)
            inputs[i] = 0.4 + 0.3 * sin(1.7 * i + op); /* positive: log and pow need it */
        disagreements += check_gradients(variant, (probe_op)op, inputs);
        for (int i = 0; i < MAX_INPUTS; i++)
            inputs[i] = 0.9 * sin(2.3 * i + 0.5 * op); /* both signs, for the ops that take them */
        if (op != PROBE_LOG && op != PROBE_POW_NEGATIVE_ONE && op != PROBE_POW_NEGATIVE_HALF)
            disagreements += check_gradients(variant, (probe_op)op, inputs);
    }
    if (variant->expected_wrong)
        CHECK(disagreements > 0, "a negative control agrees with finite differences on every op");
    printf("%s: %d gradients disagree with finite differences\n", variant->name, disagreements);
    /* Scalar ops evaluate as the spec's table says, to the bit. */
    double a = 0.7310585786300049, b = -1.3862943611198906;
    CHECK(probe_value(variant, PROBE_ADD, a, b) == a + b, "add");
    CHECK(probe_value(variant, PROBE_MUL, a, b) == a * b, "mul");
    CHECK(probe_value(variant, PROBE_POW_NEGATIVE_ONE, a, 0) == pow(a, -1.0), "pow(a, -1)");
    CHECK(probe_value(variant, PROBE_POW_NEGATIVE_HALF, a, 0) == pow(a, -0.5), "pow(a, -0.5)");
    CHECK(probe_value(variant, PROBE_LOG, a, 0) == log(a), "log");
    CHECK(probe_value(variant, PROBE_EXP, b, 0) == exp(b), "exp");
    CHECK(probe_value(variant, PROBE_RELU, b, 0) == 0.0, "relu of a negative");
    CHECK(probe_value(variant, PROBE_RELU, a, 0) == a, "relu of a positive");
    double gradient[2], input[2] = {-0.25, 0};
    variant->probe(PROBE_RELU, input, gradient);
    CHECK(gradient[0] == 0.0, "relu'(-0.25) = %g", gradient[0]);
    return test_finish("test_ops");
}
