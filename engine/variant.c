/* variant.c: the names of a variant's facts (variant.h), for the programs
 * that print them. */
#include "variant.h"

const char *variant_sort_name(variant_sort sort)
{
    switch (sort) {
    case SORT_RECURSIVE: return "recursive";
    case SORT_ITERATIVE: return "iterative";
    case SORT_NONE: break;
    }
    return "none";
}

const char *variant_graph_name(variant_graph graph)
{
    switch (graph) {
    case GRAPH_SCALAR: return "scalar";
    case GRAPH_FUSED: return "fused";
    case GRAPH_COARSE: return "coarse";
    case GRAPH_SEQUENCE: return "sequence";
    case GRAPH_NONE: break;
    }
    return "none";
}
