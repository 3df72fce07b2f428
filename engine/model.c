/* model.c: microgpt, written once, compiled once per variant.
 * The build compiles it with -DMICROGPT_VARIANT_FILE="variants/<name>.c"
 * (and its _NAME and _SYMBOL): the variant's ops come first, so the model
 * binds to them at compile time, and variant_contract.h checks them. The one
 * export is the const table microgpt_variant_<name> (variant.h). The
 * computation is docs/spec.md's, step for step. */
#if !defined(MICROGPT_VARIANT_FILE) || !defined(MICROGPT_VARIANT_NAME) || !defined(MICROGPT_VARIANT_SYMBOL)
#error "compile with -DMICROGPT_VARIANT_FILE, _NAME and _SYMBOL (CMake does this for every variants/*.c)"
#endif

#include MICROGPT_VARIANT_FILE
/* Right after the variant: every required operation and fact, and each
 * optional hook it defines, with its exact signature. */
#include "variant_contract.h"

#include "scalar_layers.h"

/* A variant that bounds its own memory (variant.h, step_bytes) defines
 * VARIANT_HAS_STEP_BYTES and variant_step_bytes(shape) (variant_contract.h):
 * the bytes it allocates for a step of block_size positions;
 * model_step_bytes below adds the model's own. */
#ifndef VARIANT_HAS_STEP_BYTES
#define VARIANT_STEP_BYTES NULL
#else
#define VARIANT_STEP_BYTES model_step_bytes
#endif

#include <assert.h>

#include "checked.h"
#include "adam.h"
#include "monotonic_clock.h"
#include "variant.h"

typedef struct layer_weights {
    value_t *wq, *wk, *wv, *wo, *fc1, *fc2;
} layer_weights;

struct model {
    model_shape shape;
    int head_dim;
    size_t parameter_count;
    value_t *parameters; /* creation order: the spec's parameter table */
    value_t *wte, *wpe, *lm_head;
    layer_weights *layers;
    adam_buffers adam;
    double *flat_data, *flat_grad;    /* parameters gathered for adam_step */
    value_t *key_cache, *value_cache; /* [layer][position][n_embd] */
    /* scratch vectors of one position */
    value_t *x, *residual, *normed, *query, *attended, *hidden, *logits, *position_losses, *attention_scratch;
    double *sample_weights;
    value_t loss; /* of the last forward, until backward or release */
};

/* The variant keeps its graph in static state: one model at a time. */
static int model_alive;

static model *model_create(const model_shape *shape, python_random *rng)
{
    assert(!model_alive && "one model per variant per process");
    assert(shape->n_embd % shape->n_head == 0);
    model_alive = 1;
    model *m = calloc_checked(1, sizeof *m);
    m->shape = *shape;
    const int embd = shape->n_embd, vocab = shape->vocab_size, block = shape->block_size;
    m->head_dim = embd / shape->n_head;
    m->parameter_count = model_shape_parameter_count(shape);
    m->parameters = calloc_checked(m->parameter_count, sizeof *m->parameters);
    /* Parameters in creation order, row by row: gauss(0, 0.08) each. */
    for (size_t i = 0; i < m->parameter_count; i++)
        value_store(&m->parameters[i], value_parameter(python_random_gauss(rng, 0.0, 0.08)));
    graph_bind_parameters(m->parameters, m->parameter_count);
    m->wte = m->parameters + model_matrix_offset(shape, 0, MATRIX_WTE);
    m->wpe = m->parameters + model_matrix_offset(shape, 0, MATRIX_WPE);
    m->lm_head = m->parameters + model_matrix_offset(shape, 0, MATRIX_LM_HEAD);
    m->layers = malloc_checked((size_t)shape->n_layer * sizeof *m->layers);
    for (int l = 0; l < shape->n_layer; l++) {
        layer_weights *w = &m->layers[l];
        w->wq = m->parameters + model_matrix_offset(shape, l, MATRIX_WQ);
        w->wk = m->parameters + model_matrix_offset(shape, l, MATRIX_WK);
        w->wv = m->parameters + model_matrix_offset(shape, l, MATRIX_WV);
        w->wo = m->parameters + model_matrix_offset(shape, l, MATRIX_WO);
        w->fc1 = m->parameters + model_matrix_offset(shape, l, MATRIX_FC1);
        w->fc2 = m->parameters + model_matrix_offset(shape, l, MATRIX_FC2);
    }
    adam_buffers_init(&m->adam, m->parameter_count);
    m->flat_data = malloc_checked(m->parameter_count * sizeof *m->flat_data);
    m->flat_grad = malloc_checked(m->parameter_count * sizeof *m->flat_grad);
    size_t cache = (size_t)shape->n_layer * block * embd;
    m->key_cache = calloc_checked(cache, sizeof *m->key_cache);
    m->value_cache = calloc_checked(cache, sizeof *m->value_cache);
    m->x = calloc_checked((size_t)embd, sizeof *m->x);
    m->residual = calloc_checked((size_t)embd, sizeof *m->residual);
    m->normed = calloc_checked((size_t)embd, sizeof *m->normed);
    m->query = calloc_checked((size_t)embd, sizeof *m->query);
    m->attended = calloc_checked((size_t)embd, sizeof *m->attended);
    m->hidden = calloc_checked((size_t)4 * embd, sizeof *m->hidden);
    m->logits = calloc_checked((size_t)vocab, sizeof *m->logits);
    m->position_losses = calloc_checked((size_t)block, sizeof *m->position_losses);
    m->attention_scratch = calloc_checked((size_t)block, sizeof *m->attention_scratch);
    m->sample_weights = malloc_checked((size_t)vocab * sizeof *m->sample_weights);
    return m;
}

