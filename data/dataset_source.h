/* dataset_source: where the dataset comes from, the same order for every
 * target: --data PATH, $MICROGPT_DATA, the project's data/names.txt, the file
 * the tests' fixture found (BUILD/dataset/names.txt), else data/names.txt
 * downloaded from the public URL and verified against its sha256. */
#ifndef MICROGPT_DATASET_SOURCE_H
#define MICROGPT_DATASET_SOURCE_H

#include <stddef.h>

/* DATASET_URL and DATASET_SHA256 come from CMakeLists.txt, their one home
 * (the tests' dataset fixture reads them there too). */
#if !defined(DATASET_URL) || !defined(DATASET_SHA256)
#error "the build defines DATASET_URL and DATASET_SHA256 (CMakeLists.txt, MICROGPT_DATASET_*)"
#endif

/* The project's data/names.txt (an absolute path fixed at build time). */
const char *dataset_default_path(void);

/* Picks the path; downloads the default one if it is missing. 0 or -1 with
 * one line in error. */
int dataset_locate(const char *explicit_path, char *path_out, size_t path_capacity, char *error, size_t error_capacity);

/* Downloads url with curl into destination through a temporary file, which
 * is renamed into place only if its sha256 is expected_sha256. */
int dataset_download(const char *url, const char *destination, const char *expected_sha256, char *error,
                     size_t error_capacity);

#endif
