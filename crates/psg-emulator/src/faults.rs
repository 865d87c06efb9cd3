//! Seeded fault injection: which API request fails, and how.

use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// Answer with this status (500, 502, 503, 504 or 429).
    Status(u16),
    /// Close the connection without answering.
    Reset,
    /// Stall past a typical client timeout before answering.
    Slow,
    /// Carry out the request, then close the connection without answering:
    /// the client cannot know whether it took effect.
    Lost,
    /// Hold a write (create, update or delete) for the configured late delay,
    /// then carry it out even if the client has gone: a commit that lands after
    /// the client gave up. Reads pass untouched.
    Late,
}

impl Fault {
    /// The name used in specs and statistics (`500`, `reset`, `slow`).
    pub fn name(self) -> String {
        match self {
            Fault::Status(s) => s.to_string(),
            Fault::Reset => "reset".into(),
            Fault::Slow => "slow".into(),
            Fault::Lost => "lost".into(),
            Fault::Late => "late".into(),
        }
    }
}

/// Probabilities of each fault, e.g. `500=0.05,503=0.05,429=0.05,reset=0.02,slow=0.01`.
/// `lost=P` carries out the request and then drops the answer; `late=P` holds a
/// write for the late delay and then commits it, whether or not the client waited.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSpec {
    /// API-route faults in the order given.
    pub api: Vec<(Fault, f64)>,
    /// Probability that `/oauth/token` answers 500 (`token500=P`).
    pub token500: f64,
}

impl FromStr for FaultSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut spec = FaultSpec::default();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, p) = item
                .split_once('=')
                .ok_or_else(|| format!("invalid fault {item:?}: expected KIND=PROBABILITY, e.g. 500=0.05"))?;
            let p: f64 =
                p.trim().parse().ok().filter(|p: &f64| (0.0..=1.0).contains(p)).ok_or_else(|| {
                    format!("invalid probability in {item:?}: expected a number from 0 to 1")
                })?;
            let fault = match key.trim() {
                "token500" => {
                    spec.token500 = p;
                    continue;
                }
                "reset" => Fault::Reset,
                "slow" => Fault::Slow,
                "lost" => Fault::Lost,
                "late" => Fault::Late,
                code @ ("429" | "500" | "502" | "503" | "504") => {
                    Fault::Status(code.parse().expect("listed code"))
                }
                other => {
                    return Err(format!(
                        "unknown fault kind {other:?}: use 429, 500, 502, 503, 504, reset, slow, lost, late or token500"
                    ));
                }
            };
            spec.api.push((fault, p));
        }
        let total: f64 = spec.api.iter().map(|(_, p)| p).sum();
        if total > 1.0 + 1e-9 {
            return Err(format!("fault probabilities add up to {total}, more than 1"));
        }
        Ok(spec)
    }
}

/// Draws faults from a seeded generator: the same seed and the same order of
/// requests give the same faults.
#[derive(Debug)]
pub struct FaultInjector {
    spec: FaultSpec,
    rng: ChaCha8Rng,
}

impl FaultInjector {
    /// A generator for `spec` seeded with `seed`.
    pub fn new(spec: FaultSpec, seed: u64) -> Self {
        FaultInjector { spec, rng: ChaCha8Rng::seed_from_u64(seed) }
    }

    /// The fault for the next API request, if any.
    pub fn next_api(&mut self) -> Option<Fault> {
        if self.spec.api.is_empty() {
            return None;
        }
        let draw: f64 = self.rng.random();
        let mut acc = 0.0;
        for &(fault, p) in &self.spec.api {
            acc += p;
            if draw < acc {
                return Some(fault);
            }
        }
        None
    }

    /// Whether the next token request fails with 500.
    pub fn next_token_fails(&mut self) -> bool {
        self.spec.token500 > 0.0 && self.rng.random::<f64>() < self.spec.token500
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parses_every_kind() {
        let s: FaultSpec = "500=0.05,503=0.05,429=0.05,reset=0.02,slow=0.01,lost=0.01,late=0.01,token500=0.5"
            .parse()
            .unwrap();
        assert_eq!(s.api.len(), 7);
        assert_eq!(s.api[6], (Fault::Late, 0.01));
        assert_eq!(s.token500, 0.5);
        assert!("teapot=0.1".parse::<FaultSpec>().unwrap_err().contains("unknown fault kind"));
        assert!("500=2".parse::<FaultSpec>().is_err());
        assert!("500=0.6,503=0.6".parse::<FaultSpec>().unwrap_err().contains("more than 1"));
    }

    proptest::proptest! {
        #[test]
        fn valid_specs_round_trip(items in proptest::collection::vec(
            (proptest::sample::select(vec!["429", "500", "502", "503", "504", "reset", "slow", "lost", "late"]), 0u32..=100),
            0..8,
        ), token in 0u32..=1000) {
            // Scale so that the probabilities add up to at most 1.
            let text: Vec<String> = items.iter().map(|(k, p)| format!("{k}={}", f64::from(*p) / 1000.0)).collect();
            let text = format!("{},token500={}", text.join(","), f64::from(token) / 1000.0);
            let spec: FaultSpec = text.parse().unwrap();
            proptest::prop_assert_eq!(spec.api.len(), items.len());
            for ((fault, p), (kind, q)) in spec.api.iter().zip(&items) {
                proptest::prop_assert_eq!(fault.name(), kind.to_string());
                proptest::prop_assert_eq!(*p, f64::from(*q) / 1000.0);
            }
            proptest::prop_assert_eq!(spec.token500, f64::from(token) / 1000.0);
        }
    }

    #[test]
    fn same_seed_same_faults_and_rates_roughly_hold() {
        let spec: FaultSpec = "500=0.1,reset=0.1".parse().unwrap();
        let draw = |seed| {
            let mut f = FaultInjector::new(spec.clone(), seed);
            (0..2000).map(|_| f.next_api()).collect::<Vec<_>>()
        };
        let a = draw(7);
        assert_eq!(a, draw(7));
        assert_ne!(a, draw(8));
        let resets = a.iter().filter(|f| **f == Some(Fault::Reset)).count();
        let errors = a.iter().filter(|f| **f == Some(Fault::Status(500))).count();
        assert!((120..280).contains(&resets) && (120..280).contains(&errors), "{resets} {errors}");
    }
}