#ifdef VARIANT_HAS_STEP_BYTES
/* At most what model_create allocates (the parameters' handles, the caches
 * and scratch; per parameter Adam's m and v and the gathered values and
 * gradients, counted as seven doubles: room to spare), plus the variant's
 * own. */
static double model_step_bytes(const model_shape *shape)
{
    const double parameters = (double)model_shape_parameter_count(shape);
    const double embd = shape->n_embd, block = shape->block_size, vocab = shape->vocab_size;
    const double values = parameters + 2 * shape->n_layer * block * embd + 10 * embd + vocab + 2 * block;
    return values * sizeof(value_t) + parameters * 7 * sizeof(double) + variant_step_bytes(shape);
}
#endif

/* The end of a step (variant_contract.h, "who owns what"): the model gives up
 * every handle of the step, the loss last, then the storage frees the step. */
static void model_end_step(model *m)
{
    const size_t embd = (size_t)m->shape.n_embd, block = (size_t)m->shape.block_size;
    const size_t cache = (size_t)m->shape.n_layer * block * embd;
    for (size_t i = 0; i < cache; i++) {
        value_clear(&m->key_cache[i]);
        value_clear(&m->value_cache[i]);
    }
    for (size_t i = 0; i < embd; i++) {
        value_clear(&m->x[i]);
        value_clear(&m->residual[i]);
        value_clear(&m->normed[i]);
        value_clear(&m->query[i]);
        value_clear(&m->attended[i]);
    }
    for (size_t i = 0; i < 4 * embd; i++)
        value_clear(&m->hidden[i]);
    for (size_t i = 0; i < (size_t)m->shape.vocab_size; i++)
        value_clear(&m->logits[i]);
    for (size_t i = 0; i < block; i++) {
        value_clear(&m->position_losses[i]);
        value_clear(&m->attention_scratch[i]);
    }
    value_clear(&m->loss);
    graph_release_step();
}

static void model_destroy(model *m)
{
    if (!m)
        return;
    model_end_step(m); /* a step left open (a forward and no backward) */
    for (size_t i = 0; i < m->parameter_count; i++)
        value_clear(&m->parameters[i]);
    graph_destroy();
    free(m->parameters);
    free(m->layers);
    adam_buffers_free(&m->adam);
    free(m->flat_data);
    free(m->flat_grad);
    free(m->key_cache);
    free(m->value_cache);
    free(m->x);
    free(m->residual);
    free(m->normed);
    free(m->query);
    free(m->attended);
    free(m->hidden);
    free(m->logits);
    free(m->position_losses);
    free(m->attention_scratch);
    free(m->sample_weights);
    free(m);
    model_alive = 0;
}

static size_t model_parameter_count(const model *m) { return m->parameter_count; }

