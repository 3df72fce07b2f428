/* microgpt-fetch-data: download names.txt and verify its sha256.
 * The same code the trainers run when data/names.txt is missing. */
#include <stdio.h>
#include <string.h>

#include "dataset_source.h"

static int usage(FILE *stream, int status)
{
    fprintf(stream,
            "usage: microgpt-fetch-data [--url URL] [--output PATH] [--help]\n"
            "Downloads the dataset (default %s)\n"
            "to PATH (default %s) and verifies its sha256 before putting it in place.\n",
            DATASET_URL, dataset_default_path());
    return status;
}

int main(int argc, char **argv)
{
    const char *url = DATASET_URL, *output = dataset_default_path();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            return usage(stdout, 0);
        const char **target = strcmp(argv[i], "--url") == 0 ? &url : strcmp(argv[i], "--output") == 0 ? &output : NULL;
        if (!target) {
            fprintf(stderr, "microgpt-fetch-data: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "microgpt-fetch-data: %s needs a value\n", argv[i]);
            return 2;
        }
        *target = argv[++i];
    }
    char error[1024];
    if (dataset_download(url, output, DATASET_SHA256, error, sizeof error) != 0) {
        fprintf(stderr, "microgpt-fetch-data: %s\n", error);
        return 2;
    }
    printf("%s: verified sha256 %s\n", output, DATASET_SHA256);
    return 0;
}
