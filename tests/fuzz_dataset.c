/* fuzz_dataset: the fuzz target of the dataset parser, tokenizer and shuffle
 * (data/dataset.c over engine/python_random.c).
 *
 * Two builds of this one file: with clang's -fsanitize=fuzzer (`make fuzz`,
 * MICROGPT_FUZZ=ON) libFuzzer supplies main and mutates the inputs; every
 * other build links tests/fuzz_replay.c, whose main replays the committed
 * corpus (tests/fuzz/README.md), so a crash once found stays tested.
 *
 * Each input is checked against a second, simpler reading of the rules in
 * dataset.h: a line is valid when its stripped text is printable ASCII (the
 * stripped margins are white space by definition); documents are the
 * non-empty stripped lines; the first invalid line, in file order, is the
 * error. Then the shuffle must move whole documents, in the order that
 * python_random_shuffle gives the indices (what training_run uses). Any
 * mismatch aborts, which libFuzzer reports as a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "python_random.h"

#define REQUIRE(condition)                                                                                             \
    do {                                                                                                               \
        if (!(condition)) {                                                                                            \
            fprintf(stderr, "fuzz_dataset: %s:%d: violated: %s\n", __FILE__, __LINE__, #condition);                    \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size);

static int is_strip_space(uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* A line's stripped text: [*first, *last). */
static void strip_line(const uint8_t *bytes, size_t start, size_t end, size_t *first, size_t *last)
{
    *first = start;
    *last = end;
    while (*first < *last && is_strip_space(bytes[*first]))
        ++*first;
    while (*last > *first && is_strip_space(bytes[*last - 1]))
        --*last;
}

/* The expected outcome: the error message (returns -1), or 0 and the
 * document count. */
static int expected_outcome(const uint8_t *bytes, size_t size, char *message, size_t capacity, size_t *docs)
{
    *docs = 0;
    if (size == 0) {
        snprintf(message, capacity, "is empty");
        return -1;
    }
    long line = 1;
    for (size_t start = 0; start <= size; line++) {
        const uint8_t *newline = memchr(bytes + start, '\n', size - start);
        size_t end = newline ? (size_t)(newline - bytes) : size;
        size_t first, last;
        strip_line(bytes, start, end, &first, &last);
        for (size_t i = first; i < last; i++)
            if (bytes[i] < 0x20 || bytes[i] > 0x7e) {
                snprintf(message, capacity, "line %ld has byte 0x%02x, outside printable ASCII", line, bytes[i]);
                return -1;
            }
        *docs += last > first;
        if (!newline)
            break;
        start = end + 1;
    }
    if (*docs == 0) {
        snprintf(message, capacity, "has no usable line (every line is blank)");
        return -1;
    }
    return 0;
}

/* The tokens of every document spell its stripped line, between two BOS. */
static void check_tokens(const uint8_t *bytes, size_t size, const dataset *data)
{
    int seen[256] = {0};
    size_t doc = 0;
    for (size_t start = 0; start <= size;) {
        const uint8_t *newline = memchr(bytes + start, '\n', size - start);
        size_t end = newline ? (size_t)(newline - bytes) : size;
        size_t first, last;
        strip_line(bytes, start, end, &first, &last);
        if (last > first) {
            REQUIRE(doc < data->doc_count);
            int count;
            const int *tokens = dataset_doc_tokens(data, doc++, &count);
            REQUIRE((size_t)count == last - first + 2);
            REQUIRE(tokens[0] == data->bos && tokens[count - 1] == data->bos);
            for (size_t i = first; i < last; i++) {
                int token = tokens[1 + i - first];
                REQUIRE(token >= 0 && token < data->bos);
                REQUIRE((uint8_t)data->characters[token] == bytes[i]);
                seen[bytes[i]] = 1;
            }
        }
        if (!newline)
            break;
        start = end + 1;
    }
    REQUIRE(doc == data->doc_count);
    /* The vocabulary: exactly the characters used, sorted, then BOS. */
    int distinct = 0;
    for (int c = 0; c < 256; c++)
        distinct += seen[c];
    REQUIRE(data->bos == distinct && data->vocab_size == distinct + 1 && data->vocab_size <= DATASET_MAX_VOCAB);
    for (int i = 1; i < distinct; i++)
        REQUIRE((uint8_t)data->characters[i - 1] < (uint8_t)data->characters[i]);
}

/* dataset_shuffle reorders whole documents as python_random_shuffle orders
 * their indices under the same seed. */
static void check_shuffle(dataset *data, uint32_t seed)
{
    size_t count = data->doc_count, total = data->doc_start[count];
    int *tokens = malloc(total * sizeof *tokens);
    size_t *starts = malloc((count + 1) * sizeof *starts);
    size_t *order = malloc(count * sizeof *order);
    REQUIRE(tokens && starts && order);
    memcpy(tokens, data->tokens, total * sizeof *tokens);
    memcpy(starts, data->doc_start, (count + 1) * sizeof *starts);
    for (size_t i = 0; i < count; i++)
        order[i] = i;
    python_random rng;
    python_random_seed(&rng, seed);
    python_random_shuffle(&rng, order, count);
    python_random_seed(&rng, seed);
    dataset_shuffle(data, &rng);

    REQUIRE(data->doc_count == count && data->doc_start[count] == total);
    char *taken = calloc(count ? count : 1, 1);
    REQUIRE(taken);
    for (size_t i = 0; i < count; i++) {
        REQUIRE(order[i] < count && !taken[order[i]]);
        taken[order[i]] = 1;
        int shuffled_count;
        const int *shuffled = dataset_doc_tokens(data, i, &shuffled_count);
        size_t from = starts[order[i]], length = starts[order[i] + 1] - from;
        REQUIRE((size_t)shuffled_count == length);
        REQUIRE(memcmp(shuffled, tokens + from, length * sizeof *tokens) == 0);
    }
    free(taken);
    free(order);
    free(starts);
    free(tokens);
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    char expected[256], error[256];
    size_t expected_docs;
    int expected_status = expected_outcome(bytes, size, expected, sizeof expected, &expected_docs);

    dataset data;
    memset(error, 'x', sizeof error);
    int status = dataset_parse((const char *)bytes, size, &data, error, sizeof error);
    REQUIRE(status == expected_status);
    if (status != 0) {
        REQUIRE(strcmp(error, expected) == 0);
        REQUIRE(data.tokens == NULL && data.doc_start == NULL);
        /* A short buffer gets a terminated prefix of the same message. */
        char short_error[8];
        size_t capacity = 1 + size % sizeof short_error;
        memset(short_error, 'x', sizeof short_error);
        REQUIRE(dataset_parse((const char *)bytes, size, &data, short_error, capacity) == -1);
        REQUIRE(strlen(short_error) == capacity - 1 && strncmp(short_error, expected, capacity - 1) == 0);
        return 0;
    }
    REQUIRE(data.doc_count == expected_docs);
    check_tokens(bytes, size, &data);

    /* Any seed will do; take it from the input so that it varies too. */
    uint32_t seed = 2166136261u;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ bytes[i]) * 16777619u;
    check_shuffle(&data, seed);
    dataset_free(&data);
    REQUIRE(data.tokens == NULL && data.doc_start == NULL);
    return 0;
}
