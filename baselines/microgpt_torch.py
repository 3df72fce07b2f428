#!/usr/bin/env python3
"""microgpt in PyTorch, written the way a PyTorch user would write it.

The same model and training run as scripts/microgpt_reference.py, in float64
tensors with torch autograd, in one of two modes:

  position: the reference's loop structure: one position at a time, the keys
            and values of each layer in growing lists (stacked per position);
  sequence: all positions of a name at once, a causal mask on the attention;
  traced:   sequence's forward captured once per number of positions by
            torch.jit.trace (TorchScript), then re-run with each step's tokens,
            as replay captures one graph per length.

Both start from the reference's initial parameters (the reference module's
own seed, shuffle and Model, so the same gauss draws), see the same documents
in the same order, and apply the reference's Adam formula and learning-rate
schedule, written out here on tensors (torch.optim.Adam divides by
sqrt(v) / sqrt(1 - beta2^t) + eps instead of sqrt(v / (1 - beta2^t)) + eps,
which rounds differently). They are not bit-exact with the reference: torch's
kernels sum in their own order. The report says how far the losses are from
the reference's (--reference-losses or --reference-program).

Graph size: the autograd nodes reachable from each step's loss (a walk over
grad_fn.next_functions, AccumulateGrad nodes of the parameters included),
counted outside the timed region. Time: the training loop only.
Run with a python3 that has torch (Debian's python3-torch: /usr/bin/python3).
Exit status: 0; 2 on bad input; 3 when torch cannot be imported (the
benchmark shows its rows as "not measured").
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

import microgpt_reference

MODES = ("position", "sequence", "traced")
# Exit status when torch cannot be imported: the bench shows the row as "not measured".
NOT_MEASURED_EXIT = 3
LEARNING_RATE, BETA1, BETA2, EPS_ADAM = 0.01, 0.85, 0.99, 1e-8


def torch_unavailable_reason():
    """None if torch imports, else why not (one line)."""
    try:
        import torch  # noqa: F401
    except Exception as error:  # ImportError, or a broken installation
        return f"torch cannot be imported by {sys.executable}: {type(error).__name__}: {error}"
    return None


def initial_state(data_path, n_embd, n_head, n_layer, block_size):
    """(docs in training order, uchars, BOS, vocab_size, {name: rows}) exactly
    as the reference makes them: seed 42, shuffle, then the Model's gauss draws
    in creation order. The rows are plain floats."""
    random.seed(42)
    docs = microgpt_reference.load_docs(data_path)
    if not docs:
        raise ValueError(f"{data_path} has no usable line")
    random.shuffle(docs)
    uchars = sorted(set("".join(docs)))
    vocab_size = len(uchars) + 1
    model = microgpt_reference.Model(vocab_size, n_embd=n_embd, n_head=n_head, n_layer=n_layer,
                                     block_size=block_size)
    state = {name: [[p.data for p in row] for row in matrix] for name, matrix in model.state.items()}
    return docs, uchars, len(uchars), vocab_size, state


class TorchModel:
    """The parameters as float64 leaf tensors, in the reference's order, and
    the two forward passes."""

    def __init__(self, torch, state, n_embd, n_head, n_layer, block_size):
        self.torch, self.functional = torch, torch.nn.functional
        self.n_embd, self.n_head, self.n_layer, self.block_size = n_embd, n_head, n_layer, block_size
        self.head_dim = n_embd // n_head
        self.weights = {name: torch.tensor(rows, dtype=torch.float64, requires_grad=True)
                        for name, rows in state.items()}
        self.parameters = list(self.weights.values())
        self.traces = {}  # traced mode: one TorchScript function per number of positions

    @staticmethod
    def rmsnorm(x):
        # ms = (sum x_i^2) / n; scale = (ms + 1e-5) ** -0.5 (spec), over the last dimension
        return x * ((x * x).mean(dim=-1, keepdim=True) + 1e-5) ** -0.5

    def position_forward(self, token, position, keys, values):
        """Logits of one position; appends its keys and values to the lists."""
        w, torch, head_dim = self.weights, self.torch, self.head_dim
        x = self.rmsnorm(w["wte"][token] + w["wpe"][position])
        for layer in range(self.n_layer):
            residual = x
            x = self.rmsnorm(x)
            q = w[f"layer{layer}.attn_wq"] @ x
            keys[layer].append(w[f"layer{layer}.attn_wk"] @ x)
            values[layer].append(w[f"layer{layer}.attn_wv"] @ x)
            k = torch.stack(keys[layer]).view(-1, self.n_head, head_dim)   # [t, head, head_dim]
            v = torch.stack(values[layer]).view(-1, self.n_head, head_dim)
            logits = torch.einsum("hd,thd->ht", q.view(self.n_head, head_dim), k) / head_dim**0.5
            attended = torch.einsum("ht,thd->hd", torch.softmax(logits, dim=-1), v).reshape(self.n_embd)
            x = w[f"layer{layer}.attn_wo"] @ attended + residual
            residual = x
            x = torch.relu(w[f"layer{layer}.mlp_fc1"] @ self.rmsnorm(x))
            x = w[f"layer{layer}.mlp_fc2"] @ x + residual
        return w["lm_head"] @ x

    def position_loss(self, tokens, n):
        keys, values = [[] for _ in range(self.n_layer)], [[] for _ in range(self.n_layer)]
        losses = []
        for position in range(n):
            logits = self.position_forward(tokens[position], position, keys, values)
            losses.append(-self.torch.log_softmax(logits, dim=-1)[tokens[position + 1]])
        return self.torch.stack(losses).mean()

    def sequence_loss(self, tokens, n):
        return self.sequence_graph(self.torch.tensor(tokens[:n]), self.torch.tensor(tokens[1:n + 1]), *self.parameters)

    def traced_loss(self, tokens, n):
        """sequence_loss through a function traced once for this n: the tokens and weights are its inputs."""
        inputs, targets = self.torch.tensor(tokens[:n]), self.torch.tensor(tokens[1:n + 1])
        if n not in self.traces:
            self.traces[n] = self.torch.jit.trace(self.sequence_graph, (inputs, targets, *self.parameters))
        return self.traces[n](inputs, targets, *self.parameters)

    def sequence_graph(self, inputs, targets, *parameters):
        """All n positions at once: [n, n_embd] activations, a causal mask."""
        w, torch, F, n = dict(zip(self.weights, parameters)), self.torch, self.functional, len(inputs)
        x = self.rmsnorm(w["wte"][inputs] + w["wpe"][:n])
        mask = torch.ones(n, n, dtype=torch.bool).triu(1)
        for layer in range(self.n_layer):
            residual = x
            x = self.rmsnorm(x)
            q, k, v = (F.linear(x, w[f"layer{layer}.attn_{name}"]).view(n, self.n_head, self.head_dim).transpose(0, 1)
                       for name in ("wq", "wk", "wv"))                   # [head, n, head_dim]
            logits = (q @ k.transpose(1, 2)) / self.head_dim**0.5       # [head, n, n]
            weights = torch.softmax(logits.masked_fill(mask, float("-inf")), dim=-1)
            attended = (weights @ v).transpose(0, 1).reshape(n, self.n_embd)
            x = F.linear(attended, w[f"layer{layer}.attn_wo"]) + residual
            residual = x
            x = torch.relu(F.linear(self.rmsnorm(x), w[f"layer{layer}.mlp_fc1"]))
            x = F.linear(x, w[f"layer{layer}.mlp_fc2"]) + residual
        return F.cross_entropy(F.linear(x, w["lm_head"]), targets)


def adam_update(torch, parameters, moments, step, num_steps):
    """The reference's Adam, element-wise on tensors (spec, Training):
    m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr_t m_hat / (v_hat^0.5 + eps)."""
    lr_t = LEARNING_RATE * (1 - step / num_steps)
    correction1, correction2 = 1 - BETA1 ** (step + 1), 1 - BETA2 ** (step + 1)
    with torch.no_grad():
        for p, (m, v) in zip(parameters, moments):
            g = p.grad
            m.mul_(BETA1).add_((1 - BETA1) * g)
            v.mul_(BETA2).add_((1 - BETA2) * g.pow(2.0))
            p.sub_(lr_t * (m / correction1) / ((v / correction2).pow(0.5) + EPS_ADAM))
            p.grad = None


def graph_size(loss):
    """(nodes, edges): distinct autograd nodes reachable from loss.grad_fn
    through next_functions, and the links between them."""
    seen, stack, edges = {loss.grad_fn}, [loss.grad_fn], 0
    while stack:
        function = stack.pop()
        for child, _ in function.next_functions:
            if child is None:
                continue
            edges += 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return len(seen), edges


def train(args, torch):
    """Runs the training loop; the report dict (without the comparison)."""
    docs, uchars, bos, _, state = initial_state(args.data, args.n_embd, args.n_head, args.n_layer, args.block_size)
    model = TorchModel(torch, state, args.n_embd, args.n_head, args.n_layer, args.block_size)
    loss_of = {"position": model.position_loss, "sequence": model.sequence_loss, "traced": model.traced_loss}[args.mode]
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in model.parameters]
    index = {ch: i for i, ch in enumerate(uchars)}
    losses, nodes, edges = [], [], []
    train_seconds = 0.0
    for step in range(args.steps):
        doc = docs[step % len(docs)]
        tokens = [bos] + [index[ch] for ch in doc] + [bos]
        n = min(args.block_size, len(tokens) - 1)
        start = time.perf_counter()
        loss = loss_of(tokens, n)
        train_seconds += time.perf_counter() - start
        if not args.no_graph_count:
            step_nodes, step_edges = graph_size(loss)
            nodes.append(step_nodes)
            edges.append(step_edges)
        start = time.perf_counter()
        loss.backward()
        adam_update(torch, model.parameters, moments, step, args.steps)
        value = loss.item()
        train_seconds += time.perf_counter() - start
        losses.append(value)
        if not args.quiet:
            print(f"step {step + 1:4d} / {args.steps:4d} | loss {value:.4f}", flush=True)
    report = {
        "strategy": f"torch_{args.mode}",
        "mode": args.mode,
        "steps": args.steps,
        "train_seconds": train_seconds,
        "final_loss": losses[-1],
        "mean_loss": sum(losses) / len(losses),
        "losses": losses,
        "python": f"{sys.implementation.name} {sys.version.split()[0]}",
        "python_executable": sys.executable,
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "shape": {"n_embd": args.n_embd, "n_head": args.n_head, "n_layer": args.n_layer,
                  "block_size": args.block_size},
        "adam": "the reference's formula written on tensors (not torch.optim.Adam)",
        "dtype": "float64",
        "peak_rss_bytes": peak_rss_bytes(),
    }
    if nodes:
        report["nodes"] = {"mean": sum(nodes) / len(nodes), "min": min(nodes), "max": max(nodes)}
        report["edges"] = {"mean": sum(edges) / len(edges), "min": min(edges), "max": max(edges)}
        report["nodes_per_step"] = nodes
    return report


def peak_rss_bytes():
    """This process's peak resident set (VmHWM), as the harness measures the C rows'."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


