/* call_stack: room for the recursive topological sort (topological_order.h).
 *
 * The reference's build_topo recurses once per node on the deepest path of
 * the graph, and that path grows with the model: about 10 * n_embd frames per
 * layer (model_shape_graph_depth_bound). Programs therefore run a training on
 * a thread whose stack fits the bound for its shape (call_stack_run). The
 * sort itself checks, each time it reaches a new deepest frame, that the
 * stack still has room (call_stack_floor), and otherwise stops with one line
 * on stderr naming the limit (call_stack_exhausted): a graph too deep for the
 * stack is an error message, never a silent crash. */
#ifndef MICROGPT_CALL_STACK_H
#define MICROGPT_CALL_STACK_H

#include <stddef.h>
#include <stdint.h>

/* Stack per level of the recursive sort, with a wide margin: measured (by
 * tests/test_deep_graph.c's small-stack case) about 28 bytes a level with
 * GCC 12 -O2 on x86-64, which inlines a few levels into one frame, and 49
 * with AddressSanitizer. */
#define CALL_STACK_FRAME_BYTES 256
/* Kept free below the deepest allowed frame, for the error path itself. */
#define CALL_STACK_RESERVE_BYTES (64 * 1024)

/* A stack for `frames` frames of the recursive sort, the reserve, and 1 MB
 * for everything else a run calls. */
size_t call_stack_bytes_for_depth(double frames);

/* Runs function(argument) where the stack has at least `bytes` free: on the
 * calling thread if it has, else on a new thread of that stack size, waited
 * for. A thread that cannot be made: one line, exit 2. */
void call_stack_run(size_t bytes, void (*function)(void *), void *argument);

/* The lowest address the calling thread's frames may reach: its stack's end
 * plus CALL_STACK_RESERVE_BYTES. Looked up once per thread. */
uintptr_t call_stack_floor(void);

/* The calling thread's stack size in bytes, and how much of it is left
 * below the caller's frame. */
size_t call_stack_size(void);
size_t call_stack_remaining(void);

/* The recursive sort reached `depth` frames and the stack is nearly full:
 * one line on stderr naming the limit, exit 2. */
__attribute__((noreturn)) void call_stack_exhausted(size_t depth);

#endif
