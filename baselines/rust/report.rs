// report.rs: what a run writes besides stdout. --losses: each step's loss
// as printf's %.17g, one a line. --report: the run as JSON, with the keys of
// the Python reference's write_report. Both are written to PATH.tmp-<pid>
// and renamed onto PATH when complete, so nothing half-written remains.

use std::fs::{self, File};
use std::io::Write;

/// printf("%.17g", x): 17 significant digits, enough to round-trip a
/// double. Rust's {:.16e} rounds exactly as printf does (to nearest, ties
/// to even, on the exact binary value); %g's rules then choose the
/// notation and strip trailing zeros.
pub fn format_g17(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let scientific = format!("{:.16e}", x);
    let (mantissa, exponent) = scientific.split_at(scientific.find('e').expect("{:e} has an exponent"));
    let exponent: i32 = exponent[1..].parse().expect("{:e}'s exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(unsigned) => ("-", unsigned),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|&c| c != '.').collect();
    // %g with precision P = 17: exponent notation when X < -4 or X >= P.
    if exponent < -4 || exponent >= 17 {
        let fraction = digits[1..].trim_end_matches('0');
        let point = if fraction.is_empty() { "" } else { "." };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{}{}{}{}e{}{:02}", sign, &digits[..1], point, fraction, exponent_sign, exponent.abs())
    } else if exponent >= 0 {
        let (integer, fraction) = digits.split_at(exponent as usize + 1);
        let fraction = fraction.trim_end_matches('0');
        let point = if fraction.is_empty() { "" } else { "." };
        format!("{}{}{}{}", sign, integer, point, fraction)
    } else {
        let leading_zeros = "0".repeat((-exponent - 1) as usize);
        format!("{}0.{}{}", sign, leading_zeros, digits.trim_end_matches('0'))
    }
}

/// A file written whole or not at all. Opened before the training, so a
/// bad path fails at once. A target that exists and is not a regular file
/// (a directory, /dev/stdout, a pipe) is opened as it is, as the C programs
/// do: a directory then fails, the others are written through.
pub struct OutputFile {
    option: &'static str,
    path: String,
    temporary: Option<String>,
    file: File,
}

impl OutputFile {
    pub fn create(option: &'static str, path: &str) -> Result<OutputFile, String> {
        let regular_or_absent = fs::symlink_metadata(path).map(|m| m.file_type().is_file()).unwrap_or(true);
        let temporary = if regular_or_absent { Some(format!("{}.tmp-{}", path, std::process::id())) } else { None };
        let opened = File::create(temporary.as_deref().unwrap_or(path));
        match opened {
            Ok(file) => Ok(OutputFile { option, path: path.to_string(), temporary, file }),
            Err(error) => Err(format!("cannot write {} {}: {}", option, path, error)),
        }
    }

    /// Writes `contents` and renames the file into place.
    pub fn finish(&self, contents: &str) -> Result<(), String> {
        let mut written = (&self.file).write_all(contents.as_bytes());
        if let (Ok(()), Some(temporary)) = (&written, &self.temporary) {
            written = fs::rename(temporary, &self.path);
        }
        written.map_err(|error| format!("cannot write {} {}: {}", self.option, self.path, error))
    }

    /// Removes the temporary file of a run or a write that did not finish
    /// (nothing once it is renamed).
    pub fn discard_temporary(&self) {
        if let Some(temporary) = &self.temporary {
            let _ = fs::remove_file(temporary);
        }
    }
}

/// What the summary and the report say about a run.
pub struct RunRecord {
    pub strategy: &'static str,
    pub train_seconds: f64,
    pub forward_seconds: f64,
    pub backward_seconds: f64,
    pub update_seconds: f64,
    pub sample_seconds: f64,
    pub losses: Vec<f64>,
    /// Each step's forward, backward and update: the bench compares the first K steps with Python's.
    pub step_seconds: Vec<f64>,
    pub nodes: Vec<usize>,
    pub edges: Vec<usize>,
    pub samples: Vec<String>,
}

/// mean, min and max of a count per step.
pub struct CountStatistics {
    pub mean: f64,
    pub min: usize,
    pub max: usize,
}

pub fn count_statistics(counts: &[usize]) -> CountStatistics {
    let total: u64 = counts.iter().map(|&count| count as u64).sum();
    CountStatistics {
        mean: total as f64 / counts.len() as f64,
        min: counts.iter().copied().min().unwrap_or(0),
        max: counts.iter().copied().max().unwrap_or(0),
    }
}

/// Python's sum(losses) / steps: folded left to right from 0.
pub fn mean_loss(losses: &[f64]) -> f64 {
    losses.iter().fold(0.0, |total, &loss| total + loss) / losses.len() as f64
}

pub fn losses_text(losses: &[f64]) -> String {
    losses.iter().map(|&loss| format_g17(loss) + "\n").collect()
}

/// A JSON number that reads back as the same double; JSON has no inf or nan.
fn json_number(x: f64) -> String {
    if x.is_finite() {
        format_g17(x)
    } else {
        "null".to_string()
    }
}

fn json_string(text: &str) -> String {
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if (c as u32) < 0x20 => quoted.push_str(&format!("\\u{:04x}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

fn json_statistics(counts: &[usize]) -> String {
    let statistics = count_statistics(counts);
    format!(
        "{{\n  \"mean\": {},\n  \"min\": {},\n  \"max\": {}\n }}",
        json_number(statistics.mean),
        statistics.min,
        statistics.max
    )
}

/// The reference's report (json.dump with indent=1), "python" and
/// "python_executable" replaced by the compiler and the language.
pub fn report_json(record: &RunRecord, rustc_version: &str) -> String {
    let list = |values: &[f64]| -> String {
        let items: Vec<String> = values.iter().map(|&value| format!("  {}", json_number(value))).collect();
        format!("[\n{}\n ]", items.join(",\n"))
    };
    let fields = [
        ("strategy", json_string(record.strategy)),
        ("steps", record.losses.len().to_string()),
        ("train_seconds", json_number(record.train_seconds)),
        ("final_loss", json_number(record.losses[record.losses.len() - 1])),
        ("mean_loss", json_number(mean_loss(&record.losses))),
        ("losses", list(&record.losses)),
        ("step_seconds", list(&record.step_seconds)),
        ("nodes", json_statistics(&record.nodes)),
        ("edges", json_statistics(&record.edges)),
        ("rustc", json_string(rustc_version)),
        ("language", json_string("rust")),
    ];
    let fields: Vec<String> = fields.iter().map(|(key, value)| format!(" {}: {}", json_string(key), value)).collect();
    format!("{{\n{}\n}}\n", fields.join(",\n"))
}
