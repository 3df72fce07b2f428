// model.rs: microgpt, the tiny GPT of docs/spec.md, on the scalar autograd
// engine of value.rs: parameters, forward, loss, one training step (forward,
// backward, Adam) and sampling. Two strategies, as in the Python reference
// (microgpt_reference.py): `naive` makes every scalar op a node and sorts
// recursively; `both` fuses each linear output into one node and sorts
// iteratively. Both give the reference's losses bit for bit.

use std::time::Instant;

use crate::python_random::PythonRandom;
use crate::value::{self, add, data, leaf, log, mul, pow, power, sum};
use crate::value::{Children, GraphSize, SortBuffers, TopologicalOrder, ValueRef};

#[derive(Clone, Copy)]
pub enum Strategy {
    Naive,
    Both,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Naive => "naive",
            Strategy::Both => "both",
        }
    }
}

#[derive(Clone, Copy)]
pub struct ModelSize {
    pub n_embd: usize,
    pub n_head: usize,
    pub n_layer: usize,
    pub block_size: usize,
    pub vocab_size: usize,
}

impl ModelSize {
    /// The spec's parameter table: wte, wpe, lm_head, then per layer the
    /// four attention matrices and the two of the MLP.
    pub fn parameter_count(&self) -> usize {
        let (embd, vocab) = (self.n_embd, self.vocab_size);
        (2 * vocab + self.block_size) * embd + self.n_layer * 12 * embd * embd
    }

    /// The most graph nodes a step can have, constants and parameters
    /// included: the naive graph of a step of block_size positions (the C
    /// programs' bound, engine/model_shape.c).
    pub fn graph_nodes_bound(&self) -> f64 {
        let (embd, heads, vocab) = (self.n_embd as f64, self.n_head as f64, self.vocab_size as f64);
        let (head_dim, positions, layers) = (embd / heads, self.block_size as f64, self.n_layer as f64);
        let rmsnorm = |n: f64| 3.0 * n + 6.0;
        let linear = |n_out: f64, n_in: f64| n_out * (2.0 * n_in + 1.0);
        let softmax = |n: f64| 6.0 * n + 1.0;
        let fixed = embd + rmsnorm(embd) + linear(vocab, embd) + softmax(vocab) + 3.0;
        let per_layer = 2.0 * rmsnorm(embd)
            + 4.0 * linear(embd, embd)
            + linear(4.0 * embd, embd)
            + linear(embd, 4.0 * embd)
            + 6.0 * embd;
        // Attention at position p covers p + 1 positions.
        let attention: f64 = (1..=self.block_size)
            .map(|covered| {
                let covered = covered as f64;
                heads * (covered * (2.0 * head_dim + 3.0) + softmax(covered) + head_dim * (2.0 * covered + 1.0))
            })
            .sum();
        positions * (fixed + layers * per_layer) + layers * attention + positions + 3.0 + self.parameter_count() as f64
    }

    /// Nodes on the longest path of a step's graph, with slack: how deep
    /// the recursive sort, and the drop of a sampling graph, can go
    /// (engine/model_shape.c).
    pub fn graph_depth_bound(&self) -> f64 {
        let (embd, block) = (self.n_embd as f64, self.block_size as f64);
        let per_layer = 10.0 * embd + 2.0 * block + 32.0;
        self.n_layer as f64 * per_layer + 2.0 * embd + self.vocab_size as f64 + block + 64.0
    }
}

type Matrix = Vec<Vec<ValueRef>>;

struct Layer {
    attn_wq: Matrix,
    attn_wk: Matrix,
    attn_wv: Matrix,
    attn_wo: Matrix,
    mlp_fc1: Matrix,
    mlp_fc2: Matrix,
}

/// One layer's keys and values of the positions seen so far in a document.
#[derive(Default)]
struct KeyValueCache {
    keys: Vec<Vec<ValueRef>>,
    values: Vec<Vec<ValueRef>>,
}

