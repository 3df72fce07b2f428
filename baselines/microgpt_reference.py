#!/usr/bin/env python3
"""Pure-Python reference of microgpt (standard library only).

The computation of docs/spec.md, written from that page as a
scalar autograd engine in the style of Karpathy's microgpt.py. Two strategies:

  naive: every scalar op a node, recursive depth-first topological order
         (the reference program's graph and order);
  both:  each linear output one node with 2*n_in children (weights and inputs,
         interleaved so the post-order matches the scalar graph), topological
         order by an iterative DFS that yields exactly the recursive order.

Both strategies give bit-identical losses. It is the project's Python baseline
(timed by the harness) and an independent oracle for the C tests.
"""
import argparse
import json
import math
import os
import random
import sys
import time

DEFAULT_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "names.txt")


class Value:
    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, other):
        return Value(self.data**other, (self,), (other * self.data ** (other - 1),))

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def exp(self):
        return Value(math.exp(self.data), (self,), (math.exp(self.data),))

    def relu(self):
        return Value(max(0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1


def topological_order_recursive(root):
    order, visited = [], set()

    def visit(v):
        if v not in visited:
            visited.add(v)
            for child in v._children:
                visit(child)
            order.append(v)

    visit(root)
    return order


def topological_order_iterative(root):
    """Explicit-stack DFS that appends a node after all its children, visiting
    children in order: the same list as the recursive version."""
    order, visited = [], {id(root)}
    stack = [(root, 0)]
    while stack:
        node, next_child = stack[-1]
        if next_child < len(node._children):
            stack[-1] = (node, next_child + 1)
            child = node._children[next_child]
            if id(child) not in visited:
                visited.add(id(child))
                stack.append((child, 0))
        else:
            stack.pop()
            order.append(node)
    return order


def backward(loss, order_function):
    order = order_function(loss)
    loss.grad = 1
    for v in reversed(order):
        for child, local_grad in zip(v._children, v._local_grads):
            child.grad += local_grad * v.grad
    return len(order), sum(len(v._children) for v in order)


def linear_scalar(x, w):
    return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]


def linear_fused(x, w):
    outputs = []
    for wo in w:
        total = 0
        children, local_grads = [], []
        for wi, xi in zip(wo, x):
            total = total + wi.data * xi.data
            children += (wi, xi)
            local_grads += (xi.data, wi.data)
        outputs.append(Value(total, tuple(children), tuple(local_grads)))
    return outputs


def softmax(logits):
    max_val = max(val.data for val in logits)
    exps = [(val - max_val).exp() for val in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x):
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]


class Model:
    def __init__(self, vocab_size, n_embd=16, n_head=4, n_layer=1, block_size=16, linear=linear_scalar):
        self.n_embd, self.n_head, self.n_layer, self.block_size = n_embd, n_head, n_layer, block_size
        self.head_dim = n_embd // n_head
        self.linear = linear

        def matrix(nout, nin, std=0.08):
            return [[Value(random.gauss(0, std)) for _ in range(nin)] for _ in range(nout)]

        self.state = {
            "wte": matrix(vocab_size, n_embd),
            "wpe": matrix(block_size, n_embd),
            "lm_head": matrix(vocab_size, n_embd),
        }
        for i in range(n_layer):
            self.state[f"layer{i}.attn_wq"] = matrix(n_embd, n_embd)
            self.state[f"layer{i}.attn_wk"] = matrix(n_embd, n_embd)
            self.state[f"layer{i}.attn_wv"] = matrix(n_embd, n_embd)
            self.state[f"layer{i}.attn_wo"] = matrix(n_embd, n_embd)
            self.state[f"layer{i}.mlp_fc1"] = matrix(4 * n_embd, n_embd)
            self.state[f"layer{i}.mlp_fc2"] = matrix(n_embd, 4 * n_embd)
        self.params = [p for mat in self.state.values() for row in mat for p in row]

    def forward(self, token_id, pos_id, keys, values):
        s, linear, head_dim = self.state, self.linear, self.head_dim
        x = [t + p for t, p in zip(s["wte"][token_id], s["wpe"][pos_id])]
        x = rmsnorm(x)
        for li in range(self.n_layer):
            x_residual = x
            x = rmsnorm(x)
            q = linear(x, s[f"layer{li}.attn_wq"])
            k = linear(x, s[f"layer{li}.attn_wk"])
            v = linear(x, s[f"layer{li}.attn_wv"])
            keys[li].append(k)
            values[li].append(v)
            x_attn = []
            for h in range(self.n_head):
                hs = h * head_dim
                q_h = q[hs : hs + head_dim]
                k_h = [ki[hs : hs + head_dim] for ki in keys[li]]
                v_h = [vi[hs : hs + head_dim] for vi in values[li]]
                attn_logits = [
                    sum(q_h[j] * k_h[t][j] for j in range(head_dim)) / head_dim**0.5 for t in range(len(k_h))
                ]
                attn_weights = softmax(attn_logits)
                x_attn.extend(sum(attn_weights[t] * v_h[t][j] for t in range(len(v_h))) for j in range(head_dim))
            x = linear(x_attn, s[f"layer{li}.attn_wo"])
            x = [a + b for a, b in zip(x, x_residual)]
            x_residual = x
            x = rmsnorm(x)
            x = linear(x, s[f"layer{li}.mlp_fc1"])
            x = [xi.relu() for xi in x]
            x = linear(x, s[f"layer{li}.mlp_fc2"])
            x = [a + b for a, b in zip(x, x_residual)]
        return linear(x, s["lm_head"])