static void model_get_parameters(const model *m, double *out)
{
    for (size_t i = 0; i < m->parameter_count; i++)
        out[i] = *parameter_data(&m->parameters[i]);
}

static void model_set_parameters(model *m, const double *in)
{
    for (size_t i = 0; i < m->parameter_count; i++)
        *parameter_data(&m->parameters[i]) = in[i];
}

/* gpt(token, position): the spec's "Forward for one position", appending this
 * position's keys and values to the caches. */
static void gpt_forward(model *m, int token, int position, value_t *logits)
{
    const int embd = m->shape.n_embd, block = m->shape.block_size, head_dim = m->head_dim;
    value_t *x = m->x;
    for (int i = 0; i < embd; i++)
        value_store(&x[i], value_add(m->wte[(size_t)token * embd + i], m->wpe[(size_t)position * embd + i]));
    layer_rmsnorm(x, x, embd);
    for (int l = 0; l < m->shape.n_layer; l++) {
        const layer_weights *w = &m->layers[l];
        value_t *layer_keys = m->key_cache + (size_t)l * block * embd;
        value_t *layer_values = m->value_cache + (size_t)l * block * embd;
        for (int i = 0; i < embd; i++)
            value_store(&m->residual[i], x[i]);
        layer_rmsnorm(m->normed, x, embd);
        layer_linear(m->query, w->wq, m->normed, embd, embd);
        layer_linear(layer_keys + (size_t)position * embd, w->wk, m->normed, embd, embd);
        layer_linear(layer_values + (size_t)position * embd, w->wv, m->normed, embd, embd);
        for (int h = 0; h < m->shape.n_head; h++) {
            int offset = h * head_dim;
            layer_attention_head(m->attended + offset, m->query + offset, layer_keys + offset, layer_values + offset,
                                 position + 1, embd, head_dim, m->attention_scratch);
        }
        layer_linear(x, w->wo, m->attended, embd, embd);
        for (int i = 0; i < embd; i++)
            value_store(&x[i], value_add(x[i], m->residual[i]));
        for (int i = 0; i < embd; i++)
            value_store(&m->residual[i], x[i]);
        layer_rmsnorm(m->normed, x, embd);
        layer_linear(m->hidden, w->fc1, m->normed, 4 * embd, embd);
        for (int i = 0; i < 4 * embd; i++)
            value_store(&m->hidden[i], value_relu(m->hidden[i]));
        layer_linear(x, w->fc2, m->hidden, embd, 4 * embd);
        for (int i = 0; i < embd; i++)
            value_store(&x[i], value_add(x[i], m->residual[i]));
    }
    layer_linear(logits, m->lm_head, x, m->shape.vocab_size, embd);
}

#ifndef VARIANT_HAS_LOSS
/* loss = (1/n) * sum_p -log(softmax(gpt(tokens[p], p))[tokens[p + 1]]). */
static value_t model_loss(model *m, const int *tokens, int token_count)
{
    int positions = model_shape_positions(&m->shape, token_count);
    assert(positions >= 1);
    for (int p = 0; p < positions; p++) {
        gpt_forward(m, tokens[p], p, m->logits);
        layer_softmax(m->logits, m->logits, m->shape.vocab_size);
        /* -x is x * -1: a mul node with a constant leaf (spec). */
        value_store(&m->position_losses[p], value_mul(value_log(m->logits[tokens[p + 1]]), value_constant(-1.0)));
    }
    /* (1 / n) * S is S.__rmul__: mul(S, constant 1/n), 1/n in double at run time. */
    return value_mul(value_sum(m->position_losses, positions), value_constant(1.0 / (double)positions));
}
#endif

/* Adam (adam.h) over the parameters gathered into flat arrays, or in place
 * where the variant keeps them so; gradients are then zeroed, as the
 * reference's p.grad = 0 (by adam_step itself for flat arrays). */
static void adam_update(model *m, int step, int num_steps)
{
#ifdef VARIANT_HAS_PARAMETER_ARRAYS
    adam_step(&m->adam, parameter_values(), parameter_gradients(), step, num_steps);
#else
    for (size_t i = 0; i < m->parameter_count; i++) {
        double *grad = parameter_grad(&m->parameters[i]);
        m->flat_grad[i] = *grad;
        *grad = 0.0;
        m->flat_data[i] = *parameter_data(&m->parameters[i]);
    }
    adam_step(&m->adam, m->flat_data, m->flat_grad, step, num_steps);
    for (size_t i = 0; i < m->parameter_count; i++)
        *parameter_data(&m->parameters[i]) = m->flat_data[i];
#endif
}

