/* call_stack: see call_stack.h. */
#define _GNU_SOURCE /* pthread_getattr_np: where the calling thread's stack is */
#include "call_stack.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OTHER_CALLS_BYTES = 1024 * 1024 };

size_t call_stack_bytes_for_depth(double frames)
{
    double bytes = frames * CALL_STACK_FRAME_BYTES + CALL_STACK_RESERVE_BYTES + OTHER_CALLS_BYTES;
    return bytes < (double)(SIZE_MAX / 2) ? (size_t)bytes : SIZE_MAX / 2;
}

typedef struct thread_call {
    void (*function)(void *);
    void *argument;
} thread_call;

static void *thread_main(void *context)
{
    thread_call *call = context;
    call->function(call->argument);
    return NULL;
}

static _Noreturn void thread_failure(const char *what, int error, size_t bytes)
{
    fprintf(stderr, "microgpt: cannot %s a thread with a %zu MB stack for the training: %s\n", what, bytes >> 20,
            strerror(error));
    exit(2);
}

void call_stack_run(size_t bytes, void (*function)(void *), void *argument)
{
    /* Room enough here (the usual case: the reference's size needs a few
     * hundred frames): no thread, so the run's allocations stay in malloc's
     * main arena, as they would without this function. */
    if (call_stack_remaining() >= bytes) {
        function(argument);
        return;
    }
    pthread_attr_t attributes;
    pthread_t thread;
    thread_call call = {function, argument};
    int error = pthread_attr_init(&attributes);
    if (error == 0)
        error = pthread_attr_setstacksize(&attributes, bytes);
    if (error != 0)
        thread_failure("set up", error, bytes);
    error = pthread_create(&thread, &attributes, thread_main, &call);
    pthread_attr_destroy(&attributes);
    if (error != 0)
        thread_failure("start", error, bytes);
    error = pthread_join(thread, NULL);
    if (error != 0)
        thread_failure("join", error, bytes);
}

static _Thread_local struct {
    uintptr_t floor;
    size_t size;
} this_thread;

static void look_up_stack(void)
{
    pthread_attr_t attributes;
    void *low;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attributes) != 0 || pthread_attr_getstack(&attributes, &low, &size) != 0) {
        fprintf(stderr, "microgpt: cannot find the bounds of this thread's call stack\n");
        exit(2);
    }
    pthread_attr_destroy(&attributes);
    this_thread.floor = (uintptr_t)low + CALL_STACK_RESERVE_BYTES;
    this_thread.size = size;
}

uintptr_t call_stack_floor(void)
{
    if (!this_thread.floor)
        look_up_stack();
    return this_thread.floor;
}

size_t call_stack_remaining(void)
{
    uintptr_t here = (uintptr_t)__builtin_frame_address(0), end = call_stack_floor() - CALL_STACK_RESERVE_BYTES;
    return here > end ? here - end : 0;
}

size_t call_stack_size(void)
{
    if (!this_thread.floor)
        look_up_stack();
    return this_thread.size;
}

void call_stack_exhausted(size_t depth)
{
    fprintf(stderr,
            "microgpt: the recursive topological sort reached depth %zu, the most this thread's %zu KB call stack "
            "holds: the graph is too deep for a recursive variant (use a smaller --n-layer or --n-embd, or an "
            "iterative variant such as stack or both)\n",
            depth, call_stack_size() >> 10);
    exit(2);
}
