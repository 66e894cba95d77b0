//! Regions: clients spread over regions, an RTT matrix, geo-routing to the nearest healthy
//! region, DNS failover, and the data that crosses regions.
//!
//! ```text
//! [regions]
//! names = ["us-east", "us-west", "eu-west", "asia-southeast"]
//! # rtt_ms = [[...]]             default: the published matrix below, for these names
//! detect = "30s"                 health checks notice a region down (or back) after this
//! dns_ttl = "60s"                then resolvers pick the new answer over one TTL
//! transfer_price_gb = 0.02       cross-region transfer, per GB
//! outage = { region = "us-east", at = "20m", for = "15m" }
//!
//! [classes.browse-eu]
//! region = "eu-west"             where its clients are
//! path = [{ geo = { us-east = ["app-us"], eu-west = ["app-eu"] }, kb = 60 }, ...]
//! ```
//!
//! A `geo` step sends the request to a region among its arms: the client's own region when
//! DNS sends it there, else the nearest (smallest RTT) healthy region with an arm. The request
//! pays one RTT between the client's region and the serving region (a request and its
//! response over a kept-alive connection; 0 inside a region), then runs that region's arm. A
//! `{ rtt = "us-east", kb = 2 }` step pays the RTT from the region serving the request to the
//! named one (a call to a primary database in another region).
//!
//! **Outage.** From `at`, the region serves nothing; a request DNS still sends there fails at
//! once with a connection error. Health checks notice after `detect`, and resolvers move over
//! one `dns_ttl`: `t` after the detection, a share `t / dns_ttl` of the lookups get the new
//! answer (every cached record expires within one TTL, uniformly). The return after `for` is
//! the same in reverse. Writes lost with the region are the replicated database's
//! (`failover` at the same time, `writes_lost`).
//!
//! **Transfer.** A request served outside its client's region moves its `kb` across regions; so
//! does an `rtt` hop between two regions. Billed at `transfer_price_gb` as
//! `egress_cost_per_hour` (in the strategy's cost).
//!
//! Metrics (component `regions`, kind `regions`): `served.REGION`, `served_remote` (outside the
//! client's region), `dns_errors` (sent to a region that was down), `cross_region_gb`,
//! `egress_cost_per_hour`. Gauges: `up.REGION` (1 up, 0 down), `dns_away.REGION` (share of
//! lookups for the region's clients that go elsewhere).

use crate::engine::Rng;

/// Round-trip times between AWS regions, ms (medians published by CloudPing,
/// cloudping.co, "AWS inter-region latency", p50 over one year): us-east-1, us-west-2,
/// eu-west-1, ap-southeast-1, sa-east-1. Read with the guide's names (`us-east`, `us-west`,
/// `eu-west`, `asia-southeast`) and `sa-east`.
pub const PUBLISHED_RTT_MS: [(&str, &str, f64); 10] = [
    ("us-east", "us-west", 64.0),
    ("us-east", "eu-west", 68.0),
    ("us-east", "asia-southeast", 213.0),
    ("us-east", "sa-east", 115.0),
    ("us-west", "eu-west", 125.0),
    ("us-west", "asia-southeast", 165.0),
    ("us-west", "sa-east", 175.0),
    ("eu-west", "asia-southeast", 170.0),
    ("eu-west", "sa-east", 180.0),
    ("asia-southeast", "sa-east", 325.0),
];

/// The published RTT between two of the known regions, ms (0 for a region with itself).
pub fn published_rtt(a: &str, b: &str) -> Option<f64> {
    if a == b {
        return Some(0.0);
    }
    PUBLISHED_RTT_MS
        .iter()
        .find(|(x, y, _)| (*x == a && *y == b) || (*x == b && *y == a))
        .map(|r| r.2)
}

/// A region outage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outage {
    /// The region.
    pub region: u16,
    /// Start, ns.
    pub at: u64,
    /// Length, ns.
    pub length: u64,
}

/// The regions' configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RegionsSpec {
    /// Names.
    pub names: Vec<String>,
    /// Round-trip times, ns: `rtt[a][b]`.
    pub rtt: Vec<Vec<u64>>,
    /// Health-check detection time, ns.
    pub detect: u64,
    /// DNS TTL, ns.
    pub dns_ttl: u64,
    /// Price of a GB crossing regions.
    pub transfer_price_gb: f64,
    /// An outage.
    pub outage: Option<Outage>,
}