pub struct Model {
    size: ModelSize,
    strategy: Strategy,
    wte: Matrix,
    wpe: Matrix,
    lm_head: Matrix,
    layers: Vec<Layer>,
    /// Every parameter in creation order (the order Adam walks).
    parameters: Vec<ValueRef>,
    adam_m: Vec<f64>,
    adam_v: Vec<f64>,
    sort_buffers: SortBuffers,
}

pub struct StepResult {
    pub loss: f64,
    pub graph: GraphSize,
    pub forward_seconds: f64,
    pub backward_seconds: f64,
    pub update_seconds: f64,
}

impl Model {
    /// Every parameter is gauss(0, 0.08), in the spec's creation order, row by row.
    pub fn new(size: ModelSize, strategy: Strategy, rng: &mut PythonRandom) -> Model {
        let mut parameters = Vec::with_capacity(size.parameter_count());
        let mut matrix = |rows: usize, columns: usize| -> Matrix {
            (0..rows)
                .map(|_| {
                    (0..columns)
                        .map(|_| {
                            let parameter = leaf(rng.gauss(0.0, 0.08));
                            parameters.push(parameter.clone());
                            parameter
                        })
                        .collect()
                })
                .collect()
        };
        let embd = size.n_embd;
        let wte = matrix(size.vocab_size, embd);
        let wpe = matrix(size.block_size, embd);
        let lm_head = matrix(size.vocab_size, embd);
        let layers = (0..size.n_layer)
            .map(|_| Layer {
                attn_wq: matrix(embd, embd),
                attn_wk: matrix(embd, embd),
                attn_wv: matrix(embd, embd),
                attn_wo: matrix(embd, embd),
                mlp_fc1: matrix(4 * embd, embd),
                mlp_fc2: matrix(embd, 4 * embd),
            })
            .collect();
        let count = parameters.len();
        Model {
            size,
            strategy,
            wte,
            wpe,
            lm_head,
            layers,
            parameters,
            adam_m: vec![0.0; count],
            adam_v: vec![0.0; count],
            sort_buffers: SortBuffers::default(),
        }
    }

    fn linear(&self, x: &[ValueRef], w: &Matrix) -> Vec<ValueRef> {
        match self.strategy {
            Strategy::Naive => linear_scalar(x, w),
            Strategy::Both => linear_fused(x, w),
        }
    }

    fn topological_order(&self) -> TopologicalOrder {
        match self.strategy {
            Strategy::Naive => value::topological_order_recursive,
            Strategy::Both => value::topological_order_iterative,
        }
    }

    fn fresh_caches(&self) -> Vec<KeyValueCache> {
        (0..self.size.n_layer).map(|_| KeyValueCache::default()).collect()
    }

    /// The spec's "Forward for one position": the logits of `token` at
    /// `position`, appending this position's keys and values to the caches.
    fn gpt(&self, token: usize, position: usize, caches: &mut [KeyValueCache]) -> Vec<ValueRef> {
        let embedded: Vec<ValueRef> = self.wte[token].iter().zip(&self.wpe[position]).map(|(t, p)| add(t, p)).collect();
        let mut x = rmsnorm(&embedded);
        for (layer, cache) in self.layers.iter().zip(caches.iter_mut()) {
            let attention_input = x;
            let normed = rmsnorm(&attention_input);
            let query = self.linear(&normed, &layer.attn_wq);
            cache.keys.push(self.linear(&normed, &layer.attn_wk));
            cache.values.push(self.linear(&normed, &layer.attn_wv));
            let attended = self.attention(&query, cache);
            let projected = self.linear(&attended, &layer.attn_wo);
            let mlp_input: Vec<ValueRef> = projected.iter().zip(&attention_input).map(|(a, b)| add(a, b)).collect();
            let normed = rmsnorm(&mlp_input);
            let hidden: Vec<ValueRef> = self.linear(&normed, &layer.mlp_fc1).iter().map(value::relu).collect();
            let output = self.linear(&hidden, &layer.mlp_fc2);
            x = output.iter().zip(&mlp_input).map(|(a, b)| add(a, b)).collect();
        }
        self.linear(&x, &self.lm_head)
    }

