// main.rs: microgpt-rust, Karpathy's microgpt (docs/spec.md) in Rust with
// the standard library only. It trains the reference's model on the names
// file, prints what the C programs print (engine/cli_main.c) and gives the
// reference's losses and samples bit for bit. Build, with rustc alone:
//   rustc --edition 2018 -C opt-level=3 -o microgpt-rust baselines/rust/main.rs
// (MICROGPT_RUSTC_VERSION="$(rustc --version)" in the environment puts the
// compiler's version into --report.)

mod dataset;
mod model;
mod python_random;
mod report;
mod value;

use std::env;
use std::path::PathBuf;
use std::process;
use std::thread;
use std::time::Instant;

use dataset::Dataset;
use model::{model_train_step, Model, ModelSize, Strategy};
use python_random::PythonRandom;
use report::{OutputFile, RunRecord};

const PROGRAM: &str = "microgpt-rust";
const MAX_STEPS: usize = 1_000_000;
const MAX_SAMPLES: usize = 100_000;
const MAX_WIDTH: usize = 4096;
const MAX_LAYERS: usize = 10_000;
/// The most graph nodes a step may have (the C programs' limit): at about
/// 180 bytes a node here, graph and sort included, up to about 9 GB.
const MAX_GRAPH_NODES: f64 = 50_000_000.0;

fn fail(message: &str) -> ! {
    eprintln!("{}: {}", PROGRAM, message);
    process::exit(2)
}

struct Options {
    data: Option<String>,
    losses: Option<String>,
    report: Option<String>,
    steps: usize,
    samples: usize,
    quiet: bool,
    strategy: Strategy,
    size: ModelSize,
}

/// <directory of the executable>/../data/names.txt, as the C programs'
/// default is <project>/data/names.txt.
fn default_data_path() -> String {
    let executable = env::current_exe().unwrap_or_default();
    let directory = executable.parent().map(PathBuf::from).unwrap_or_default();
    directory.join("..").join("data").join("names.txt").to_string_lossy().into_owned()
}

