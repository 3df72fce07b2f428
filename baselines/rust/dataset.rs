// dataset.rs: the names file as documents of tokens (docs/spec.md, "The
// dataset"), with the rules of the C loader (data/dataset.c): a document is
// a line stripped as Python's str.strip() strips it, blank lines are
// skipped, and only printable ASCII is accepted.

use std::fs;
use std::io::ErrorKind;

pub struct Dataset {
    /// Each document as [BOS] + its characters' tokens + [BOS], in file order.
    pub documents: Vec<Vec<usize>>,
    /// The sorted set of characters: a character's token is its index here.
    pub characters: Vec<u8>,
}

impl Dataset {
    pub fn bos(&self) -> usize {
        self.characters.len()
    }

    pub fn vocab_size(&self) -> usize {
        self.characters.len() + 1
    }

    /// Reads and tokenizes the file at `path`; the error is one line.
    pub fn load(path: &str) -> Result<Dataset, String> {
        let bytes = fs::read(path).map_err(|error| {
            if error.kind() == ErrorKind::NotFound {
                format!(
                    "dataset {} is missing: set MICROGPT_DATA or pass --data PATH to name the names file \
                     (this program downloads nothing)",
                    path
                )
            } else {
                format!("cannot read dataset {}: {}", path, error)
            }
        })?;
        Dataset::parse(&bytes).map_err(|reason| format!("dataset {} {}", path, reason))
    }

    fn parse(bytes: &[u8]) -> Result<Dataset, String> {
        if bytes.is_empty() {
            return Err("is empty".to_string());
        }
        // Python's str.strip() also removes \x1c-\x1f, which are refused as
        // non-printable before stripping could matter.
        let is_strip_space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
        let mut names = Vec::new();
        for (index, line) in bytes.split(|&c| c == b'\n').enumerate() {
            let first = line.iter().position(|&c| !is_strip_space(c)).unwrap_or(line.len());
            let last = line.iter().rposition(|&c| !is_strip_space(c)).map_or(first, |i| i + 1);
            for (i, &c) in line.iter().enumerate() {
                let stripped = i < first || i >= last;
                let allowed = (0x20..=0x7e).contains(&c) || (stripped && is_strip_space(c));
                if !allowed {
                    return Err(format!("line {} has byte 0x{:02x}, outside printable ASCII", index + 1, c));
                }
            }
            if last > first {
                names.push(&line[first..last]);
            }
        }
        if names.is_empty() {
            return Err("has no usable line (every line is blank)".to_string());
        }
        let mut characters: Vec<u8> = names.iter().flat_map(|name| name.iter().copied()).collect();
        characters.sort_unstable();
        characters.dedup();
        let mut token_of = [0; 256];
        for (token, &c) in characters.iter().enumerate() {
            token_of[c as usize] = token;
        }
        let bos = characters.len();
        let documents = names
            .iter()
            .map(|name| {
                let mut tokens = Vec::with_capacity(name.len() + 2);
                tokens.push(bos);
                tokens.extend(name.iter().map(|&c| token_of[c as usize]));
                tokens.push(bos);
                tokens
            })
            .collect();
        Ok(Dataset { documents, characters })
    }
}
