/* test_random: engine/python_random.c against CPython's own answers
 * (fixtures/python_random.txt, made by make_python_random_fixture.py) and
 * the spec's check value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "python_random.h"
#include "test_support.h"

static void replay_fixture(const char *path)
{
    FILE *file = fopen(path, "r");
    CHECK(file != NULL, "cannot open %s", path);
    if (!file)
        return;
    python_random rng;
    int seeded = 0, line_number = 0;
    char line[1024];
    while (fgets(line, sizeof line, file)) {
        line_number++;
        char call[32];
        int consumed;
        if (sscanf(line, "%31s%n", call, &consumed) != 1)
            continue;
        const char *rest = line + consumed;
        if (strcmp(call, "seed") == 0) {
            python_random_seed(&rng, (uint32_t)strtoul(rest, NULL, 10));
            seeded = 1;
            continue;
        }
        CHECK(seeded, "line %d: call before seed", line_number);
        if (strcmp(call, "random") == 0) {
            double expected = strtod(rest, NULL), actual = python_random_random(&rng);
            CHECK(actual == expected, "line %d: random() = %.17g, CPython %.17g", line_number, actual, expected);
        } else if (strcmp(call, "gauss") == 0) {
            double expected = strtod(rest, NULL), actual = python_random_gauss(&rng, 0.0, 0.08);
            CHECK(actual == expected, "line %d: gauss = %.17g, CPython %.17g", line_number, actual, expected);
        } else if (strcmp(call, "getrandbits") == 0) {
            unsigned bits;
            unsigned long expected;
            sscanf(rest, "%u %lu", &bits, &expected);
            uint32_t actual = python_random_getrandbits(&rng, (int)bits);
            CHECK(actual == expected, "line %d: getrandbits(%u) = %u, CPython %lu", line_number, bits, actual,
                  expected);
        } else if (strcmp(call, "randbelow") == 0) {
            unsigned long n, expected;
            sscanf(rest, "%lu %lu", &n, &expected);
            uint32_t actual = python_random_randbelow(&rng, (uint32_t)n);
            CHECK(actual == expected, "line %d: randbelow(%lu) = %u, CPython %lu", line_number, n, actual, expected);
        } else if (strcmp(call, "shuffle") == 0) {
            char *cursor;
            size_t count = strtoul(rest, &cursor, 10), items[64];
            for (size_t i = 0; i < count; i++)
                items[i] = i;
            python_random_shuffle(&rng, items, count);
            for (size_t i = 0; i < count; i++) {
                size_t expected = strtoul(cursor, &cursor, 10);
                CHECK(items[i] == expected, "line %d: shuffle item %zu = %zu, CPython %zu", line_number, i, items[i],
                      expected);
            }
        } else if (strcmp(call, "choices") == 0) {
            double weights[16];
            int count = 0;
            char *cursor = (char *)rest;
            while (count < 16) {
                char *end;
                double weight = strtod(cursor, &end);
                if (end == cursor)
                    break;
                weights[count++] = weight, cursor = end;
            }
            int expected = atoi(strstr(rest, "->") + 2);
            int actual = python_random_choices(&rng, weights, count);
            CHECK(actual == expected, "line %d: choices = %d, CPython %d", line_number, actual, expected);
        } else {
            CHECK(0, "line %d: unknown call %s", line_number, call);
        }
    }
    fclose(file);
    CHECK(line_number > 100, "fixture %s has only %d lines", path, line_number);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s fixtures/python_random.txt\n", argv[0]);
        return 2;
    }
    python_random rng;
    python_random_seed(&rng, 42);
    double first = python_random_random(&rng);
    CHECK(first == 0.6394267984578837, "first random() after seed(42) = %.17g (spec: 0.6394267984578837)", first);
    replay_fixture(argv[1]);
    return test_finish("test_random");
}
