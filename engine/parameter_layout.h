/* parameter_layout.h: where each weight matrix sits in the model's one array
 * of parameters, in the spec's creation order (its parameter table), written
 * once. model.c creates the parameters in this order; floor, the coarse
 * and sequence graphs and the gradient check find a matrix with
 * model_matrix_offset.
 *
 *   wte [vocab][embd], wpe [block][embd], lm_head [vocab][embd], then per
 *   layer wq, wk, wv, wo [embd][embd], fc1 [4 embd][embd], fc2 [embd][4 embd]. */
#ifndef MICROGPT_PARAMETER_LAYOUT_H
#define MICROGPT_PARAMETER_LAYOUT_H

#include <stddef.h>

typedef struct model_shape {
    int n_embd, n_head, n_layer, block_size, vocab_size;
} model_shape;

typedef enum model_matrix {
    MATRIX_WTE,
    MATRIX_WPE,
    MATRIX_LM_HEAD, /* once */
    MATRIX_WQ,
    MATRIX_WK,
    MATRIX_WV,
    MATRIX_WO,
    MATRIX_FC1,
    MATRIX_FC2 /* per layer */
} model_matrix;
enum { MODEL_LAYER_MATRICES = 6 };

/* The matrix's place in creation order: 0..2 the global ones, then six per layer. */
static inline int model_matrix_index(int layer, model_matrix matrix)
{
    return matrix < MATRIX_WQ ? (int)matrix : MATRIX_WQ + MODEL_LAYER_MATRICES * layer + (int)(matrix - MATRIX_WQ);
}

/* How many matrices the model has: model_matrix_index's range. */
static inline int model_matrix_count(const model_shape *shape)
{
    return MATRIX_WQ + MODEL_LAYER_MATRICES * shape->n_layer;
}

/* The offset of the matrix of creation index `index` in the parameter array;
 * at index model_matrix_count(shape), the parameter count. */
static inline size_t model_matrix_offset_at(const model_shape *shape, int index)
{
    const size_t embd = (size_t)shape->n_embd, vocab = (size_t)shape->vocab_size, block = (size_t)shape->block_size;
    if (index <= MATRIX_LM_HEAD)
        return index == MATRIX_WTE ? 0 : index == MATRIX_WPE ? vocab * embd : vocab * embd + block * embd;
    const int layer = (index - MATRIX_WQ) / MODEL_LAYER_MATRICES, which = (index - MATRIX_WQ) % MODEL_LAYER_MATRICES;
    /* wq, wk, wv, wo are embd x embd; fc1 4 embd x embd: fc2 starts 8 squares in */
    static const size_t squares_before[MODEL_LAYER_MATRICES + 1] = {0, 1, 2, 3, 4, 8, 12};
    return 2 * vocab * embd + block * embd + (size_t)layer * squares_before[MODEL_LAYER_MATRICES] * embd * embd +
           squares_before[which] * embd * embd;
}

static inline size_t model_matrix_offset(const model_shape *shape, int layer, model_matrix matrix)
{
    return model_matrix_offset_at(shape, model_matrix_index(layer, matrix));
}

/* Rows and columns of the matrix of creation index `index`. */
static inline void model_matrix_size(const model_shape *shape, int index, int *rows, int *columns)
{
    static const int rows_times_embd[MODEL_LAYER_MATRICES] = {1, 1, 1, 1, 4, 1};
    static const int columns_times_embd[MODEL_LAYER_MATRICES] = {1, 1, 1, 1, 1, 4};
    const int which = (index - MATRIX_WQ) % MODEL_LAYER_MATRICES;
    *rows = index == MATRIX_WPE ? shape->block_size
            : index < MATRIX_WQ ? shape->vocab_size
                                : rows_times_embd[which] * shape->n_embd;
    *columns = index < MATRIX_WQ ? shape->n_embd : columns_times_embd[which] * shape->n_embd;
}

#endif
