// python_random.rs: CPython 3.11's `random` (Modules/_randommodule.c and
// Lib/random.py), reduced to what microgpt draws: seed, random, shuffle,
// gauss and choices. A port of engine/python_random.c; docs/spec.md,
// "Randomness", gives the rules.

use std::convert::TryFrom;

const STATE_WORDS: usize = 624;
const SHIFT_WORDS: usize = 397;

pub struct PythonRandom {
    state: [u32; STATE_WORDS],
    index: usize,
    cached_gauss: Option<f64>,
}

impl PythonRandom {
    /// random.seed(seed) for a seed below 2^32: init_by_array with the
    /// one-word key [seed], and no cached Gaussian value.
    pub fn seeded(seed: u32) -> PythonRandom {
        let mut rng = PythonRandom { state: [0; STATE_WORDS], index: STATE_WORDS, cached_gauss: None };
        rng.init_genrand(19650218);
        let key = [seed];
        let (mut i, mut j) = (1, 0);
        for _ in 0..STATE_WORDS.max(key.len()) {
            let previous = rng.state[i - 1];
            rng.state[i] = (rng.state[i] ^ (previous ^ (previous >> 30)).wrapping_mul(1664525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= STATE_WORDS {
                rng.state[0] = rng.state[STATE_WORDS - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..STATE_WORDS - 1 {
            let previous = rng.state[i - 1];
            rng.state[i] =
                (rng.state[i] ^ (previous ^ (previous >> 30)).wrapping_mul(1566083941)).wrapping_sub(i as u32);
            i += 1;
            if i >= STATE_WORDS {
                rng.state[0] = rng.state[STATE_WORDS - 1];
                i = 1;
            }
        }
        rng.state[0] = 0x8000_0000;
        rng
    }

    fn init_genrand(&mut self, seed: u32) {
        self.state[0] = seed;
        for i in 1..STATE_WORDS {
            let previous = self.state[i - 1];
            self.state[i] = 1812433253u32.wrapping_mul(previous ^ (previous >> 30)).wrapping_add(i as u32);
        }
        self.index = STATE_WORDS;
    }

    /// The next 32-bit output of MT19937.
    fn next_u32(&mut self) -> u32 {
        const MATRIX_A: u32 = 0x9908_b0df;
        const UPPER_MASK: u32 = 0x8000_0000;
        const LOWER_MASK: u32 = 0x7fff_ffff;
        if self.index >= STATE_WORDS {
            for k in 0..STATE_WORDS {
                let y = (self.state[k] & UPPER_MASK) | (self.state[(k + 1) % STATE_WORDS] & LOWER_MASK);
                let mixed = if y & 1 == 1 { MATRIX_A } else { 0 };
                self.state[k] = self.state[(k + SHIFT_WORDS) % STATE_WORDS] ^ (y >> 1) ^ mixed;
            }
            self.index = 0;
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// random(): 53 random bits from two outputs (genrand_res53).
    pub fn random(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (a as f64 * 67108864.0 + b as f64) * (1.0 / 9007199254740992.0)
    }

    /// getrandbits(bit_count) for 1 <= bit_count <= 32.
    fn getrandbits(&mut self, bit_count: u32) -> u32 {
        self.next_u32() >> (32 - bit_count)
    }

    /// _randbelow(n): draws of the bit length of n itself (not of n - 1,
    /// CPython's rule) until one is below n.
    fn randbelow(&mut self, n: u32) -> u32 {
        let bit_count = 32 - n.leading_zeros();
        loop {
            let r = self.getrandbits(bit_count);
            if r < n {
                return r;
            }
        }
    }

    /// shuffle(items): for i from the last index down to 1, swap items[i]
    /// with items[randbelow(i + 1)].
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let bound = u32::try_from(i + 1).expect("shuffle: more than 2^32 items");
            let j = self.randbelow(bound) as usize;
            items.swap(i, j);
        }
    }

    /// gauss(mu, sigma): Box-Muller, keeping the second value for the next call.
    pub fn gauss(&mut self, mu: f64, sigma: f64) -> f64 {
        let z = match self.cached_gauss.take() {
            Some(cached) => cached,
            None => {
                let two_pi = 2.0 * std::f64::consts::PI; // Lib/random.py: TWOPI = 2.0 * _pi
                let x2pi = self.random() * two_pi;
                let g2rad = (-2.0 * (1.0 - self.random()).ln()).sqrt();
                self.cached_gauss = Some(x2pi.sin() * g2rad);
                x2pi.cos() * g2rad
            }
        };
        mu + z * sigma
    }

    /// choices(range(len(weights)), weights)[0]: cumulative sums left to
    /// right, total = the last + 0.0, then bisect_right(cumulative,
    /// random() * total, 0, len - 1).
    pub fn choices(&mut self, weights: &[f64]) -> usize {
        let mut cumulative = Vec::with_capacity(weights.len());
        let mut running = weights[0];
        cumulative.push(running);
        for &weight in &weights[1..] {
            running += weight;
            cumulative.push(running);
        }
        let total = cumulative[cumulative.len() - 1] + 0.0;
        let target = self.random() * total;
        let (mut low, mut high) = (0, cumulative.len() - 1);
        while low < high {
            let middle = (low + high) / 2;
            if target < cumulative[middle] {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        low
    }
}