impl RegionsSpec {
    /// Whether region `r` is down at `now`.
    pub fn down(&self, r: u16, now: u64) -> bool {
        self.outage
            .is_some_and(|o| o.region == r && now >= o.at && now < o.at.saturating_add(o.length))
    }

    /// The share of DNS lookups for region `r` that point elsewhere at `now` (0 before the
    /// outage is detected, 1 once one TTL has passed, and back).
    pub fn dns_away(&self, r: u16, now: u64) -> f64 {
        let Some(o) = self.outage.filter(|o| o.region == r) else {
            return 0.0;
        };
        let ramp = |since: u64| -> f64 {
            let t = now.saturating_sub(since.saturating_add(self.detect));
            if now < since.saturating_add(self.detect) {
                0.0
            } else if self.dns_ttl == 0 {
                1.0
            } else {
                (t as f64 / self.dns_ttl as f64).min(1.0)
            }
        };
        let end = o.at.saturating_add(o.length);
        if now < end {
            ramp(o.at)
        } else {
            1.0 - ramp(end)
        }
    }
}

/// Regions during one replication: routing decisions and counters.
#[derive(Debug, Clone)]
pub struct Regions {
    spec: RegionsSpec,
    rng: Rng,
    served: Vec<u64>,
    remote: u64,
    dns_errors: u64,
    bytes: f64,
    warm: (Vec<u64>, u64, u64, f64),
    /// Per client region: every region, nearest first (itself first).
    order: Vec<Vec<u16>>,
}

/// Where a geo step sends a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Served by this region, after this RTT (ns).
    Region(u16, u64),
    /// Sent to a region that is down.
    Down,
    /// No region with an arm is healthy.
    None,
}

impl Regions {
    /// The regions, drawing DNS answers from `rng`.
    pub fn new(spec: RegionsSpec, rng: Rng) -> Regions {
        let n = spec.names.len();
        let order = (0..n)
            .map(|c| {
                let mut o: Vec<u16> = (0..n as u16).collect();
                o.sort_by_key(|&r| (r as usize != c, spec.rtt[c][r as usize], r));
                o
            })
            .collect();
        Regions {
            order,
            spec,
            rng,
            served: vec![0; n],
            remote: 0,
            dns_errors: 0,
            bytes: 0.0,
            warm: (vec![0; n], 0, 0, 0.0),
        }
    }

    /// Whether regions are configured.
    pub fn is_empty(&self) -> bool {
        self.spec.names.is_empty()
    }

    /// The RTT between two regions, ns.
    #[inline]
    pub fn rtt(&self, a: u16, b: u16) -> u64 {
        self.spec.rtt[a as usize][b as usize]
    }

    /// Picks the region serving a client of region `client` among those with an arm
    /// (`has_arm`), at `now`: the nearest one (its own first) whose DNS record still points to
    /// it (a record moved away is skipped with the probability [`RegionsSpec::dns_away`]).
    /// Counts `kb` crossing regions when it is not the client's.
    pub fn pick(&mut self, client: u16, now: u64, kb: f64, has_arm: impl Fn(u16) -> bool) -> Pick {
        let mut chosen = None;
        for k in 0..self.order[client as usize].len() {
            let r = self.order[client as usize][k];
            if !has_arm(r) {
                continue;
            }
            let away = self.spec.dns_away(r, now);
            if away >= 1.0 || (away > 0.0 && self.rng.next_f64() < away) {
                continue;
            }
            chosen = Some(r);
            break;
        }
        let Some(region) = chosen else {
            return Pick::None;
        };
        if self.spec.down(region, now) {
            self.dns_errors += 1;
            return Pick::Down;
        }
        self.served[region as usize] += 1;
        if region != client {
            self.remote += 1;
            self.bytes += kb * 1e3;
        }
        Pick::Region(region, self.rtt(client, region))
    }

    /// A hop from region `from` to `to` carrying `kb`: its RTT, ns.
    pub fn hop(&mut self, from: u16, to: u16, kb: f64) -> u64 {
        if from != to {
            self.bytes += kb * 1e3;
        }
        self.rtt(from, to)
    }

    /// Starts measuring.
    pub fn mark_warm(&mut self) {
        self.warm = (
            self.served.clone(),
            self.remote,
            self.dns_errors,
            self.bytes,
        );
    }

