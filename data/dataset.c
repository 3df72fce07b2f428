/* dataset: parse, tokenize and shuffle the names file (spec, "Data"). */
#include "dataset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Python's str.strip() removes these (and \x1c-\x1f, which we reject as
 * non-printable before stripping ever matters). */
static int is_strip_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_printable(unsigned char c) { return c >= 0x20 && c <= 0x7e; }

/* The line that starts at `start`: where it ends (its '\n' or the end of
 * the bytes) and the span [first, last) left by Python's strip(). */
typedef struct line_span {
    size_t end, first, last;
} line_span;

static line_span line_at(const char *bytes, size_t size, size_t start)
{
    line_span line = {start, start, start};
    while (line.end < size && bytes[line.end] != '\n')
        line.end++;
    line.first = start, line.last = line.end;
    while (line.first < line.last && is_strip_space((unsigned char)bytes[line.first]))
        line.first++;
    while (line.last > line.first && is_strip_space((unsigned char)bytes[line.last - 1]))
        line.last--;
    return line;
}

static int refuse(char *error, size_t capacity, const char *message, long line, unsigned byte)
{
    snprintf(error, capacity, message, line, byte);
    return -1;
}

int dataset_parse(const char *bytes, size_t size, dataset *out, char *error, size_t error_capacity)
{
    memset(out, 0, sizeof *out);
    if (size == 0)
        return refuse(error, error_capacity, "is empty", 0, 0);

    /* Pass 1: validate, count documents and characters, mark the vocabulary. */
    int seen[256] = {0};
    size_t doc_count = 0, char_count = 0;
    long line_number = 1;
    for (size_t start = 0; start < size; line_number++) {
        line_span line = line_at(bytes, size, start);
        size_t first = line.first, last = line.last;
        for (size_t i = start; i < line.end; i++) {
            unsigned char c = (unsigned char)bytes[i];
            int stripped = i < first || i >= last;
            if (!is_printable(c) && !(stripped && is_strip_space(c)))
                return refuse(error, error_capacity, "line %ld has byte 0x%02x, outside printable ASCII", line_number,
                              c);
        }
        if (last > first) {
            doc_count++;
            char_count += last - first;
            for (size_t i = first; i < last; i++)
                seen[(unsigned char)bytes[i]] = 1;
        }
        start = line.end + 1;
    }
    if (doc_count == 0)
        return refuse(error, error_capacity, "has no usable line (every line is blank)", 0, 0);

    int lookup[256];
    int characters = 0;
    for (int c = 0; c < 256; c++) {
        lookup[c] = -1;
        if (seen[c]) {
            lookup[c] = characters;
            out->characters[characters++] = (char)c;
        }
    }
    out->bos = characters;
    out->vocab_size = characters + 1;
    out->doc_count = doc_count;
    out->tokens = malloc((char_count + 2 * doc_count) * sizeof *out->tokens);
    out->doc_start = malloc((doc_count + 1) * sizeof *out->doc_start);
    if (!out->tokens || !out->doc_start) {
        dataset_free(out);
        return refuse(error, error_capacity, "is too large to hold in memory", 0, 0);
    }

    /* Pass 2: tokenize. */
    size_t doc = 0, token = 0;
    for (size_t start = 0; start < size;) {
        line_span line = line_at(bytes, size, start);
        if (line.last > line.first) {
            out->doc_start[doc++] = token;
            out->tokens[token++] = out->bos;
            for (size_t i = line.first; i < line.last; i++)
                out->tokens[token++] = lookup[(unsigned char)bytes[i]];
            out->tokens[token++] = out->bos;
        }
        start = line.end + 1;
    }
    out->doc_start[doc] = token;
    return 0;
}

int dataset_load(const char *path, dataset *out, char *error, size_t error_capacity)
{
    memset(out, 0, sizeof *out);
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(error, error_capacity, "cannot open dataset %s: %s", path, strerror(errno));
        return -1;
    }
    size_t capacity = 1 << 16, size = 0;
    char *bytes = malloc(capacity);
    int read_error = 0;
    while (bytes) {
        size += fread(bytes + size, 1, capacity - size, file);
        if (size < capacity) {
            read_error = ferror(file) ? errno : 0;
            break;
        }
        char *grown = realloc(bytes, capacity * 2);
        if (!grown) {
            free(bytes);
            bytes = NULL;
            break;
        }
        bytes = grown;
        capacity *= 2;
    }
    fclose(file);
    if (!bytes) {
        snprintf(error, error_capacity, "dataset %s is too large to hold in memory", path);
        return -1;
    }
    if (read_error) {
        snprintf(error, error_capacity, "cannot read dataset %s: %s", path, strerror(read_error));
        free(bytes);
        return -1;
    }
    char reason[200];
    int status = dataset_parse(bytes, size, out, reason, sizeof reason);
    free(bytes);
    if (status != 0)
        snprintf(error, error_capacity, "dataset %s %s", path, reason);
    return status;
}

/* Shuffles whole documents: a permutation drawn like random.shuffle(docs). */
void dataset_shuffle(dataset *data, python_random *rng)
{
    size_t count = data->doc_count;
    size_t *order = malloc(count * sizeof *order);
    int *tokens = malloc(data->doc_start[count] * sizeof *tokens);
    size_t *starts = malloc((count + 1) * sizeof *starts);
    if (!order || !tokens || !starts) {
        fprintf(stderr, "microgpt: out of memory shuffling %zu documents\n", count);
        exit(2);
    }
    for (size_t i = 0; i < count; i++)
        order[i] = i;
    python_random_shuffle(rng, order, count);
    size_t token = 0;
    for (size_t i = 0; i < count; i++) {
        starts[i] = token;
        size_t from = data->doc_start[order[i]], length = data->doc_start[order[i] + 1] - from;
        memcpy(tokens + token, data->tokens + from, length * sizeof *tokens);
        token += length;
    }
    starts[count] = token;
    free(order);
    free(data->tokens);
    free(data->doc_start);
    data->tokens = tokens;
    data->doc_start = starts;
}

void dataset_free(dataset *data)
{
    free(data->tokens);
    free(data->doc_start);
    data->tokens = NULL;
    data->doc_start = NULL;
}
