/* adam_mutant.c: kernels/adam.c compiled with one of its fast paths made
 * deliberately wrong, for test_adam to catch (tests/CMakeLists.txt builds
 * it once per ADAM_MUTANT). Its functions are renamed adam_*_mutant<N> so
 * that they link beside the real ones. Each mutation replaces a helper of
 * exact_pow.h or exact_quotient.h (included first, so adam.c's own
 * includes of them are skipped) by a macro. */
#include "kernels/exact_pow.h"
#include "kernels/exact_quotient.h"

#if ADAM_MUTANT == 1
/* the bias corrections' quotients: a times the reciprocal, uncorrected, unchecked */
#define quotient_candidate(a, b, reciprocal) ((a) * (reciprocal))
#define quotient_is_proven(a, b, half_b, q) ((void)(half_b), 1)
#elif ADAM_MUTANT == 2
/* g ** 2's second candidate the same as the first: the candidates always agree */
#define square_other(x, y, fused) (y)
#elif ADAM_MUTANT == 3
/* v_hat ** 0.5's second candidate the same as the first */
#define square_root_other(v, y, fused) (y)
#else
#error "ADAM_MUTANT must be 1, 2 or 3"
#endif

#define MUTANT_NAME_(name, n) name##_mutant##n
#define MUTANT_NAME(name, n) MUTANT_NAME_(name, n)
#define adam_buffers_init MUTANT_NAME(adam_buffers_init, ADAM_MUTANT)
#define adam_buffers_free MUTANT_NAME(adam_buffers_free, ADAM_MUTANT)
#define adam_step MUTANT_NAME(adam_step, ADAM_MUTANT)

#include "kernels/adam.c"