def read_losses(path):
    """Losses from a reference report (JSON with "losses") or one per line."""
    with open(path) as f:
        text = f.read()
    if text.lstrip().startswith("{"):
        return [float(x) for x in json.loads(text)["losses"]]
    return [float(line) for line in text.split()]


def reference_losses_from_program(program, args):
    """Losses of a bit-exact program of the project (e.g. build/microgpt-floor)
    on the same run: the reference's trajectory, bit for bit."""
    handle, path = tempfile.mkstemp(prefix="microgpt-torch-reference-", suffix=".losses")
    os.close(handle)
    try:
        command = [program, "--data", args.data, "--steps", str(args.steps), "--samples", "0", "--quiet",
                   "--losses", path, "--n-embd", str(args.n_embd), "--n-head", str(args.n_head),
                   "--n-layer", str(args.n_layer), "--block-size", str(args.block_size)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        return read_losses(path)
    finally:
        os.unlink(path)


def compare(report, reference, source):
    """Adds the comparison with the reference's losses to the report."""
    if len(reference) < len(report["losses"]):
        raise ValueError(f"{source} has {len(reference)} losses, the run {len(report['losses'])}")
    differences = [abs(a - b) for a, b in zip(report["losses"], reference)]
    worst = max(differences)
    report["reference"] = source
    report["max_abs_loss_difference"] = worst
    report["first_step_loss_difference"] = differences[0]
    report["check"] = f"within {worst:.1e} of the reference"


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=MODES, default="position")
    parser.add_argument("--data", default=os.environ.get("MICROGPT_DATA", microgpt_reference.DEFAULT_DATA))
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1; 0: torch's default)")
    parser.add_argument("--n-embd", type=int, default=16)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--n-layer", type=int, default=1)
    parser.add_argument("--block-size", type=int, default=16)
    parser.add_argument("--reference-losses", help="the reference's losses of the same run: its --report JSON, "
                        "or a --losses file (one per line)")
    parser.add_argument("--reference-program", help="a bit-exact program of the project (build/microgpt-floor) "
                        "run for the reference's losses")
    parser.add_argument("--no-graph-count", action="store_true", help="skip the autograd node count")
    parser.add_argument("--losses", help="write each step's loss as %%.17g, one per line")
    parser.add_argument("--report", help="write the run as JSON (the keys of microgpt_reference.py's --report, "
                        "plus torch's)")
    parser.add_argument("--quiet", action="store_true", help="omit the per-step lines")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.threads < 0:
        parser.error("--steps must be >= 1 and --threads >= 0")
    if min(args.n_embd, args.n_head, args.n_layer, args.block_size) < 1 or args.n_embd % args.n_head:
        parser.error("sizes must be >= 1 and --n-embd divisible by --n-head")
    if args.reference_losses and args.reference_program:
        parser.error("give --reference-losses or --reference-program, not both")
    return args


