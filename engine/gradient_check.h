/* gradient_check: is a variant's gradient right? The one verdict used by the
 * tests and by the harness's Status column, so no row is timed unchecked.
 *
 * From the seeded initial parameters, on a few documents of the run:
 *   1. the variant's gradients against the reference variant's (naive), and
 *   2. against central finite differences of the variant's own loss on a
 *      spread of parameters (every matrix, and the rows the documents use).
 * Verdict: bit-exact (identical to the reference), within tolerance (differs
 * by at most the variant's declared tolerance, by no more than a reordered
 * sum can explain, and agrees with finite differences), or wrong. */
#ifndef MICROGPT_GRADIENT_CHECK_H
#define MICROGPT_GRADIENT_CHECK_H

#include <stddef.h>

#include "dataset.h"
#include "variant.h"

typedef enum gradient_status { GRADIENTS_BIT_EXACT, GRADIENTS_WITHIN_TOLERANCE, GRADIENTS_WRONG } gradient_status;

typedef struct gradient_check_result {
    gradient_status status;
    double max_reference_difference;    /* max |g - g_reference| */
    double max_relative_difference;     /* max over documents of max |g - g_reference| / max |g_reference| */
    double max_finite_difference_error; /* max |g - fd| / (1e-3 + |fd|) */
    size_t documents, finite_difference_parameters;
} gradient_check_result;

/* The most a reordering of the reference's sums can move a step's
 * gradients, relative to the largest of them (max_relative_difference): a
 * last-bit difference in a sum of terms of that size is about 1e-16 of it,
 * and the reordered variants here stay under 1e-14. Beyond it the gradients
 * are wrong, whatever tolerance the variant declares (its declaration bounds
 * the loss drift over a run: variant_contract.h). */
#define GRADIENT_REORDERING_BOUND 1e-12

/* Finite differences pass when |g - fd| <= FINITE_DIFFERENCE_TOLERANCE * (1e-3 + |fd|). */
#define FINITE_DIFFERENCE_TOLERANCE 1e-4

gradient_check_result gradient_check(const microgpt_variant *variant, const microgpt_variant *reference,
                                     const dataset *data, const model_shape *shape, size_t parameters_per_matrix);
/* "bit-exact", "within tol 3.1e-16" or "wrong gradients". */
void gradient_status_text(const gradient_check_result *result, char *text, size_t capacity);

#endif