def load_docs(path):
    with open(path, encoding="ascii") as f:
        return [line.strip() for line in f.read().strip().split("\n") if line.strip()]


def write_report(path, strategy, train_seconds, losses, nodes, edges):
    """The numbers the summary prints, machine-readable; floats keep every bit."""
    steps = len(losses)
    report = {
        "strategy": strategy,
        "steps": steps,
        "train_seconds": train_seconds,
        "final_loss": losses[-1],
        "mean_loss": sum(losses) / steps,
        "losses": losses,
        "nodes": {"mean": sum(nodes) / steps, "min": min(nodes), "max": max(nodes)},
        "edges": {"mean": sum(edges) / steps, "min": min(edges), "max": max(edges)},
        "python": f"{sys.implementation.name} {sys.version.split()[0]}",
        "python_executable": sys.executable,
    }
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    os.replace(temporary, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.environ.get("MICROGPT_DATA", DEFAULT_DATA))
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--strategy", choices=("naive", "both"), default="naive")
    parser.add_argument("--losses", help="write each step's loss as %%.17g, one per line")
    parser.add_argument("--quiet", action="store_true", help="omit the per-step lines")
    parser.add_argument("--report", help="write the run's timing, losses and graph sizes as JSON (for the harness)")
    args = parser.parse_args()
    if args.steps < 1 or args.samples < 0:
        parser.error("--steps must be >= 1 and --samples >= 0")
    # The reference's graphs can be deeper than CPython's default recursion limit at larger sizes.
    sys.setrecursionlimit(100000)

    random.seed(42)
    try:
        docs = load_docs(args.data)
    except (OSError, UnicodeDecodeError) as error:
        print(f"microgpt_reference: cannot read dataset {args.data}: {error}", file=sys.stderr)
        return 2
    if not docs:
        print(f"microgpt_reference: dataset {args.data} has no usable line", file=sys.stderr)
        return 2
    random.shuffle(docs)
    print(f"num docs: {len(docs)}")
    uchars = sorted(set("".join(docs)))
    BOS = len(uchars)
    vocab_size = len(uchars) + 1
    print(f"vocab size: {vocab_size}")

    fused = args.strategy == "both"
    model = Model(vocab_size, linear=linear_fused if fused else linear_scalar)
    order_function = topological_order_iterative if fused else topological_order_recursive
    params = model.params
    print(f"num params: {len(params)}")

    learning_rate, beta1, beta2, eps_adam = 0.01, 0.85, 0.99, 1e-8
    m = [0.0] * len(params)
    v = [0.0] * len(params)
    num_steps = args.steps
    losses_seen, nodes_seen, edges_seen = [], [], []
    start = time.perf_counter()
    for step in range(num_steps):
        doc = docs[step % len(docs)]
        tokens = [BOS] + [uchars.index(ch) for ch in doc] + [BOS]
        n = min(model.block_size, len(tokens) - 1)
        keys, values = [[] for _ in range(model.n_layer)], [[] for _ in range(model.n_layer)]
        losses = []
        for pos_id in range(n):
            token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
            logits = model.forward(token_id, pos_id, keys, values)
            probs = softmax(logits)
            losses.append(-probs[target_id].log())
        loss = (1 / n) * sum(losses)
        nodes, edges = backward(loss, order_function)
        lr_t = learning_rate * (1 - step / num_steps)
        for i, p in enumerate(params):
            m[i] = beta1 * m[i] + (1 - beta1) * p.grad
            v[i] = beta2 * v[i] + (1 - beta2) * p.grad**2
            m_hat = m[i] / (1 - beta1 ** (step + 1))
            v_hat = v[i] / (1 - beta2 ** (step + 1))
            p.data -= lr_t * m_hat / (v_hat**0.5 + eps_adam)
            p.grad = 0
        losses_seen.append(loss.data)
        nodes_seen.append(nodes)
        edges_seen.append(edges)
        if not args.quiet:
            print(f"step {step+1:4d} / {num_steps:4d} | loss {loss.data:.4f}")
    train_seconds = time.perf_counter() - start

    temperature = 0.5
    print("\n--- inference (new, hallucinated names) ---")
    for sample_idx in range(args.samples):
        keys, values = [[] for _ in range(model.n_layer)], [[] for _ in range(model.n_layer)]
        token_id = BOS
        sample = []
        for pos_id in range(model.block_size):
            logits = model.forward(token_id, pos_id, keys, values)
            probs = softmax([l / temperature for l in logits])
            token_id = random.choices(range(vocab_size), weights=[p.data for p in probs])[0]
            if token_id == BOS:
                break
            sample.append(uchars[token_id])
        print(f"sample {sample_idx+1:2d}: {''.join(sample)}")

    if args.losses:
        temporary = args.losses + ".tmp"
        with open(temporary, "w") as f:
            f.writelines("%.17g\n" % loss for loss in losses_seen)
        os.replace(temporary, args.losses)
    if args.report:
        write_report(args.report, args.strategy, train_seconds, losses_seen, nodes_seen, edges_seen)
    print(f"\n--- summary (python {args.strategy}) ---")
    print(f"training time: {train_seconds:.3f} s, {1000 * train_seconds / num_steps:.3f} ms/step")
    print(f"mean loss: {sum(losses_seen) / num_steps:.4f}")
    print(
        f"graph nodes per step: mean {sum(nodes_seen) / num_steps:.2f} min {min(nodes_seen)} max {max(nodes_seen)}"
    )
    print(
        f"graph edges per step: mean {sum(edges_seen) / num_steps:.2f} min {min(edges_seen)} max {max(edges_seen)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