def main(argv=None):
    args = parse_arguments(argv)
    reason = torch_unavailable_reason()
    if reason:
        print(f"microgpt_torch: {reason}", file=sys.stderr)
        return NOT_MEASURED_EXIT
    import torch
    default_threads = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float64)
    try:
        report = train(args, torch)
        report["default_threads"] = default_threads
        if args.reference_losses:
            compare(report, read_losses(args.reference_losses), args.reference_losses)
        elif args.reference_program:
            compare(report, reference_losses_from_program(args.reference_program, args), args.reference_program)
    except (OSError, ValueError, KeyError, subprocess.CalledProcessError) as error:
        print(f"microgpt_torch: {error}", file=sys.stderr)
        return 2
    if args.losses:
        with open(args.losses, "w") as f:
            f.writelines("%.17g\n" % loss for loss in report["losses"])
    if args.report:
        temporary = f"{args.report}.tmp-{os.getpid()}"
        with open(temporary, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
        os.replace(temporary, args.report)
    print(f"--- summary (torch {args.mode}, {report['threads']} thread(s), default {default_threads}) ---")
    print(f"training time: {report['train_seconds']:.3f} s, {1000 * report['train_seconds'] / args.steps:.3f} ms/step")
    print(f"mean loss: {report['mean_loss']:.4f}, final {report['final_loss']:.4f}")
    if "nodes" in report:
        print(f"autograd nodes per step: mean {report['nodes']['mean']:.2f} min {report['nodes']['min']} "
              f"max {report['nodes']['max']}")
    if "check" in report:
        print(f"losses: {report['check']} (max |loss - reference| over {args.steps} steps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
