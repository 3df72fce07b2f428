/* variants_main.c: microgpt-variants, the registry of variants with each
 * one's facts, as its const table states them (engine/variant_contract.h):
 * for people, and (--json) for the scripts and tests that pick variants by
 * their facts, so that nothing reads a variant's source for its meaning. */
#include <stdio.h>
#include <stdlib.h>

#include "command_line.h"
#include "variant.h"

static const char *const program = "microgpt-variants";

static void usage(void)
{
    printf("usage: %s [--json] [--help]\n"
           "Lists every variant of this build with its facts: tolerance (0: bit-exact with the\n"
           "reference), negative control, topological sort (recursive, iterative, none), graph\n"
           "(scalar, fused, coarse, sequence, none) and description.\n"
           "  --json   one JSON array of objects with the keys name, tolerance, expected_wrong,\n"
           "           sort, graph, description\n"
           "Exit status: 0 on success, 2 on bad input.\n",
           program);
}

/* A description as a JSON string: they are plain ASCII with no control
 * characters; quotes and backslashes are escaped. */
static void print_json_string(const char *text)
{
    putchar('"');
    for (; *text; text++) {
        if (*text == '"' || *text == '\\')
            putchar('\\');
        putchar(*text);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    command_option options[] = {
        {.name = "--help", .alias = "-h", .kind = OPTION_HELP},
        {.name = "--json", .kind = OPTION_FLAG},
    };
    command_line line = {program, options, sizeof options / sizeof options[0], NULL};
    if (command_line_parse(&line, &argc, argv)) {
        usage();
        return 0;
    }
    int json = options[1].given;
    if (json)
        printf("[\n");
    else
        printf("%-12s %-9s %-14s %-10s %-7s %s\n", "variant", "tolerance", "expected_wrong", "sort", "graph",
               "description");
    for (size_t i = 0; i < microgpt_variant_count; i++) {
        const microgpt_variant *v = microgpt_variants[i];
        if (json) {
            printf("  {\"name\": \"%s\", \"tolerance\": %.17g, \"expected_wrong\": %s, \"sort\": \"%s\", "
                   "\"graph\": \"%s\", \"description\": ",
                   v->name, v->tolerance, v->expected_wrong ? "true" : "false", variant_sort_name(v->sort),
                   variant_graph_name(v->graph));
            print_json_string(v->description);
            printf("}%s\n", i + 1 < microgpt_variant_count ? "," : "");
        } else {
            printf("%-12s %-9g %-14s %-10s %-7s %s\n", v->name, v->tolerance, v->expected_wrong ? "yes" : "no",
                   variant_sort_name(v->sort), variant_graph_name(v->graph), v->description);
        }
    }
    if (json)
        printf("]\n");
    return 0;
}
