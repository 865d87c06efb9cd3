//! `psg-bench peer-loop MEASURE`: psg's side of the comparison with
//! SailPoint's SDKs, as a process of its own like `bench/peers.py` and
//! `bench/peers.js`, reading the same environment and printing the same JSON
//! line.
//!
//! psg-ext runs with its defaults (page concurrency, retries) and its
//! client-side limit set to the emulator's (`PSG_BENCH_RATE_LIMIT`, `off` for
//! the gets, whose emulator has no limit), on the API version
//! `PSG_BENCH_API_VERSION` (`beta` when unset; `v1` beside the 2.x Python SDK).

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use psg_ext::{Client, GroupSpec, RateLimit};
use serde::{Deserialize, Serialize};

/// What one timed loop reports (the JSON line every tool prints).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LoopResult {
    /// Seconds of the timed loop (the token and warm-up come before).
    pub seconds: f64,
    /// Operations that succeeded (groups listed, gets or creates).
    pub ok: u64,
    /// Operations that failed.
    pub failed: u64,
    /// Failures by HTTP status (or error kind when there was no answer).
    #[serde(default)]
    pub statuses: BTreeMap<String, u64>,
}

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).with_context(|| format!("{name} is not set (run through `cargo xtask bench`)"))
}

fn env_number(name: &str, default: Option<usize>) -> anyhow::Result<usize> {
    match (std::env::var(name), default) {
        (Err(_), Some(d)) => Ok(d),
        _ => {
            let text = env(name)?;
            text.trim().parse().with_context(|| format!("{name}={text:?} is not a whole number"))
        }
    }
}

fn failure_key(e: &psg_ext::Error) -> String {
    e.status().map_or_else(|| "no answer".to_string(), |s| s.as_u16().to_string())
}

/// Runs one measure (`list`, `get` or `create`) and returns what it saw.
pub async fn run(measure: &str) -> anyhow::Result<LoopResult> {
    let base = env("PSG_BENCH_BASE")?;
    let n = env_number("PSG_BENCH_N", None)?;
    let concurrency = env_number("PSG_BENCH_CONCURRENCY", Some(16))?.max(1);
    let limit = env("PSG_BENCH_RATE_LIMIT")?;
    let limit =
        RateLimit::parse_setting(&limit).with_context(|| format!("PSG_BENCH_RATE_LIMIT={limit:?}"))?;
    // A user sets the client-side limit to the tenant's; the bench passes the
    // emulator's (100/10 s, ISC's documented default, unless a measure turns
    // it off).
    let version = std::env::var("PSG_BENCH_API_VERSION").unwrap_or_else(|_| "beta".into());
    let version: psg_ext::ApiVersion =
        version.parse().map_err(|e| anyhow::anyhow!("PSG_BENCH_API_VERSION={version:?}: {e}"))?;
    let mut builder = Client::builder()
        .base_url(&base)
        .client_credentials("psg-demo", "psg-demo-secret")
        .rate_limit(limit)
        .api_version(version);
    if std::env::var_os("PSG_BENCH_PAGE_CONCURRENCY").is_some() {
        // Not set by the bench (it measures the default); for trying others.
        builder = builder.page_concurrency(env_number("PSG_BENCH_PAGE_CONCURRENCY", None)?);
    }
    let mut out = LoopResult::default();
    match measure {
        "list" => {
            let client = builder.build()?;
            client.list_groups().limit(1).page().await?;
            let started = Instant::now();
            let listed =
                client.list_groups().stream().try_fold(0u64, |n, _| async move { Ok(n + 1) }).await?;
            out.seconds = started.elapsed().as_secs_f64();
            out.ok = listed;
        }
        "get" => {
            let client = builder.build()?;
            let id = env("PSG_BENCH_ID")?;
            client.get_group(&id).await?;
            let started = Instant::now();
            for _ in 0..n {
                match client.get_group(&id).await {
                    Ok(_) => out.ok += 1,
                    Err(e) => *out.statuses.entry(failure_key(&e)).or_default() += 1,
                }
            }
            out.seconds = started.elapsed().as_secs_f64();
        }
        "create" => {
            let client = builder.build()?;
            let policy = env("PSG_BENCH_POLICY")?;
            let sources: Vec<String> =
                env("PSG_BENCH_SOURCES")?.split(',').take(2).map(String::from).collect();
            let started = Instant::now();
            let results: Vec<_> = futures::stream::iter(0..n)
                .map(|i| {
                    let spec =
                        GroupSpec::new(format!("bench {i}")).password_policy(&policy).sources(&sources);
                    let client = client.clone();
                    async move { client.create_group(&spec).await }
                })
                .buffer_unordered(concurrency)
                .collect()
                .await;
            out.seconds = started.elapsed().as_secs_f64();
            for r in results {
                match r {
                    Ok(_) => out.ok += 1,
                    Err(e) => *out.statuses.entry(failure_key(&e)).or_default() += 1,
                }
            }
        }
        other => anyhow::bail!("unknown measure {other:?}: use list, get or create"),
    }
    out.failed = out.statuses.values().sum();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::LoopResult;

    /// The three tools print the same line; what the Python and Node loops
    /// print parses (statuses are optional, extra keys are ignored).
    #[test]
    fn loop_results_of_every_tool_parse() {
        let py = r#"{"seconds": 0.46, "ok": 2000, "failed": 0, "statuses": {}}"#;
        let node = r#"{"seconds":0.55,"ok":61,"failed":39,"statuses":{"429":39}}"#;
        let a: LoopResult = serde_json::from_str(py).unwrap();
        let b: LoopResult = serde_json::from_str(node).unwrap();
        assert_eq!((a.ok, a.failed), (2000, 0));
        assert_eq!(b.statuses.get("429"), Some(&39));
        let c: LoopResult = serde_json::from_str(r#"{"seconds":1,"ok":1,"failed":0}"#).unwrap();
        assert!(c.statuses.is_empty());
        assert!(serde_json::from_str::<LoopResult>(r#"{"ok":1}"#).is_err());
    }
}
