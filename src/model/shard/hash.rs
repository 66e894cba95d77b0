//! Stateless hash routers: hash modulo N, and jump consistent hash.

use crate::engine::mix64;

/// `mix64(key) mod N`: even, but growing N to N+1 moves a share N/(N+1) of the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashMod {
    n: u64,
}

impl HashMod {
    /// Over `shards` shards (at least 1).
    pub fn new(shards: usize) -> Result<HashMod, String> {
        check_shards(shards)?;
        Ok(HashMod { n: shards as u64 })
    }

    /// The shard of `key`.
    #[inline]
    pub fn route(&self, key: u64) -> usize {
        (mix64(key) % self.n) as usize
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.n as usize
    }
}

/// Lamping and Veach's jump consistent hash ("A Fast, Minimal Memory, Consistent Hash
/// Algorithm", 2014) of `mix64(key)`: no state but N, even shares, and growing N to N+1 moves
/// a share 1/(N+1) of the keys, all to the new shard. Shards can only be added or removed at the
/// end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jump {
    n: i64,
}

impl Jump {
    /// Over `shards` shards (at least 1).
    pub fn new(shards: usize) -> Result<Jump, String> {
        check_shards(shards)?;
        Ok(Jump { n: shards as i64 })
    }

    /// The shard of `key`.
    #[inline]
    pub fn route(&self, key: u64) -> usize {
        jump(mix64(key), self.n) as usize
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.n as usize
    }
}

/// The paper's algorithm: the key seeds a 64-bit LCG whose draws give the next bucket the key
/// would jump to as buckets are added; the last jump below `n` is the answer.
#[inline]
pub fn jump(mut key: u64, n: i64) -> i64 {
    // The jump target is kept as the real `x` whose truncation the paper takes: for x >= 0
    // and an integer n, trunc(x) < n exactly when x < n, so the loop test need not wait for the
    // conversion.
    let (mut b, mut x, n) = (-1i64, 0f64, n as f64);
    while x < n {
        b = x as i64;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        // `(key >> 33) + 1` is at most 2^31: converting it as i64 is one instruction.
        let draw = ((key >> 33) + 1) as i64 as f64;
        x = (b + 1) as f64 * (TWO_31 / draw);
    }
    b
}

/// 2^31, the LCG draw's range.
const TWO_31: f64 = (1u64 << 31) as f64;

/// At least one shard, and few enough to index with `u32`.
pub(super) fn check_shards(shards: usize) -> Result<(), String> {
    match shards {
        0 => Err("shards must be at least 1, not 0".into()),
        s if s > u32::MAX as usize => Err(format!("shards must be at most {}, not {s}", u32::MAX)),
        _ => Ok(()),
    }
}