    /// Every head attends over the cached positions; the heads' outputs
    /// side by side.
    fn attention(&self, query: &[ValueRef], cache: &KeyValueCache) -> Vec<ValueRef> {
        let head_dim = self.size.n_embd / self.size.n_head;
        // `/ head_dim ** 0.5` is `* (head_dim ** 0.5) ** -1`: a constant leaf (spec).
        let inverse_scale = pow(pow(head_dim as f64, 0.5), -1.0);
        let mut attended = Vec::with_capacity(self.size.n_embd);
        for h in 0..self.size.n_head {
            let head = h * head_dim..(h + 1) * head_dim;
            let attention_logits: Vec<ValueRef> = cache
                .keys
                .iter()
                .map(|key| {
                    let dot = sum(head.clone().map(|j| mul(&query[j], &key[j])));
                    mul(&dot, &leaf(inverse_scale))
                })
                .collect();
            let weights = softmax(&attention_logits);
            for j in head {
                attended.push(sum(weights.iter().zip(&cache.values).map(|(weight, v)| mul(weight, &v[j]))));
            }
        }
        attended
    }

    /// loss = (1/n) * sum over the n positions of -log(softmax(logits)[next token]).
    fn loss(&self, tokens: &[usize]) -> ValueRef {
        let positions = self.size.block_size.min(tokens.len() - 1);
        let mut caches = self.fresh_caches();
        let position_losses: Vec<ValueRef> = (0..positions)
            .map(|p| {
                let probabilities = softmax(&self.gpt(tokens[p], p, &mut caches));
                // -log p is log(p) * -1: a mul node with a constant leaf (spec).
                mul(&log(&probabilities[tokens[p + 1]]), &leaf(-1.0))
            })
            .collect();
        // (1/n) * S is S.__rmul__(1/n): S times a constant leaf, 1/n in double at run time (spec).
        mul(&sum(position_losses), &leaf(1.0 / positions as f64))
    }

    /// Adam over every parameter, in the reference's order of operations;
    /// every `**` is libm's pow (spec), then the gradient is zeroed.
    fn adam_update(&mut self, step: usize, num_steps: usize) {
        let (learning_rate, beta1, beta2, eps) = (0.01, 0.85, 0.99, 1e-8);
        let lr_t = learning_rate * (1.0 - step as f64 / num_steps as f64);
        let bias1 = 1.0 - pow(beta1, (step + 1) as f64);
        let bias2 = 1.0 - pow(beta2, (step + 1) as f64);
        let moments = self.adam_m.iter_mut().zip(self.adam_v.iter_mut());
        for (parameter, (m, v)) in self.parameters.iter().zip(moments) {
            let mut p = parameter.borrow_mut();
            // 1 - beta1 and 1 - beta2 are differences of doubles, not 0.15 and 0.01 (spec).
            *m = beta1 * *m + (1.0 - beta1) * p.grad;
            *v = beta2 * *v + (1.0 - beta2) * pow(p.grad, 2.0);
            let m_hat = *m / bias1;
            let v_hat = *v / bias2;
            p.data -= lr_t * m_hat / (pow(v_hat, 0.5) + eps);
            p.grad = 0.0;
        }
    }

    /// One name at temperature 0.5: the logits times pow(0.5, -1) (spec),
    /// softmax, and random.choices over the probabilities; BOS ends it.
    pub fn sample(&self, rng: &mut PythonRandom, bos: usize) -> Vec<usize> {
        let inverse_temperature = pow(0.5, -1.0);
        let mut caches = self.fresh_caches();
        let mut token = bos;
        let mut name = Vec::new();
        for position in 0..self.size.block_size {
            let logits = self.gpt(token, position, &mut caches);
            let scaled: Vec<ValueRef> = logits.iter().map(|l| mul(l, &leaf(inverse_temperature))).collect();
            let weights: Vec<f64> = softmax(&scaled).iter().map(data).collect();
            token = rng.choices(&weights);
            if token == bos {
                break;
            }
            name.push(token);
        }
        name
    }
}

