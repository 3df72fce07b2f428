/* command_line: see command_line.h. */
#include "command_line.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void command_line_fail(const char *program, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    fprintf(stderr, "%s: ", program);
    vfprintf(stderr, format, arguments);
    fputc('\n', stderr);
    va_end(arguments);
    exit(2);
}

static int parse_count(const char *program, const command_option *option, const char *text)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || value < option->low || value > option->high)
        command_line_fail(program, "%s takes a whole number from %d to %d, got '%s'", option->name, option->low,
                          option->high, text);
    return (int)value;
}

static command_option *find_option(const command_line *line, const char *argument)
{
    for (size_t i = 0; i < line->option_count; i++) {
        command_option *option = &line->options[i];
        if (strcmp(argument, option->name) == 0 || (option->alias && strcmp(argument, option->alias) == 0))
            return option;
    }
    return NULL;
}

int command_line_parse(const command_line *line, int *argc, char **argv)
{
    const char *program = line->program;
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        const char *argument = argv[i];
        command_option *option = find_option(line, argument);
        if (!option) {
            size_t prefix = line->pass_through_prefix ? strlen(line->pass_through_prefix) : 0;
            if (!prefix || strncmp(argument, line->pass_through_prefix, prefix) != 0)
                command_line_fail(program, "unknown option '%s' (see --help)", argument);
            argv[kept++] = argv[i];
            continue;
        }
        if (option->kind == OPTION_HELP)
            return 1;
        if (option->kind != OPTION_FLAG && i + 1 >= *argc)
            command_line_fail(program, "%s needs a value (see --help)", option->name);
        /* A repeated option is a typo or a script's bug: refuse it rather
         * than silently keep one of the two values. */
        if (option->kind == OPTION_LIST) {
            const char *value = argv[++i];
            for (int k = 0; k < option->given; k++)
                if (strcmp(option->values[k], value) == 0)
                    command_line_fail(program, "%s %s is given twice (see --help)", option->name, value);
            if (option->given == OPTION_LIST_CAPACITY)
                command_line_fail(program, "%s is given more than %d times", option->name, OPTION_LIST_CAPACITY);
            option->values[option->given++] = value;
            continue;
        }
        if (option->given++)
            command_line_fail(program, "%s is given twice (see --help)", option->name);
        if (option->kind == OPTION_COUNT)
            option->count = parse_count(program, option, argv[++i]);
        else if (option->kind == OPTION_FILE) {
            option->text = argv[++i];
            if (*option->text == '\0')
                command_line_fail(program, "%s needs a file name, got ''", option->name);
        }
    }
    *argc = kept;
    argv[kept] = NULL;
    return 0;
}
