/* dataset_source: see dataset_source.h. Downloads go through the curl
 * program (Debian's curl package), so there is no network code here. */
#include "dataset_source.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sha256.h"

extern char **environ;

#if !defined(MICROGPT_DEFAULT_DATA) || !defined(MICROGPT_FIXTURE_DATA)
#error "the build defines MICROGPT_DEFAULT_DATA (<project>/data/names.txt) and MICROGPT_FIXTURE_DATA"
#endif

const char *dataset_default_path(void) { return MICROGPT_DEFAULT_DATA; }

static int file_exists(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0;
}

int dataset_locate(const char *explicit_path, char *path_out, size_t path_capacity, char *error, size_t error_capacity)
{
    const char *environment_path = getenv("MICROGPT_DATA");
    const char *path = explicit_path                           ? explicit_path
                       : environment_path && *environment_path ? environment_path
                       : !file_exists(dataset_default_path()) && file_exists(MICROGPT_FIXTURE_DATA)
                           ? MICROGPT_FIXTURE_DATA
                           : dataset_default_path();
    if (snprintf(path_out, path_capacity, "%s", path) >= (int)path_capacity) {
        snprintf(error, error_capacity, "dataset path is too long: %s", path);
        return -1;
    }
    if (path != dataset_default_path() || file_exists(path))
        return 0;
    fprintf(stderr, "microgpt: %s is missing; downloading %s\n", path, DATASET_URL);
    return dataset_download(DATASET_URL, path, DATASET_SHA256, error, error_capacity);
}

static int read_whole_file(const char *path, char **bytes_out, size_t *size_out)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return -1;
    size_t capacity = 1 << 16, size = 0;
    char *bytes = malloc(capacity);
    while (bytes) {
        size += fread(bytes + size, 1, capacity - size, file);
        if (size < capacity)
            break;
        char *grown = realloc(bytes, capacity *= 2);
        if (!grown)
            free(bytes);
        bytes = grown;
    }
    int failed = !bytes || ferror(file);
    fclose(file);
    if (failed) {
        free(bytes);
        return -1;
    }
    *bytes_out = bytes;
    *size_out = size;
    return 0;
}

int dataset_download(const char *url, const char *destination, const char *expected_sha256, char *error,
                     size_t error_capacity)
{
    char temporary[4096];
    if (snprintf(temporary, sizeof temporary, "%s.download-%ld", destination, (long)getpid()) >=
        (int)sizeof temporary) {
        snprintf(error, error_capacity, "dataset path is too long: %s", destination);
        return -1;
    }
    /* --silent without --show-error: our own line below says what failed. */
    char *arguments[] = {"curl", "--fail",   "--silent", "--location", "--max-time",
                         "60",   "--output", temporary,  (char *)url,  NULL};
    pid_t child;
    int spawn_error = posix_spawnp(&child, "curl", NULL, NULL, arguments, environ);
    if (spawn_error) {
        snprintf(error, error_capacity,
                 "no dataset: cannot download %s (curl: %s); set MICROGPT_DATA=/path/to/names.txt", url,
                 strerror(spawn_error));
        return -1;
    }
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        remove(temporary);
        snprintf(error, error_capacity,
                 "no dataset: downloading %s failed (curl exit %d; no network?); set MICROGPT_DATA=/path/to/names.txt",
                 url, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return -1;
    }
    char *bytes;
    size_t size;
    if (read_whole_file(temporary, &bytes, &size) != 0) {
        remove(temporary);
        snprintf(error, error_capacity, "cannot read the download of %s", url);
        return -1;
    }
    char actual[65];
    sha256_hex(bytes, size, actual);
    free(bytes);
    if (strcmp(actual, expected_sha256) != 0) {
        remove(temporary);
        snprintf(error, error_capacity, "checksum mismatch for %s: sha256 %s, expected %s", url, actual,
                 expected_sha256);
        return -1;
    }
    if (rename(temporary, destination) != 0) {
        int rename_error = errno;
        remove(temporary);
        snprintf(error, error_capacity, "cannot move the download to %s: %s", destination, strerror(rename_error));
        return -1;
    }
    return 0;
}
