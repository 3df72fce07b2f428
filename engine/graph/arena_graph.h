/* arena_graph.h: a storage of scalar_graph.h: a step's nodes bump-allocated,
 * in creation order, from an arena rewound (not freed) after the step; wide
 * nodes' child arrays from a second one. Parameters are malloc'd one by one,
 * as in heap_graph.h. */
#ifndef MICROGPT_ARENA_GRAPH_H
#define MICROGPT_ARENA_GRAPH_H
#ifndef MICROGPT_VARIANT_FILE
#error "engine/graph/arena_graph.h is a building block for variants: include it only from a variants/<name>.c"
#endif

#include "scalar_graph.h"

/* A bump allocator over a list of chunks; rewinding keeps them. */
typedef struct arena_chunk {
    unsigned char *base;
    size_t size, used;
} arena_chunk;

typedef struct arena {
    arena_chunk *chunks;
    size_t count, capacity; /* chunks made, room in `chunks` */
    size_t current;         /* the chunk being filled (when count > 0) */
    size_t used_bytes;      /* since the last rewind */
    size_t chunk_bytes;     /* the size of a new chunk, unless a request needs more */
} arena;

/* The next chunk with room for `bytes`, made (or remade larger) if need be. */
__attribute__((noinline)) static void *arena_allocate_slow(arena *a, size_t bytes)
{
    size_t next = a->count ? a->current + 1 : 0;
    if (next == a->count) {
        if (a->count == a->capacity) {
            a->capacity = a->capacity ? 2 * a->capacity : 16;
            a->chunks = realloc_checked(a->chunks, a->capacity * sizeof *a->chunks);
        }
        a->chunks[a->count++] = (arena_chunk){NULL, 0, 0};
    }
    arena_chunk *chunk = &a->chunks[next];
    if (chunk->size < bytes) {
        free(chunk->base);
        chunk->size = bytes > a->chunk_bytes ? bytes : a->chunk_bytes;
        chunk->base = malloc_checked(chunk->size);
    }
    a->current = next;
    chunk->used = bytes;
    a->used_bytes += bytes;
    return chunk->base;
}

/* bytes: a multiple of 8, so every allocation stays aligned for doubles and pointers. */
static inline void *arena_allocate(arena *a, size_t bytes)
{
    if (a->count) {
        arena_chunk *chunk = &a->chunks[a->current];
        if (chunk->size - chunk->used >= bytes) {
            void *p = chunk->base + chunk->used;
            chunk->used += bytes;
            a->used_bytes += bytes;
            return p;
        }
    }
    return arena_allocate_slow(a, bytes);
}

static inline void arena_rewind(arena *a)
{
    for (size_t i = 0; a->count && i <= a->current; i++)
        a->chunks[i].used = 0;
    a->current = 0;
    a->used_bytes = 0;
}

static inline void arena_free(arena *a)
{
    for (size_t i = 0; i < a->count; i++)
        free(a->chunks[i].base);
    free(a->chunks);
    *a = (arena){0};
}

enum { ARENA_NODES_PER_CHUNK = 8192, ARENA_LINK_CHUNK_BYTES = 1 << 20 };

static struct {
    arena nodes; /* node-sized slots only: creation order, chunk by chunk */
    arena links; /* children and local gradients of nodes with more than two */
    node_list parameters;
} arena_graph;

static inline node *node_create(double data, uint32_t child_count)
{
    if (!arena_graph.nodes.chunk_bytes) {
        arena_graph.nodes.chunk_bytes = ARENA_NODES_PER_CHUNK * sizeof(node);
        arena_graph.links.chunk_bytes = ARENA_LINK_CHUNK_BYTES;
    }
    node *v = arena_allocate(&arena_graph.nodes, sizeof *v);
    node_init(v, data, child_count);
    if (child_count > 2) {
        v->children = arena_allocate(&arena_graph.links, child_count * sizeof *v->children);
        v->local_grads = arena_allocate(&arena_graph.links, child_count * sizeof *v->local_grads);
    }
    return v;
}

/* A node's links, and the model's slots, cost nothing here (scalar_node.h). */
static inline void node_linked(node *v) { (void)v; }
static inline void node_held(node *v) { (void)v; }
static inline void node_released(node *v) { (void)v; }

static inline node *parameter_create(double data)
{
    node *v = malloc_checked(sizeof *v);
    node_init(v, data, 0);
    node_list_push(&arena_graph.parameters, v);
    return v;
}

static inline size_t node_storage_step_bytes(void)
{
    return arena_graph.nodes.used_bytes + arena_graph.links.used_bytes;
}

/* The step's nodes in chunk `chunk` (0 .. arena_graph_chunks_in_use() - 1),
 * in creation order: a node is always made after its children. */
static inline size_t arena_graph_chunks_in_use(void)
{
    return arena_graph.nodes.count ? arena_graph.nodes.current + 1 : 0;
}

static inline node *arena_graph_chunk_nodes(size_t chunk, size_t *count)
{
    const arena_chunk *c = &arena_graph.nodes.chunks[chunk];
    *count = c->used / sizeof(node);
    return (node *)(void *)c->base;
}

static inline void graph_release_step(void)
{
    arena_rewind(&arena_graph.nodes);
    arena_rewind(&arena_graph.links);
}

static inline void graph_destroy(void)
{
    arena_free(&arena_graph.nodes);
    arena_free(&arena_graph.links);
    for (size_t i = 0; i < arena_graph.parameters.count; i++)
        free(arena_graph.parameters.items[i]);
    free(arena_graph.parameters.items);
    arena_graph.parameters = (node_list){0};
    scalar_graph_free();
}

#endif
