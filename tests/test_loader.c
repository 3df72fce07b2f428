/* test_loader: the dataset parser, tokenizer and loader (data/dataset.c)
 * and the checksum (data/sha256.c): what they accept, how they tokenize, and
 * the one-line errors for everything they refuse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checked.h"
#include "dataset.h"
#include "dataset_source.h"
#include "sha256.h"
#include "test_support.h"

static void expect_error(const char *bytes, size_t size, const char *expected)
{
    dataset data;
    char error[256] = "";
    int status = dataset_parse(bytes, size, &data, error, sizeof error);
    CHECK(status == -1, "parsing %zu bytes should fail with '%s'", size, expected);
    CHECK(strcmp(error, expected) == 0, "error '%s', expected '%s'", error, expected);
    CHECK(data.tokens == NULL && data.doc_start == NULL, "a failed parse leaves nothing allocated");
}

static void test_refusals(void)
{
    expect_error("", 0, "is empty");
    expect_error("\n\n  \n\t\r\n", 6, "has no usable line (every line is blank)");
    expect_error("anna\nbo\x01"
                 "b\n",
                 10, "line 2 has byte 0x01, outside printable ASCII");
    expect_error("anna\nj\xc3\xa9r\xc3\xb4me\n", 14, "line 2 has byte 0xc3, outside printable ASCII");
    expect_error("an\tna\n", 6, "line 1 has byte 0x09, outside printable ASCII");
    expect_error("anna\x7f\n", 6, "line 1 has byte 0x7f, outside printable ASCII");
    expect_error("a\0b\n", 4, "line 1 has byte 0x00, outside printable ASCII");
}

static void test_tokens(void)
{
    /* strip() removes surrounding white space (CRLF too); blank lines drop. */
    const char text[] = "  emma\r\n\n\tolivia \nava\n\n";
    dataset data;
    char error[256];
    CHECK(dataset_parse(text, sizeof text - 1, &data, error, sizeof error) == 0, "parse: %s", error);
    CHECK(data.doc_count == 3, "%zu documents", data.doc_count);
    CHECK(data.vocab_size == 8 && data.bos == 7, "vocab %d, bos %d", data.vocab_size, data.bos);
    CHECK(memcmp(data.characters, "aeilmov", 7) == 0, "characters sorted: %.7s", data.characters);
    int count;
    const int *tokens = dataset_doc_tokens(&data, 0, &count);
    /* emma: [BOS, e, m, m, a, BOS] with a=0 e=1 i=2 l=3 m=4 o=5 v=6 */
    int expected[] = {data.bos, 1, 4, 4, 0, data.bos};
    CHECK(count == 6 && memcmp(tokens, expected, sizeof expected) == 0, "tokens of 'emma'");
    tokens = dataset_doc_tokens(&data, 2, &count);
    CHECK(count == 5 && tokens[1] == 0 && tokens[2] == 6, "tokens of 'ava'");
    dataset_free(&data);
    /* No trailing newline, and spaces inside a line are characters. */
    const char spaced[] = "mary ann";
    CHECK(dataset_parse(spaced, sizeof spaced - 1, &data, error, sizeof error) == 0, "parse: %s", error);
    CHECK(data.doc_count == 1 && data.characters[0] == ' ', "space is a character");
    dataset_free(&data);
}

static void test_sha256(void)
{
    char hex[65];
    sha256_hex("", 0, hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0, "sha256('') %s", hex);
    sha256_hex("abc", 3, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0, "sha256(abc) %s", hex);
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex(two_blocks, strlen(two_blocks), hex);
    CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0, "sha256(448 bits) %s",
          hex);
    char *million = malloc_checked(1000000);
    memset(million, 'a', 1000000);
    sha256_hex(million, 1000000, hex);
    CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0, "sha256(a^1e6) %s",
          hex);
    free(million);
}

static void test_files(void)
{
    dataset data;
    char error[512];
    CHECK(dataset_load("/nonexistent/names.txt", &data, error, sizeof error) == -1, "missing file");
    CHECK(strcmp(error, "cannot open dataset /nonexistent/names.txt: No such file or directory") == 0, "'%s'", error);
    CHECK(dataset_load("/", &data, error, sizeof error) == -1, "a directory");
    CHECK(strcmp(error, "cannot read dataset /: Is a directory") == 0, "'%s'", error);

    /* The real dataset: the spec's counts and checksum. */
    test_load_dataset(&data);
    CHECK(data.doc_count == 32033, "num docs %zu", data.doc_count);
    CHECK(data.vocab_size == 27, "vocab size %d", data.vocab_size);
    dataset_free(&data);
    FILE *file = fopen(getenv("MICROGPT_DATA"), "rb");
    char *bytes = malloc_checked(300000);
    size_t size = file ? fread(bytes, 1, 300000, file) : 0;
    if (file)
        fclose(file);
    char hex[65];
    sha256_hex(bytes, size, hex);
    CHECK(size == 228145 && strcmp(hex, DATASET_SHA256) == 0, "names.txt: %zu bytes, sha256 %s", size, hex);
    free(bytes);
}

int main(void)
{
    test_refusals();
    test_tokens();
    test_sha256();
    test_files();
    return test_finish("test_loader");
}
