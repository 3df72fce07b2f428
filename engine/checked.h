/* checked.h: allocation that cannot fail silently (llm.c's mallocCheck).
 * Out of memory is not recoverable here: one line on stderr, exit 2. */
#ifndef MICROGPT_CHECKED_H
#define MICROGPT_CHECKED_H

#include <stddef.h>

#define malloc_checked(size) malloc_checked_at((size), __FILE__, __LINE__)
#define calloc_checked(count, size) calloc_checked_at((count), (size), __FILE__, __LINE__)
#define realloc_checked(pointer, size) realloc_checked_at((pointer), (size), __FILE__, __LINE__)

void *malloc_checked_at(size_t size, const char *file, int line);
void *calloc_checked_at(size_t count, size_t size, const char *file, int line);
void *realloc_checked_at(void *pointer, size_t size, const char *file, int line);

#endif
