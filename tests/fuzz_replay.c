/* fuzz_replay: a main for a fuzz target where libFuzzer is not linked (gcc
 * builds, the sanitizer build): runs LLVMFuzzerTestOneInput once on every
 * file named, or in the directories named, in sorted order. A target aborts
 * on a violation, so a clean exit means every input passed.
 *
 * Usage: fuzz_<target>_replay FILE_OR_DIRECTORY... */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checked.h"

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size);

static size_t replayed;

static void replay_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        fprintf(stderr, "fuzz_replay: cannot open %s\n", path);
        exit(2);
    }
    size_t capacity = 4096, size = 0;
    uint8_t *bytes = malloc_checked(capacity);
    for (size_t got; (got = fread(bytes + size, 1, capacity - size, file)) > 0;) {
        size += got;
        if (size == capacity)
            bytes = realloc_checked(bytes, capacity *= 2);
    }
    if (ferror(file)) {
        fprintf(stderr, "fuzz_replay: cannot read %s\n", path);
        exit(2);
    }
    fclose(file);
    printf("%s (%zu bytes)\n", path, size);
    fflush(stdout); /* the name stays on record if the target aborts */
    LLVMFuzzerTestOneInput(bytes, size);
    free(bytes);
    replayed++;
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void replay_directory(const char *path)
{
    DIR *directory = opendir(path);
    if (!directory) {
        fprintf(stderr, "fuzz_replay: cannot open directory %s\n", path);
        exit(2);
    }
    size_t count = 0, capacity = 16;
    char **names = malloc_checked(capacity * sizeof *names);
    for (struct dirent *entry; (entry = readdir(directory));) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        if (count == capacity)
            names = realloc_checked(names, (capacity *= 2) * sizeof *names);
        names[count] = malloc_checked(strlen(path) + strlen(entry->d_name) + 2);
        sprintf(names[count++], "%s/%s", path, entry->d_name);
    }
    closedir(directory);
    qsort(names, count, sizeof *names, compare_names);
    for (size_t i = 0; i < count; i++) {
        replay_file(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIRECTORY...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat info;
        if (stat(argv[i], &info) == 0 && S_ISDIR(info.st_mode))
            replay_directory(argv[i]);
        else
            replay_file(argv[i]);
    }
    if (replayed == 0) {
        fprintf(stderr, "fuzz_replay: no input found in the paths given\n");
        return 1;
    }
    printf("fuzz_replay: %zu inputs replayed, none failed\n", replayed);
    return 0;
}
