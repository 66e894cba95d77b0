//! Splitting a sweep across machines and merging the parts.
//!
//! Shard `I` of `N` runs a contiguous block of sweep points; shard 0 also runs the base point
//! (summary strategies, time series, CDFs) and the capacity search. Every task's seed depends
//! only on the root seed and the replication index, so a point gives the same numbers in any
//! shard, and [`merge_reports`] (shard 0's report plus the other shards' points, in shard order)
//! equals the single-run result exactly.

use std::ops::Range;
use std::str::FromStr;

use crate::report::summary::Report;

/// Shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// 0-based index.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// The sweep points this shard runs, out of `total`.
    pub fn range(&self, total: usize) -> Range<usize> {
        (self.index * total / self.count)..((self.index + 1) * total / self.count)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}`: expected I/N with 0 <= I < N, like 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// Merges shard reports (any order) into the single-run report.
pub fn merge_reports(mut parts: Vec<(Shard, Report)>) -> Result<Report, String> {
    parts.sort_by_key(|(s, _)| s.index);
    let count = parts
        .first()
        .map(|(s, _)| s.count)
        .ok_or("no shard outputs given")?;
    if parts.len() != count
        || parts
            .iter()
            .enumerate()
            .any(|(i, (s, _))| s.index != i || s.count != count)
    {
        let have: Vec<String> = parts
            .iter()
            .map(|(s, _)| format!("{}/{}", s.index, s.count))
            .collect();
        return Err(format!(
            "need every shard 0..{count} exactly once, got {}",
            have.join(", ")
        ));
    }
    let hash = parts[0].1.summary.scenario_hash.clone();
    if let Some((s, _)) = parts.iter().find(|(_, r)| r.summary.scenario_hash != hash) {
        return Err(format!(
            "shard {}/{} ran a different scenario (hash differs)",
            s.index, s.count
        ));
    }
    let mut iter = parts.into_iter();
    let (_, mut report) = iter.next().expect("checked non-empty");
    for (_, r) in iter {
        report.summary.points.extend(r.summary.points);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_point_once() {
        for total in 0..20 {
            for count in 1..6 {
                let covered: Vec<usize> = (0..count)
                    .flat_map(|index| Shard { index, count }.range(total))
                    .collect();
                assert_eq!(covered, (0..total).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn parse() {
        assert_eq!("1/4".parse::<Shard>(), Ok(Shard { index: 1, count: 4 }));
        assert!("4/4".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }
}