fn usage() -> String {
    format!(
        "usage: {program} [--data PATH] [--steps N] [--samples K] [--losses FILE] [--report FILE] [--quiet]
                     [--strategy naive|both] [--n-embd E] [--n-head H] [--n-layer L] [--block-size B] [--help]
Trains microgpt (docs/spec.md) with a scalar autograd engine written in Rust, standard
library only; its losses and samples are the Python reference's, bit for bit.
  --data PATH       names file (default: $MICROGPT_DATA, else {data}); never downloaded
  --steps N         training steps, 1..{steps} (default 1000)
  --samples K       names sampled after training, 0..{samples} (default 20)
  --losses FILE     write each step's loss as %.17g, one per line
  --report FILE     write the run's timing, losses and graph sizes as JSON
  --quiet           omit the per-step lines
  --strategy S      naive (default): every scalar op a node, recursive topological sort;
                    both: each linear output one node, iterative topological sort
Model size (defaults: the reference's 16, 4, 1, 16):
  --n-embd E        embedding width, 1..{width}, divisible by --n-head
  --n-head H        attention heads, 1..{width}
  --n-layer L       transformer layers, 1..{layers}
  --block-size B    longest context (positions per step), 1..{width}
  and at most {nodes} graph nodes in a step of B positions, parameters included.
Exit status: 0 on success, 2 on bad input.
",
        program = PROGRAM,
        data = default_data_path(),
        steps = MAX_STEPS,
        samples = MAX_SAMPLES,
        width = MAX_WIDTH,
        layers = MAX_LAYERS,
        nodes = MAX_GRAPH_NODES
    )
}

fn parse_count(option: &str, text: &str, low: usize, high: usize) -> usize {
    match text.parse::<usize>() {
        Ok(count) if (low..=high).contains(&count) => count,
        _ => fail(&format!("{} takes a whole number from {} to {}, got '{}'", option, low, high, text)),
    }
}

fn parse_file_name(option: &str, text: &str) -> Option<String> {
    if text.is_empty() {
        fail(&format!("{} needs a file name, got ''", option));
    }
    Some(text.to_string())
}

/// The options in any order, each at most once; --help prints the usage.
fn parse_options(arguments: &[String]) -> Options {
    const WITH_VALUE: [&str; 10] = [
        "--data",
        "--steps",
        "--samples",
        "--losses",
        "--report",
        "--strategy",
        "--n-embd",
        "--n-head",
        "--n-layer",
        "--block-size",
    ];
    let mut options = Options {
        data: None,
        losses: None,
        report: None,
        steps: 1000,
        samples: 20,
        quiet: false,
        strategy: Strategy::Naive,
        size: ModelSize { n_embd: 16, n_head: 4, n_layer: 1, block_size: 16, vocab_size: 0 },
    };
    let mut given: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < arguments.len() {
        let option = arguments[i].as_str();
        if option == "--help" || option == "-h" {
            print!("{}", usage());
            process::exit(0);
        }
        if option != "--quiet" && !WITH_VALUE.contains(&option) {
            fail(&format!("unknown option '{}' (see --help)", option));
        }
        // A repeated option is a typo or a script's bug: refuse it rather
        // than silently keep one of the two values.
        if given.contains(&option) {
            fail(&format!("{} is given twice (see --help)", option));
        }
        given.push(option);
        if option == "--quiet" {
            options.quiet = true;
            i += 1;
            continue;
        }
        let text = match arguments.get(i + 1) {
            Some(text) => text.as_str(),
            None => fail(&format!("{} needs a value (see --help)", option)),
        };
        match option {
            "--data" => options.data = parse_file_name(option, text),
            "--losses" => options.losses = parse_file_name(option, text),
            "--report" => options.report = parse_file_name(option, text),
            "--steps" => options.steps = parse_count(option, text, 1, MAX_STEPS),
            "--samples" => options.samples = parse_count(option, text, 0, MAX_SAMPLES),
            "--n-embd" => options.size.n_embd = parse_count(option, text, 1, MAX_WIDTH),
            "--n-head" => options.size.n_head = parse_count(option, text, 1, MAX_WIDTH),
            "--n-layer" => options.size.n_layer = parse_count(option, text, 1, MAX_LAYERS),
            "--block-size" => options.size.block_size = parse_count(option, text, 1, MAX_WIDTH),
            _ => {
                options.strategy = match text {
                    "naive" => Strategy::Naive,
                    "both" => Strategy::Both,
                    _ => fail(&format!("--strategy takes naive or both, got '{}'", text)),
                }
            }
        }
        i += 2;
    }
    options
}

fn check_size(size: &ModelSize) {
    if size.n_embd % size.n_head != 0 {
        fail(&format!("--n-embd {} is not divisible by --n-head {}", size.n_embd, size.n_head));
    }
    let nodes = size.graph_nodes_bound();
    if nodes > MAX_GRAPH_NODES {
        fail(&format!(
            "--n-embd {} --n-head {} --n-layer {} --block-size {} is too large: up to {:.0} graph nodes per step, \
             parameters included, over the limit of {}",
            size.n_embd, size.n_head, size.n_layer, size.block_size, nodes, MAX_GRAPH_NODES
        ));
    }
}

/// The run itself, in the reference's order of random draws: the shuffle
/// of the documents, the parameters, the samples (spec, "Randomness").
fn train_and_sample(dataset: Dataset, size: ModelSize, options: &Options) -> RunRecord {
    let mut rng = PythonRandom::seeded(42);
    let mut documents: Vec<&[usize]> = dataset.documents.iter().map(Vec::as_slice).collect();
    rng.shuffle(&mut documents);
    let mut model = Model::new(size, options.strategy, &mut rng);
    let mut record = RunRecord {
        strategy: options.strategy.name(),
        train_seconds: 0.0,
        forward_seconds: 0.0,
        backward_seconds: 0.0,
        update_seconds: 0.0,
        sample_seconds: 0.0,
        losses: Vec::with_capacity(options.steps),
        step_seconds: Vec::with_capacity(options.steps),
        nodes: Vec::with_capacity(options.steps),
        edges: Vec::with_capacity(options.steps),
        samples: Vec::with_capacity(options.samples),
    };

    let start = Instant::now();
    for step in 0..options.steps {
        let tokens = documents[step % documents.len()];
        let result = model_train_step(&mut model, tokens, step, options.steps);
        record.losses.push(result.loss);
        record.nodes.push(result.graph.nodes);
        record.edges.push(result.graph.edges);
        record.forward_seconds += result.forward_seconds;
        record.backward_seconds += result.backward_seconds;
        record.update_seconds += result.update_seconds;
        record.step_seconds.push(result.forward_seconds + result.backward_seconds + result.update_seconds);
        if !options.quiet {
            println!("step {:4} / {:4} | loss {:.4}", step + 1, options.steps, result.loss);
        }
    }
    record.train_seconds = start.elapsed().as_secs_f64();

    let start = Instant::now();
    for _ in 0..options.samples {
        let name = model.sample(&mut rng, dataset.bos());
        record.samples.push(name.iter().map(|&token| dataset.characters[token] as char).collect());
    }
    record.sample_seconds = start.elapsed().as_secs_f64();
    record
}

fn print_summary(record: &RunRecord, wall_seconds: f64) {
    let steps = record.losses.len() as f64;
    let nodes = report::count_statistics(&record.nodes);
    let edges = report::count_statistics(&record.edges);
    println!("\n--- summary (rust {}) ---", record.strategy);
    println!(
        "wall time: {:.3} s (training {:.3} s, {:.4} ms/step; sampling {:.3} s)",
        wall_seconds,
        record.train_seconds,
        1e3 * record.train_seconds / steps,
        record.sample_seconds
    );
    println!(
        "time per step: forward {:.4} ms, backward {:.4} ms, update {:.4} ms",
        1e3 * record.forward_seconds / steps,
        1e3 * record.backward_seconds / steps,
        1e3 * record.update_seconds / steps
    );
    println!("graph nodes per step: mean {:.2} min {} max {}", nodes.mean, nodes.min, nodes.max);
    println!("graph edges per step: mean {:.2} min {} max {}", edges.mean, edges.min, edges.max);
    println!(
        "loss: final {:.4}, mean {:.4}",
        record.losses[record.losses.len() - 1],
        report::mean_loss(&record.losses)
    );
}

/// Rust ignores SIGPIPE, so that println! to a closed pipe (`| head`)
/// panics; the C programs end quietly on the signal, and so does this one.
fn restore_default_sigpipe() {
    extern "C" {
        fn signal(signal_number: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13;
    const SIG_DFL: usize = 0;
    unsafe {
        signal(SIGPIPE, SIG_DFL);
    }
}

/// The main thread's stack limit in bytes, getrlimit(RLIMIT_STACK) (its
/// RLIM_INFINITY is u64::MAX); 0 if unknown.
fn main_stack_limit() -> u64 {
    #[repr(C)]
    struct Limit {
        current: u64,
        maximum: u64,
    }
    extern "C" {
        fn getrlimit(resource: i32, limit: *mut Limit) -> i32;
    }
    const RLIMIT_STACK: i32 = 3;
    let mut limit = Limit { current: 0, maximum: 0 };
    if unsafe { getrlimit(RLIMIT_STACK, &mut limit) } == 0 {
        limit.current
    } else {
        0
    }
}

fn main() {
    let wall_start = Instant::now();
    restore_default_sigpipe();
    let arguments: Vec<String> = env::args_os()
        .skip(1)
        .map(|argument| argument.into_string().unwrap_or_else(|bad| fail(&format!("argument {:?} is not UTF-8", bad))))
        .collect();
    let options = parse_options(&arguments);

    let data_path = options
        .data
        .clone()
        .or_else(|| env::var("MICROGPT_DATA").ok().filter(|path| !path.is_empty()))
        .unwrap_or_else(default_data_path);
    let dataset = Dataset::load(&data_path).unwrap_or_else(|message| fail(&message));
    let mut size = options.size;
    size.vocab_size = dataset.vocab_size();
    check_size(&size);
    let open = |option: &'static str, path: &Option<String>| {
        path.as_ref().map(|path| OutputFile::create(option, path).unwrap_or_else(|message| fail(&message)))
    };
    let losses_file = open("--losses", &options.losses);
    let report_file = open("--report", &options.report);

    println!("num docs: {}", dataset.documents.len());
    println!("vocab size: {}", size.vocab_size);
    println!("num params: {}", size.parameter_count());

    // The recursive sort, and the drop of a sampling graph, recurse once
    // per node on the graph's deepest path, which grows with the model.
    // As the C programs do (engine/call_stack.c), the run stays on the main
    // thread when its stack has room, since malloc is faster in a process
    // of one thread (no arena locks: about 15% a step here); else it gets a
    // thread whose stack fits the deepest graph of this size, with a wide
    // margin (a level takes well under 1 KB; only touched pages are mapped).
    let stack_bytes = (2.0 * 1048576.0 + 1024.0 * size.graph_depth_bound()) as u64;
    let joined = if main_stack_limit() >= stack_bytes {
        Some(train_and_sample(dataset, size, &options))
    } else {
        let run = thread::Builder::new()
            .name("training".to_string())
            .stack_size(stack_bytes as usize)
            .spawn(move || train_and_sample(dataset, size, &options));
        match run {
            Ok(handle) => handle.join().ok(),
            Err(error) => {
                fail(&format!("cannot start the training thread with a {} MB stack: {}", stack_bytes >> 20, error))
            }
        }
    };
    let record = match joined {
        Some(finished) => finished,
        None => {
            for file in losses_file.iter().chain(report_file.iter()) {
                file.discard_temporary();
            }
            process::exit(2)
        }
    };

    println!("\n--- inference (new, hallucinated names) ---");
    for (index, name) in record.samples.iter().enumerate() {
        println!("sample {:2}: {}", index + 1, name);
    }
    let rustc_version = option_env!("MICROGPT_RUSTC_VERSION").unwrap_or("unknown");
    let outputs: Vec<(OutputFile, String)> = losses_file
        .map(|file| (file, report::losses_text(&record.losses)))
        .into_iter()
        .chain(report_file.map(|file| (file, report::report_json(&record, rustc_version))))
        .collect();
    for (file, contents) in &outputs {
        if let Err(message) = file.finish(contents) {
            for (file, _) in &outputs {
                file.discard_temporary();
            }
            fail(&message);
        }
    }
    print_summary(&record, wall_start.elapsed().as_secs_f64());
}
