/* command_line: the one option parser of the programs (the microgpt-<variant>
 * CLI, the microgpt-bench harness, microgpt-variants), so that they treat
 * options alike:
 *   - an unknown option:           "unknown option '--x' (see --help)"
 *   - an option without its value: "--steps needs a value (see --help)"
 *   - an option given twice:       "--steps is given twice (see --help)"
 *     (a repeatable list option, such as the harness's --variant, refuses
 *     the same value twice: "--variant naive is given twice (see --help)")
 *   - a bad number:  "--steps takes a whole number from 1 to 1000000, got 'x'"
 *   - an empty file name:          "--data needs a file name, got ''"
 * each one line on stderr after "<program>: ", and exit status 2. A help
 * option stops the parse where it stands (what came before it was checked).
 * Usable from C++ (the harness). */
#ifndef MICROGPT_COMMAND_LINE_H
#define MICROGPT_COMMAND_LINE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum option_kind {
    OPTION_FLAG,  /* no value */
    OPTION_HELP,  /* no value; the parse stops and returns 1 */
    OPTION_COUNT, /* a whole number from low to high */
    OPTION_FILE,  /* a file name, not empty */
    OPTION_LIST   /* a value per use, repeatable with different values */
} option_kind;

enum { OPTION_LIST_CAPACITY = 64 };

typedef struct command_option {
    const char *name;  /* "--steps" */
    const char *alias; /* another spelling ("-h"), or NULL */
    option_kind kind;
    int low, high; /* OPTION_COUNT's range */
    /* Set by the parse: */
    int given;                                /* times given (a list: its number of values) */
    int count;                                /* OPTION_COUNT's value */
    const char *text;                         /* OPTION_FILE's value */
    const char *values[OPTION_LIST_CAPACITY]; /* OPTION_LIST's values */
} command_option;

typedef struct command_line {
    const char *program; /* the prefix of every message */
    command_option *options;
    size_t option_count;
    /* Arguments that start with it are left for another parser (the
     * harness's "--benchmark_"), NULL for none: they stay in argv, in order,
     * after argv[0], and *argc counts them. */
    const char *pass_through_prefix;
} command_line;

/* Parses argv[1..*argc) into line->options. Returns 1 if a help option was
 * met, else 0. Bad input: one line on stderr, exit 2. */
int command_line_parse(const command_line *line, int *argc, char **argv);

/* One line "<program>: <message>" on stderr, exit 2. */
#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 2, 3)))
#endif
void command_line_fail(const char *program, const char *format, ...);

#ifdef __cplusplus
}
#endif

#endif
