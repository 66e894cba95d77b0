//! Consistent hashing on a ring of virtual nodes, with and without bounded loads.

use crate::engine::mix64;

use super::hash::check_shards;

/// A consistent-hashing ring (Karger et al., STOC 1997): each shard puts `V` points on the
/// 64-bit circle; a key belongs to the shard of the first point at or after `mix64(key)`,
/// wrapping around. Points depend on the seed, the shard and the virtual node only, so adding a
/// shard moves only the keys that its new points take over.
///
/// The search is a binary search of the sorted points, narrowed first by a table of where each
/// of 2^b equal slices of the circle starts (b = log2 of the points, plus one, at most 16): a
/// slice holds half a point on average, so a lookup reads two table entries and a point or two.
#[derive(Debug, Clone)]
pub struct Ring {
    /// Points, ascending.
    points: Vec<u64>,
    /// Shard of each point.
    owner: Vec<u32>,
    /// `first[i]`: index of the first point in slice `i` or later (`first[2^b]` = points).
    first: Vec<u32>,
    /// `64 - b`: a hash's slice is `h >> shift`.
    shift: u32,
    shards: usize,
}

impl Ring {
    /// A ring of `shards` shards with `vnodes` points each, placed by hashes of `seed`.
    pub fn new(shards: usize, vnodes: u32, seed: u64) -> Result<Ring, String> {
        check_shards(shards)?;
        if vnodes == 0 {
            return Err("vnodes must be at least 1, not 0".into());
        }
        if shards.saturating_mul(vnodes as usize) > 1 << 28 {
            return Err(format!(
                "shards * vnodes must be at most 2^28, not {shards} * {vnodes}"
            ));
        }
        let mut ring: Vec<(u64, u32)> = (0..shards as u32)
            .flat_map(|s| (0..vnodes).map(move |v| (point(seed, s, v), s)))
            .collect();
        ring.sort_unstable();
        let points: Vec<u64> = ring.iter().map(|p| p.0).collect();
        let bits = (usize::BITS - points.len().leading_zeros() + 1).min(16);
        let shift = 64 - bits;
        let slices = 1u64 << bits;
        let first = (0..=slices)
            .map(|i| match i < slices {
                true => points.partition_point(|p| *p < i << shift) as u32,
                false => points.len() as u32,
            })
            .collect();
        Ok(Ring {
            owner: ring.iter().map(|p| p.1).collect(),
            points,
            first,
            shift,
            shards,
        })
    }

    /// The shard of `key`.
    #[inline]
    pub fn route(&self, key: u64) -> usize {
        self.owner[self.slot(mix64(key))] as usize
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.shards
    }

    /// The share of the circle each shard owns (the arcs ending at its points): the share of
    /// uniformly hashed keys it gets.
    pub fn arc_shares(&self) -> Vec<f64> {
        let mut share = vec![0.0; self.shards];
        let n = self.points.len();
        for i in 0..n {
            let prev = self.points[(i + n - 1) % n];
            let arc = self.points[i].wrapping_sub(prev);
            let arc = if n == 1 { u64::MAX } else { arc };
            share[self.owner[i] as usize] += arc as f64 / 2f64.powi(64);
        }
        share
    }

    /// Index of the first point at or after `h`, wrapping to 0.
    #[inline]
    fn slot(&self, h: u64) -> usize {
        let slice = (h >> self.shift) as usize;
        let (lo, hi) = (self.first[slice] as usize, self.first[slice + 1] as usize);
        let i = lo + self.points[lo..hi].partition_point(|p| *p < h);
        if i == self.points.len() { 0 } else { i }
    }
}

/// Where virtual node `v` of shard `s` sits on the ring of `seed`.
fn point(seed: u64, s: u32, v: u32) -> u64 {
    mix64(seed ^ mix64((u64::from(s) << 32) | u64::from(v)))
}

/// Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, SODA 2018): with
/// `m` items placed, no shard takes more than `ceil((1 + eps) m / n)`. A new item goes to its
/// ring owner unless that shard is full, else to the next shard clockwise that is not; since
/// the capacities sum past `m`, every item is placed.
///
/// The load is whatever the caller counts: [`Bounded::place`] adds one item to the chosen
/// shard and [`Bounded::release`] takes one away. Placing per request and releasing when it
/// completes bounds requests in flight (as HAProxy's `hash-balance-factor`, from Vimeo, does);
/// placing each key once bounds keys assigned. The bound is checked when an item is placed:
/// a release never moves other items (the paper's re-placement on deletion is not done), so
/// after releases a shard may hold more than the capacity of the smaller `m` until its own
/// items leave.
#[derive(Debug, Clone)]
pub struct Bounded {
    ring: Ring,
    eps: f64,
    load: Vec<u64>,
    total: u64,
}

impl Bounded {
    /// Over `ring`, with slack `eps` (> 0, finite).
    pub fn new(ring: Ring, eps: f64) -> Result<Bounded, String> {
        if !(eps.is_finite() && eps > 0.0) {
            return Err(format!("eps must be finite and > 0, not {eps}"));
        }
        Ok(Bounded {
            load: vec![0; ring.shards],
            ring,
            eps,
            total: 0,
        })
    }

    /// Places one item with `key`: its shard, whose load grows by one.
    #[inline]
    pub fn place(&mut self, key: u64) -> usize {
        let cap = self.capacity(self.total + 1);
        let n = self.ring.points.len();
        let start = self.ring.slot(mix64(key));
        let mut s = self.ring.owner[start] as usize;
        for k in 1..=n {
            if self.load[s] < cap {
                break;
            }
            s = self.ring.owner[(start + k) % n] as usize;
        }
        self.load[s] += 1;
        self.total += 1;
        s
    }

    /// Ends one item placed on `shard`; false (and nothing changes) if it holds none.
    #[inline]
    pub fn release(&mut self, shard: usize) -> bool {
        match self.load.get_mut(shard) {
            Some(l) if *l > 0 => {
                *l -= 1;
                self.total -= 1;
                true
            }
            _ => false,
        }
    }

    /// The shard's capacity with `m` items: `ceil((1 + eps) m / n)`, at least `ceil(m / n)`.
    pub fn capacity(&self, m: u64) -> u64 {
        let n = self.load.len() as u64;
        let cap = ((1.0 + self.eps) * m as f64 / n as f64).ceil() as u64;
        cap.max(m.div_ceil(n))
    }

    /// Items each shard holds.
    pub fn loads(&self) -> &[u64] {
        &self.load
    }

    /// Items held in all.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The ring's own choice for `key`, ignoring loads.
    #[inline]
    pub fn owner(&self, key: u64) -> usize {
        self.ring.route(key)
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.ring.shards
    }
}
