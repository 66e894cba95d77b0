//! Range sharding by the first letter of a user's name.
//!
//! Keys `0..key_space` are users sorted by surname, so key `k` has the first letter whose
//! cumulative share of the population first exceeds `k / key_space`. A shard owns a range of
//! letters ("A-H"), hence the block of keys between its letters' cumulative shares. The shares
//! come from the 1990 US Census surname file (see [`FIRST_LETTER_SHARES`]), so the guide's
//! A-H / I-P / Q-Z split is as uneven as real names make it.

/// Share of the US population whose surname starts with each letter, A to Z.
///
/// Source: US Census Bureau, 1990 census, surname frequency file `dist.all.last` (88,799
/// surnames covering 90.483% of the population), as shipped in the PyPI package `names` 0.3.0.
/// A surname's frequency is the step of the file's cumulative column (the per-name column is
/// rounded to 0.001% and loses the 10.9% held by names that round to zero); the steps are
/// summed by first letter and divided by their total. The same numbers, with this source, are
/// in `data/first-letters.csv`; a test checks that the two agree.
pub const FIRST_LETTER_SHARES: [f64; 26] = [
    0.034382, 0.091575, 0.077352, 0.045489, 0.018578, 0.034471, 0.053060, 0.074998, 0.003570,
    0.033343, 0.030072, 0.047280, 0.095819, 0.017473, 0.013903, 0.049623, 0.002022, 0.056806,
    0.094979, 0.036106, 0.002011, 0.014025, 0.063349, 0.000155, 0.005758, 0.003802,
];

/// The scaling guide's three ranges. With the census shares they hold 43.0%, 29.1% and 27.9%
/// of the users: the A-H shard carries 1.29 times the mean load (checked in the tests).
pub const GUIDE_RANGES: [&str; 3] = ["A-H", "I-P", "Q-Z"];

/// Routes a key to the shard whose letter range holds the key's first letter.
#[derive(Debug, Clone)]
pub struct LetterRange {
    /// First key of each block, ascending (the first is 0).
    starts: Vec<u64>,
    /// Shard of each block.
    shard: Vec<u32>,
    /// Number of shards (ranges).
    shards: usize,
    /// Keys are clamped below this.
    key_space: u64,
}

impl LetterRange {
    /// A router over `key_space` keys with one shard per entry of `ranges` ("A-H", "Q", "i-p";
    /// shard `i` is `ranges[i]`), with the census first-letter shares.
    pub fn new(ranges: &[&str], key_space: u64) -> Result<LetterRange, String> {
        LetterRange::with_shares(ranges, &FIRST_LETTER_SHARES, key_space)
    }

    /// As [`LetterRange::new`] with other letter shares (non-negative, any positive total).
    pub fn with_shares(
        ranges: &[&str],
        shares: &[f64; 26],
        key_space: u64,
    ) -> Result<LetterRange, String> {
        if key_space == 0 {
            return Err("key_space must be at least 1".into());
        }
        if shares.iter().any(|s| !(s.is_finite() && *s >= 0.0)) || shares.iter().sum::<f64>() <= 0.0
        {
            return Err("shares must be finite, non-negative and not all 0".into());
        }
        let owner = owners(ranges)?;
        let cut = cuts(shares, key_space);
        let (mut starts, mut shard) = (Vec::new(), Vec::new());
        for (letter, &s) in owner.iter().enumerate() {
            if shard.last() != Some(&s) {
                starts.push(cut[letter]);
                shard.push(s);
            }
        }
        Ok(LetterRange {
            starts,
            shard,
            shards: ranges.len(),
            key_space,
        })
    }

    /// The shard of `key` (keys at or past the key space count as the last key).
    #[inline]
    pub fn route(&self, key: u64) -> usize {
        let key = key.min(self.key_space - 1);
        let block = self.starts.partition_point(|s| *s <= key) - 1;
        self.shard[block] as usize
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.shards
    }

    /// Keys per shard (each within one key of its letters' share of the key space).
    pub fn keys_per_shard(&self) -> Vec<u64> {
        let mut keys = vec![0; self.shards];
        for (b, &start) in self.starts.iter().enumerate() {
            let end = self.starts.get(b + 1).copied().unwrap_or(self.key_space);
            keys[self.shard[b] as usize] += end - start;
        }
        keys
    }
}

/// The first key of each letter: its cumulative share (rounded down) of the key space.
fn cuts(shares: &[f64; 26], key_space: u64) -> [u64; 26] {
    let total: f64 = shares.iter().sum();
    let mut cut = [0u64; 26];
    let mut acc = 0.0;
    for (i, s) in shares.iter().enumerate() {
        cut[i] = ((acc / total * key_space as f64) as u64).min(key_space);
        acc += s;
    }
    cut
}

/// The shard owning each letter, or an error naming overlaps or uncovered letters.
fn owners(ranges: &[&str]) -> Result<[u32; 26], String> {
    if ranges.is_empty() {
        return Err("ranges: at least one letter range is needed (0 shards)".into());
    }
    let mut owner = [u32::MAX; 26];
    for (i, text) in ranges.iter().enumerate() {
        let (lo, hi) = parse(text).map_err(|e| format!("ranges[{i}]: {e}"))?;
        for l in lo..=hi {
            let prev = owner[l as usize];
            if prev != u32::MAX {
                return Err(format!(
                    "ranges[{i}] `{text}` overlaps ranges[{prev}] `{}` at letter {}",
                    ranges[prev as usize],
                    letter(l)
                ));
            }
            owner[l as usize] = i as u32;
        }
    }
    let missing: Vec<String> = (0..26u8)
        .filter(|l| owner[*l as usize] == u32::MAX)
        .map(|l| letter(l).to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "ranges: letters {} are not covered by any range",
            missing.join(", ")
        ));
    }
    Ok(owner)
}

/// `"A-H"` or `"Q"` (any case, spaces allowed) as letter indexes `(0, 7)`.
fn parse(text: &str) -> Result<(u8, u8), String> {
    let bad = || format!("`{text}` is not a letter range like A-H or Q");
    let index = |s: &str| -> Option<u8> {
        let mut chars = s.trim().chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_alphabetic() => Some(c.to_ascii_uppercase() as u8 - b'A'),
            _ => None,
        }
    };
    let (lo, hi) = match text.split_once('-') {
        Some((a, b)) => (index(a).ok_or_else(bad)?, index(b).ok_or_else(bad)?),
        None => {
            let l = index(text).ok_or_else(bad)?;
            (l, l)
        }
    };
    if lo > hi {
        return Err(format!(
            "`{text}` runs backwards (write {}-{})",
            letter(hi),
            letter(lo)
        ));
    }
    Ok((lo, hi))
}

/// The capital letter with index `i` (0 = A).
fn letter(i: u8) -> char {
    char::from(b'A' + i)
}
