/* test_adam: kernels/adam.c against the spec's Adam written plainly (pow
 * for every ** , one parameter at a time), bit for bit, on every kernel path
 * this processor has. The gradients are drawn so that many g * g and many
 * roots sit near rounding boundaries, where adam.c settles a power by its
 * two candidates or calls pow; the test reports how often each happened.
 * Then adam.c with each fast path made deliberately wrong (adam_mutant.c)
 * must differ from the spec's Adam on the same gradients. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adam.h"
#include "kernels/kernel_path.h"
#include "python_random.h"
#include "test_support.h"

enum { PARAMETERS = 20011, STEPS = 40 }; /* not a multiple of the chunk or of eight: the tails run */

typedef struct plain_adam {
    double data[PARAMETERS], m[PARAMETERS], v[PARAMETERS];
} plain_adam;

/* The spec's update, as the reference writes it. */
static void plain_adam_step(plain_adam *a, double *grad, int step, int num_steps)
{
    const double learning_rate = 0.01, beta1 = 0.85, beta2 = 0.99, eps = 1e-8;
    const double lr_t = learning_rate * (1.0 - (double)step / (double)num_steps);
    for (int i = 0; i < PARAMETERS; i++) {
        a->m[i] = beta1 * a->m[i] + (1.0 - beta1) * grad[i];
        a->v[i] = beta2 * a->v[i] + (1.0 - beta2) * pow(grad[i], 2.0);
        double m_hat = a->m[i] / (1.0 - pow(beta1, (double)(step + 1)));
        double v_hat = a->v[i] / (1.0 - pow(beta2, (double)(step + 1)));
        a->data[i] -= lr_t * m_hat / (pow(v_hat, 0.5) + eps);
        grad[i] = 0.0;
    }
}

/* A gradient: most of magnitude 1e-5..1e-1 and either sign; some zero,
 * some tiny or huge (out of the fast paths' ranges), and some whose square
 * lies just beside a rounding midpoint (sqrt of a midpoint, nudged). */
static double draw_gradient(python_random *random)
{
    double u = python_random_random(random), sign = python_random_random(random) < 0.5 ? -1.0 : 1.0;
    if (u < 0.02)
        return 0.0;
    if (u < 0.04)
        return sign * 1e-80;
    if (u < 0.05)
        return sign * 1e70;
    double magnitude = pow(10.0, -5.0 + 4.0 * python_random_random(random));
    if (u < 0.5) { /* g * g near the midpoint between two doubles */
        double y = magnitude * magnitude, ulp = nextafter(y, HUGE_VAL) - y;
        return sign * nextafter(sqrt(y + 0.5 * ulp), python_random_random(random) < 0.5 ? 0.0 : HUGE_VAL);
    }
    return sign * magnitude;
}

typedef void adam_step_function(adam_buffers *buffers, double *data, double *grad, int step, int num_steps);

/* The mutants of adam_mutant.c, and the kernel path each needs: the bias
 * corrections' quotients are multiplications only in the AVX-512 copy. */
adam_step_function adam_step_mutant1, adam_step_mutant2, adam_step_mutant3;
static const struct {
    adam_step_function *step;
    kernel_level level;
    const char *name;
} mutants[] = {
    {adam_step_mutant1, KERNEL_AVX512, "the bias corrections' quotients a * (1 / b), uncorrected and unchecked"},
    {adam_step_mutant2, KERNEL_GENERIC, "g ** 2's second candidate the same as the first"},
    {adam_step_mutant3, KERNEL_GENERIC, "v_hat ** 0.5's second candidate the same as the first"},
};

/* Parameter-steps where `step` differs from the spec's Adam on `level`;
 * with `expect_same`, each is a failed check. */
static int compare_with_reference(adam_step_function *step_function, kernel_level level, int expect_same)
{
    kernel_path_limit(level);
    static plain_adam plain;
    static double data[PARAMETERS], grad[PARAMETERS], plain_grad[PARAMETERS];
    memset(&plain, 0, sizeof plain);
    python_random random;
    python_random_seed(&random, 42);
    for (int i = 0; i < PARAMETERS; i++)
        data[i] = plain.data[i] = python_random_gauss(&random, 0.0, 0.08);
    adam_buffers buffers;
    adam_buffers_init(&buffers, PARAMETERS);
    int mismatches = 0;
    for (int step = 0; step < STEPS; step++) {
        for (int i = 0; i < PARAMETERS; i++)
            grad[i] = plain_grad[i] = draw_gradient(&random);
        step_function(&buffers, data, grad, step, STEPS);
        plain_adam_step(&plain, plain_grad, step, STEPS);
        for (int i = 0; i < PARAMETERS; i++) {
            int same = memcmp(&data[i], &plain.data[i], sizeof data[i]) == 0 &&
                       memcmp(&buffers.m[i], &plain.m[i], sizeof data[i]) == 0 &&
                       memcmp(&buffers.v[i], &plain.v[i], sizeof data[i]) == 0 && grad[i] == 0.0;
            if (!same && mismatches++ < 5 && expect_same)
                CHECK(same, "%s, step %d, parameter %d: data %a (reference %a), v %a (%a)", kernel_path_name(level),
                      step, i, data[i], plain.data[i], buffers.v[i], plain.v[i]);
        }
    }
    if (expect_same) {
        CHECK(mismatches == 0, "%s: %d parameter-steps differ from the reference", kernel_path_name(level), mismatches);
        printf("%s: %d parameters x %d steps identical to the reference; %zu elements left to the scalar fix, pow "
               "called for %zu squares and %zu roots\n",
               kernel_path_name(level), PARAMETERS, STEPS, buffers.fixed, buffers.slow_squares, buffers.slow_roots);
        /* the inputs out of range must reach pow, so the slow path ran */
        CHECK(buffers.slow_squares > 0 && buffers.slow_roots > 0, "%s: the slow path never ran",
              kernel_path_name(level));
    }
    adam_buffers_free(&buffers);
    return mismatches;
}

int main(void)
{
    for (int level = KERNEL_GENERIC; level <= (int)kernel_path_supported(); level++)
        compare_with_reference(adam_step, (kernel_level)level, 1);
    /* the mutants on the fastest path */
    for (size_t i = 0; i < sizeof mutants / sizeof mutants[0]; i++) {
        if (kernel_path_supported() < mutants[i].level) {
            printf("deliberately wrong, %s: not on this processor's paths\n", mutants[i].name);
            continue;
        }
        int mismatches = compare_with_reference(mutants[i].step, kernel_path_supported(), 0);
        printf("deliberately wrong, %s: %d parameter-steps differ from the reference\n", mutants[i].name, mismatches);
        CHECK(mismatches > 0, "the test did not catch: %s", mutants[i].name);
    }
    return test_finish("test_adam");
}
