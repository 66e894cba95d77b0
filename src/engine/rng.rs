//! Portable, seedable random streams.
//!
//! The generator is xoshiro256++ (Blackman and Vigna), seeded through SplitMix64. Its output is
//! fixed by this file alone, so results do not change when a dependency does. It implements
//! `rand_core`'s `TryRng` (hence `rand::Rng`), so `rand_distr` distributions can sample from it.

use std::convert::Infallible;

/// A xoshiro256++ random stream.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

/// SplitMix64's increment (the golden ratio in 64 bits).
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// A well-mixed 64-bit hash of `z`: the SplitMix64 output for state `z` (Steele, Lea and Flood).
/// A bijection, so distinct inputs give distinct outputs. The one mixing function of the crate:
/// it seeds the random streams here, and the real drivers use it to spread ids and derive their
/// streams, so both sides hash alike.
#[inline]
pub fn mix64(z: u64) -> u64 {
    let mut z = z.wrapping_add(GOLDEN_GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One step of a SplitMix64 generator whose state is `x`.
#[inline]
fn splitmix64(x: &mut u64) -> u64 {
    let out = mix64(*x);
    *x = x.wrapping_add(GOLDEN_GAMMA);
    out
}

/// The seed of the stream named `name` in a run seeded with `seed` (FNV-1a of the name, mixed).
pub fn stream_seed(seed: u64, name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    let mut x = seed ^ h.rotate_left(17);
    splitmix64(&mut x) ^ h
}

impl Rng {
    /// A stream from a 64-bit seed.
    pub fn seed_from(seed: u64) -> Rng {
        let mut x = seed;
        let s = [
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
        ];
        Rng { s }
    }

    /// The stream named `name` of a run seeded with `seed`.
    pub fn stream(seed: u64, name: &str) -> Rng {
        Rng::seed_from(stream_seed(seed, name))
    }

    /// Next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1), 53 bits.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in (0, 1], never zero (safe for `ln`).
    #[inline]
    pub fn next_open01(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` (n > 0), by Lemire's multiply-shift (negligible bias for n << 2^64).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
}

impl rand::TryRng for Rng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next_u64() >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(Rng::stream(7, "db"), |r, _: u64| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(Rng::stream(7, "db"), |r, _: u64| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(Rng::stream(7, "app"), |r, _: u64| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    /// Reference output of xoshiro256++ for the state {1, 2, 3, 4} (from the authors' C code).
    #[test]
    fn xoshiro_reference_vector() {
        let mut r = Rng { s: [1, 2, 3, 4] };
        assert_eq!(r.next_u64(), 41943041);
        assert_eq!(r.next_u64(), 58720359);
        assert_eq!(r.next_u64(), 3588806011781223);
    }

    /// SplitMix64 reference output for the seed 1234567 (from Vigna's `splitmix64.c`), so the
    /// streams, and the real drivers' hashes, stay what they were.
    #[test]
    fn splitmix_reference_vector() {
        let mut x = 1_234_567;
        let got: Vec<u64> = (0..3).map(|_| splitmix64(&mut x)).collect();
        assert_eq!(
            got,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423
            ]
        );
        assert_eq!(mix64(1_234_567), got[0]);
    }

    #[test]
    fn uniform_mean_is_half() {
        let mut r = Rng::seed_from(1);
        let n = 200_000;
        let m: f64 = (0..n).map(|_| r.next_f64()).sum::<f64>() / n as f64;
        assert!((m - 0.5).abs() < 0.005, "{m}");
    }
}
