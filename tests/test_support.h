/* test_support.h: a failing check prints where and why, counts, and the
 * test exits non-zero at the end (no test here can pass on a mismatch). */
#ifndef MICROGPT_TEST_SUPPORT_H
#define MICROGPT_TEST_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>

static int test_checks, test_failures;

#define CHECK(condition, ...)                                                                                          \
    do {                                                                                                               \
        test_checks++;                                                                                                 \
        if (!(condition)) {                                                                                            \
            test_failures++;                                                                                           \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #condition);                              \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fputc('\n', stderr);                                                                                       \
        }                                                                                                              \
    } while (0)

/* Prints the closing line and returns main's exit status. */
static inline int test_finish(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
    return test_failures ? 1 : 0;
}

/* A test that does not apply to what it was given says why and exits with
 * the code ctest reports as skipped (tests/CMakeLists.txt sets it): never a
 * pass that checked nothing. */
#ifndef MICROGPT_TEST_SKIPPED
#error "tests/CMakeLists.txt defines MICROGPT_TEST_SKIPPED, the exit code ctest reports as skipped"
#endif
static inline int test_skip(const char *name, const char *why)
{
    printf("%s: SKIPPED: %s\n", name, why);
    return MICROGPT_TEST_SKIPPED;
}

/* The dataset the tests train on: $MICROGPT_DATA, set by tests/CMakeLists.txt. */
#include "dataset.h"
static inline void test_load_dataset(dataset *data)
{
    const char *path = getenv("MICROGPT_DATA");
    char error[1024];
    if (!path || dataset_load(path, data, error, sizeof error) != 0) {
        fprintf(stderr, "cannot load the dataset ($MICROGPT_DATA=%s): %s\n", path ? path : "unset",
                path ? error : "set it to names.txt");
        exit(1);
    }
}

/* The variant named on the command line, from the registry. */
#include "variant.h"
static inline const microgpt_variant *test_variant_argument(int argc, char **argv)
{
    const microgpt_variant *variant = argc == 2 ? microgpt_variant_find(argv[1]) : NULL;
    if (!variant) {
        fprintf(stderr, "usage: %s VARIANT (one of the registry's)\n", argv[0]);
        exit(2);
    }
    return variant;
}

#endif
