/* checked.c: see checked.h. */
#include "checked.h"

#include <stdio.h>
#include <stdlib.h>

static void *must(void *pointer, size_t size, const char *file, int line)
{
    if (!pointer && size) {
        fprintf(stderr, "microgpt: out of memory (%zu bytes at %s:%d)\n", size, file, line);
        exit(2);
    }
    return pointer;
}

void *malloc_checked_at(size_t size, const char *file, int line) { return must(malloc(size), size, file, line); }
void *calloc_checked_at(size_t count, size_t size, const char *file, int line)
{
    return must(calloc(count, size), count * size, file, line);
}
void *realloc_checked_at(void *pointer, size_t size, const char *file, int line)
{
    return must(realloc(pointer, size), size, file, line);
}