static double model_forward(model *m, const int *tokens, int token_count)
{
#ifdef VARIANT_HAS_LOSS
    value_store(&m->loss, variant_loss(&m->shape, tokens, model_shape_positions(&m->shape, token_count)));
#else
    value_store(&m->loss, model_loss(m, tokens, token_count));
#endif
    return value_data(m->loss);
}

static graph_size model_backward(model *m)
{
    graph_size size = graph_backward(m->loss);
    model_end_step(m);
    return size;
}

static void model_release(model *m) { model_end_step(m); }

static step_result model_train_step(model *m, const int *tokens, int token_count, int step, int num_steps)
{
    step_result result;
    double start = monotonic_seconds();
    result.loss = model_forward(m, tokens, token_count);
    double forward_done = monotonic_seconds();
    result.graph = model_backward(m);
    result.sort_depth = result.graph.sort_depth;
    double backward_done = monotonic_seconds();
    const size_t slow_before = m->adam.slow_squares + m->adam.slow_roots;
    adam_update(m, step, num_steps);
    double update_done = monotonic_seconds();
    result.adam_slow_path = m->adam.slow_squares + m->adam.slow_roots - slow_before;
    result.forward_seconds = forward_done - start;
    result.backward_seconds = backward_done - forward_done;
    result.update_seconds = update_done - backward_done;
    return result;
}

static double model_loss_and_gradients(model *m, const int *tokens, int token_count, double *gradients,
                                       graph_size *size)
{
    double loss_value = model_forward(m, tokens, token_count);
    graph_size measured = model_backward(m);
    for (size_t i = 0; i < m->parameter_count; i++) {
        double *grad = parameter_grad(&m->parameters[i]);
        if (gradients)
            gradients[i] = *grad;
        *grad = 0.0;
    }
    if (size)
        *size = measured;
    return loss_value;
}

/* The spec's "Sampling": logits * pow(temperature, -1), softmax, choices. */
static int model_sample(model *m, python_random *rng, double temperature, int bos, int *tokens_out)
{
    const int vocab = m->shape.vocab_size;
    const double inverse_temperature = pow(temperature, -1.0);
    int token = bos, count = 0;
    for (int position = 0; position < m->shape.block_size; position++) {
        gpt_forward(m, token, position, m->logits);
        for (int i = 0; i < vocab; i++)
            value_store(&m->logits[i], value_mul(m->logits[i], value_constant(inverse_temperature)));
        layer_softmax(m->logits, m->logits, vocab);
        for (int i = 0; i < vocab; i++)
            m->sample_weights[i] = value_data(m->logits[i]);
        token = python_random_choices(rng, m->sample_weights, vocab);
        if (token == bos)
            break;
        tokens_out[count++] = token;
    }
    model_end_step(m);
    return count;
}

#ifndef VARIANT_HAS_LOSS
/* Probes, for the op tests: small fixed shapes. A variant that replaces the
 * step's forward has no op graph to probe (the table says so with NULL). */
enum { PROBE_ROWS = 3, PROBE_WIDTH = 4, PROBE_POSITIONS = 3, PROBE_VECTOR = 5, PROBE_MAX_VALUES = 32 };

static void model_probe_shape(probe_op op, int *input_count, int *output_count)
{
    switch (op) {
    case PROBE_ADD:
    case PROBE_MUL: *input_count = 2, *output_count = 1; break;
    case PROBE_LINEAR: *input_count = PROBE_ROWS * PROBE_WIDTH + PROBE_WIDTH, *output_count = PROBE_ROWS; break;
    case PROBE_RMSNORM:
    case PROBE_SOFTMAX: *input_count = PROBE_VECTOR, *output_count = PROBE_VECTOR; break;
    case PROBE_ATTENTION_HEAD:
        *input_count = PROBE_WIDTH + 2 * PROBE_POSITIONS * PROBE_WIDTH, *output_count = PROBE_WIDTH;
        break;
    default: *input_count = 1, *output_count = 1; break;
    }
}