/// One training step on a document's tokens: forward (the graph and the
/// loss), backward (sort, propagate, free the graph), Adam. Not inlined and
/// not mangled, so `valgrind --tool=callgrind --toggle-collect=model_train_step`
/// counts exactly one step's instructions, as for the C programs.
#[no_mangle]
#[inline(never)]
pub fn model_train_step(model: &mut Model, tokens: &[usize], step: usize, num_steps: usize) -> StepResult {
    let start = Instant::now();
    let loss = model.loss(tokens);
    let loss_value = data(&loss);
    let forward_done = Instant::now();
    let graph = value::backward(loss, model.topological_order(), &mut model.sort_buffers);
    let backward_done = Instant::now();
    model.adam_update(step, num_steps);
    let update_done = Instant::now();
    StepResult {
        loss: loss_value,
        graph,
        forward_seconds: (forward_done - start).as_secs_f64(),
        backward_seconds: (backward_done - forward_done).as_secs_f64(),
        update_seconds: (update_done - backward_done).as_secs_f64(),
    }
}

/// out[o] = sum(W[o][i] * x[i] for i): every product and partial sum a node.
fn linear_scalar(x: &[ValueRef], w: &Matrix) -> Vec<ValueRef> {
    w.iter().map(|row| sum(row.iter().zip(x).map(|(wi, xi)| mul(wi, xi)))).collect()
}

/// Each output one node with 2 * n_in children W[o][0], x[0], W[o][1], x[1], ...
/// interleaved so the post-order matches the scalar graph's; its value
/// folds (0 + w0 * x0) + w1 * x1 + ... as the scalar sum does.
fn linear_fused(x: &[ValueRef], w: &Matrix) -> Vec<ValueRef> {
    w.iter()
        .map(|row| {
            let mut total = 0.0;
            let mut children = Vec::with_capacity(2 * x.len());
            for (wi, xi) in row.iter().zip(x) {
                let (w_data, x_data) = (data(wi), data(xi));
                total += w_data * x_data;
                children.push((wi.clone(), x_data));
                children.push((xi.clone(), w_data));
            }
            value::node(total, Children::Many(children))
        })
        .collect()
}

/// ms = sum(x_i * x_i) / n, then every x_i times (ms + 1e-5) ** -0.5.
fn rmsnorm(x: &[ValueRef]) -> Vec<ValueRef> {
    let sum_of_squares = sum(x.iter().map(|xi| mul(xi, xi)));
    // `/ n` is `* n ** -1`: a constant leaf pow(n, -1), 0.0625 for n = 16 (spec).
    let mean_square = mul(&sum_of_squares, &leaf(pow(x.len() as f64, -1.0)));
    let scale = power(&add(&mean_square, &leaf(1e-5)), -0.5);
    x.iter().map(|xi| mul(xi, &scale)).collect()
}

/// exp(z_i - max) / sum: the max is a plain number (first of equals, as
/// Python's max), `- max` an add of a constant leaf -max, and `/ sum` a
/// separate pow(sum, -1) node per element (spec).
fn softmax(logits: &[ValueRef]) -> Vec<ValueRef> {
    let max_value = logits.iter().map(data).fold(data(&logits[0]), |max, z| if z > max { z } else { max });
    let exps: Vec<ValueRef> = logits.iter().map(|z| value::exp(&add(z, &leaf(-max_value)))).collect();
    let total = sum(exps.iter().cloned());
    exps.iter().map(|e| mul(e, &power(&total, -1.0))).collect()
}
