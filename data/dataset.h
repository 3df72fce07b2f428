/* dataset: the spec's documents, vocabulary and tokens.
 *
 * Parsing never exits: it returns -1 with one line in `error`, so the CLI,
 * the tests and the fuzzer share it. Documents are the stripped, non-empty
 * lines; every byte must be printable ASCII (tabs, CR and other white space
 * are allowed only where strip() removes them). */
#ifndef MICROGPT_DATASET_H
#define MICROGPT_DATASET_H

#include <stddef.h>

#include "python_random.h"

enum { DATASET_MAX_VOCAB = 96 }; /* 95 printable characters + BOS */

typedef struct dataset {
    size_t doc_count;
    int vocab_size;                     /* distinct characters + 1 */
    int bos;                            /* = number of distinct characters */
    char characters[DATASET_MAX_VOCAB]; /* sorted; token id = index */
    int *tokens;                        /* every document as [BOS, chars..., BOS], back to back */
    size_t *doc_start;                  /* doc i is tokens[doc_start[i] .. doc_start[i + 1]) */
} dataset;

/* Parses the bytes of a names file. 0 on success, -1 with a message. */
int dataset_parse(const char *bytes, size_t size, dataset *out, char *error, size_t error_capacity);
/* Reads and parses a file; messages name the path. */
int dataset_load(const char *path, dataset *out, char *error, size_t error_capacity);
/* random.shuffle(docs): reorders the documents as CPython would. */
void dataset_shuffle(dataset *data, python_random *rng);
void dataset_free(dataset *data);

static inline const int *dataset_doc_tokens(const dataset *data, size_t doc, int *token_count)
{
    *token_count = (int)(data->doc_start[doc + 1] - data->doc_start[doc]);
    return data->tokens + data->doc_start[doc];
}

#endif