static double model_probe(probe_op op, const double *inputs, double *gradients)
{
    assert(!model_alive && "probes build their own graph");
    int input_count, output_count;
    model_probe_shape(op, &input_count, &output_count);
    /* The probe's slots, as the model's (variant_contract.h, "who owns what"). */
    value_t in[PROBE_MAX_VALUES] = {0}, out[PROBE_MAX_VALUES] = {0}, scratch[PROBE_POSITIONS] = {0}, total = {0};
    for (int i = 0; i < input_count; i++)
        value_store(&in[i], value_parameter(inputs[i]));
    graph_bind_parameters(in, (size_t)input_count);
    switch (op) {
    case PROBE_ADD: value_store(&out[0], value_add(in[0], in[1])); break;
    case PROBE_MUL: value_store(&out[0], value_mul(in[0], in[1])); break;
    case PROBE_POW_NEGATIVE_ONE: value_store(&out[0], value_pow(in[0], -1.0)); break;
    case PROBE_POW_NEGATIVE_HALF: value_store(&out[0], value_pow(in[0], -0.5)); break;
    case PROBE_LOG: value_store(&out[0], value_log(in[0])); break;
    case PROBE_EXP: value_store(&out[0], value_exp(in[0])); break;
    case PROBE_RELU: value_store(&out[0], value_relu(in[0])); break;
    case PROBE_LINEAR: layer_linear(out, in, in + PROBE_ROWS * PROBE_WIDTH, PROBE_ROWS, PROBE_WIDTH); break;
    case PROBE_RMSNORM: layer_rmsnorm(out, in, PROBE_VECTOR); break;
    case PROBE_SOFTMAX: layer_softmax(out, in, PROBE_VECTOR); break;
    case PROBE_ATTENTION_HEAD:
        layer_attention_head(out, in, in + PROBE_WIDTH, in + PROBE_WIDTH + PROBE_POSITIONS * PROBE_WIDTH,
                             PROBE_POSITIONS, PROBE_WIDTH, PROBE_WIDTH, scratch);
        break;
    default: assert(!"unknown probe op");
    }
    /* Unequal weights, so that e.g. softmax's outputs (which sum to 1) still
     * carry gradient. */
    for (int k = 0; k < output_count; k++)
        value_store(&out[k], value_mul(out[k], value_constant(1.0 - 0.3 * k)));
    value_store(&total, value_sum(out, output_count));
    graph_backward(total);
    double result = value_data(total);
    for (int i = 0; i < input_count; i++)
        gradients[i] = *parameter_grad(&in[i]);
    for (int k = 0; k < PROBE_MAX_VALUES; k++)
        value_clear(&out[k]);
    for (int t = 0; t < PROBE_POSITIONS; t++)
        value_clear(&scratch[t]);
    value_clear(&total);
    graph_release_step();
    for (int i = 0; i < input_count; i++)
        value_clear(&in[i]);
    graph_destroy();
    return result;
}
#define VARIANT_PROBE_SHAPE model_probe_shape
#define VARIANT_PROBE model_probe
#else
#define VARIANT_PROBE_SHAPE NULL
#define VARIANT_PROBE NULL
#endif

const microgpt_variant MICROGPT_VARIANT_SYMBOL = {
    .name = MICROGPT_VARIANT_NAME,
    .description = VARIANT_DESCRIPTION,
    .tolerance = VARIANT_TOLERANCE,
    .expected_wrong = VARIANT_EXPECTED_WRONG,
    .sort = VARIANT_SORT,
    .graph = VARIANT_GRAPH,
    .step_bytes = VARIANT_STEP_BYTES,
    .create = model_create,
    .destroy = model_destroy,
    .parameter_count = model_parameter_count,
    .get_parameters = model_get_parameters,
    .set_parameters = model_set_parameters,
    .train_step = model_train_step,
    .forward = model_forward,
    .backward = model_backward,
    .release = model_release,
    .update = adam_update,
    .loss_and_gradients = model_loss_and_gradients,
    .sample = model_sample,
    .probe_shape = VARIANT_PROBE_SHAPE,
    .probe = VARIANT_PROBE,
};