    /// Gauges at `now`: per region, up and the share of its clients sent elsewhere.
    pub fn sample(&self, now: u64, out: &mut Vec<f64>) {
        for r in 0..self.spec.names.len() as u16 {
            out.push(if self.spec.down(r, now) { 0.0 } else { 1.0 });
            out.push(self.spec.dns_away(r, now));
        }
    }

    /// The gauge names, in [`Regions::sample`]'s order.
    pub fn gauge_names(&self) -> Vec<String> {
        self.spec
            .names
            .iter()
            .flat_map(|n| [format!("up.{n}"), format!("dns_away.{n}")])
            .collect()
    }

    /// Metrics over a measured window of `window_ns`.
    pub fn metrics(&self, window_ns: f64) -> Vec<(String, f64)> {
        let (served, remote, errors, bytes) = &self.warm;
        let gb = (self.bytes - bytes) / 1e9;
        let hours = window_ns / 3.6e12;
        let mut m: Vec<(String, f64)> = self
            .spec
            .names
            .iter()
            .enumerate()
            .map(|(r, n)| (format!("served.{n}"), (self.served[r] - served[r]) as f64))
            .collect();
        m.push(("served_remote".into(), (self.remote - remote) as f64));
        m.push(("dns_errors".into(), (self.dns_errors - errors) as f64));
        m.push(("cross_region_gb".into(), gb));
        m.push((
            "egress_cost_per_hour".into(),
            if hours > 0.0 {
                gb * self.spec.transfer_price_gb / hours
            } else {
                0.0
            },
        ));
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn spec() -> RegionsSpec {
        let names: Vec<String> = ["us-east", "eu-west", "asia-southeast"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let rtt = names
            .iter()
            .map(|a| {
                names
                    .iter()
                    .map(|b| (published_rtt(a, b).unwrap() * 1e6) as u64)
                    .collect()
            })
            .collect();
        RegionsSpec {
            names,
            rtt,
            detect: 30 * S,
            dns_ttl: 60 * S,
            transfer_price_gb: 0.02,
            outage: Some(Outage {
                region: 0,
                at: 100 * S,
                length: 300 * S,
            }),
        }
    }

    #[test]
    fn the_published_matrix_is_symmetric_and_complete_for_the_guide_regions() {
        let names = ["us-east", "us-west", "eu-west", "asia-southeast", "sa-east"];
        for a in names {
            for b in names {
                assert_eq!(published_rtt(a, b), published_rtt(b, a));
                assert!(published_rtt(a, b).is_some(), "{a} {b}");
            }
        }
    }

    #[test]
    fn dns_moves_clients_over_one_ttl_after_detection_and_back() {
        let s = spec();
        assert_eq!(s.dns_away(0, 110 * S), 0.0, "not detected yet");
        assert!(
            (s.dns_away(0, 160 * S) - 0.5).abs() < 1e-9,
            "half a TTL after detection"
        );
        assert_eq!(s.dns_away(0, 200 * S), 1.0);
        assert_eq!(s.dns_away(0, 420 * S), 1.0, "back, not detected yet");
        assert!((s.dns_away(0, 460 * S) - 0.5).abs() < 1e-9);
        assert_eq!(s.dns_away(0, 500 * S), 0.0);
        assert_eq!(s.dns_away(1, 160 * S), 0.0, "other regions unaffected");
    }

    #[test]
    fn an_outage_fails_requests_until_dns_moves_them_to_the_nearest_region() {
        let mut r = Regions::new(spec(), Rng::seed_from(1));
        let all = |_: u16| true;
        assert_eq!(r.pick(0, 50 * S, 1.0, all), Pick::Region(0, 0));
        assert_eq!(r.pick(0, 120 * S, 1.0, all), Pick::Down);
        // Fully moved: the nearest healthy region is eu-west, 68 ms away.
        assert_eq!(r.pick(0, 300 * S, 1.0, all), Pick::Region(1, 68_000_000));
        assert_eq!(r.pick(2, 300 * S, 1.0, all), Pick::Region(2, 0));
        // A region without an arm sends its clients to the nearest one that has one.
        assert_eq!(
            r.pick(2, 50 * S, 1.0, |x| x != 2),
            Pick::Region(1, 170_000_000)
        );
        let m: std::collections::HashMap<String, f64> = r.metrics(3.6e12).into_iter().collect();
        assert_eq!(m["dns_errors"], 1.0);
        assert_eq!(m["served_remote"], 2.0);
        assert!((m["cross_region_gb"] - 2e-6).abs() < 1e-12);
    }
}
