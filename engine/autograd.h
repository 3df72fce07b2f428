/* autograd.h: the one type a variant's graph_backward returns. What a
 * variant must define (value_t, its operations, its facts) and the optional
 * VARIANT_HAS_* hooks are in engine/variant_contract.h, which the compiler
 * checks against every variant. */
#ifndef MICROGPT_AUTOGRAD_H
#define MICROGPT_AUTOGRAD_H

#include <stddef.h>

typedef struct graph_size {
    size_t nodes; /* distinct nodes reachable from the loss, leaves included */
    size_t edges; /* child links of those nodes */
    size_t bytes; /* memory the step's graph took, reachable or not */
    /* nodes on the deepest path of backward's depth-first sort (its
     * recursion depth, for a recursive one); 0 without such a sort */
    size_t sort_depth;
} graph_size;

#endif
