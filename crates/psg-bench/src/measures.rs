//! Each measure of the benchmark, as a function returning a [`Measure`].

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use psg_emulator::{Emulator, EmulatorHandle, Latency, RateLimit as ServerLimit};
use psg_ext::{Client, GroupSpec, RateLimit};
use serde_json::json;

use crate::report::{Measure, median};

/// Sizes of one run.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub runs: usize,
    pub overhead_ops: usize,
    pub throughput_secs: f64,
    pub list_groups: usize,
    pub bulk_creates: usize,
    pub stream_small: usize,
    pub stream_large: usize,
    pub cli_runs: usize,
}

impl Sizes {
    pub fn full() -> Self {
        Sizes {
            runs: 5,
            overhead_ops: 2000,
            throughput_secs: 3.0,
            list_groups: 10_000,
            bulk_creates: 1000,
            stream_small: 1000,
            stream_large: 100_000,
            cli_runs: 30,
        }
    }
    pub fn quick() -> Self {
        Sizes {
            runs: 1,
            overhead_ops: 200,
            throughput_secs: 0.5,
            list_groups: 2000,
            bulk_creates: 200,
            stream_small: 500,
            stream_large: 5000,
            cli_runs: 5,
        }
    }
}

async fn emulator(
    configure: impl FnOnce(psg_emulator::EmulatorBuilder) -> psg_emulator::EmulatorBuilder,
) -> EmulatorHandle {
    configure(Emulator::builder().ephemeral().rate_limit(None)).start().await.expect("emulator starts")
}

fn client(base: &str, limit: Option<RateLimit>) -> Client {
    Client::builder()
        .base_url(base)
        .client_credentials("psg-demo", "psg-demo-secret")
        .rate_limit(limit)
        .build()
        .expect("client")
}

/// A plain reqwest client (with ring installed as the crypto provider, as
/// psg-ext does).
pub(crate) fn raw_http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().tcp_nodelay(true).build().unwrap()
}

async fn token(http: &reqwest::Client, base: &str) -> String {
    let body: serde_json::Value = http
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "psg-demo"),
            ("client_secret", "psg-demo-secret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

fn new_group(emu: &EmulatorHandle, i: usize) -> GroupSpec {
    let c = emu.catalog();
    GroupSpec::new(format!("bench {i}"))
        .password_policy(&c.password_policy_ids[0])
        .sources(&c.source_ids[..2])
}

/// psg-ext vs a bare reqwest loop, sequential get and create.
pub async fn client_overhead(s: Sizes) -> Measure {
    let emu = emulator(|b| b.groups(1)).await;
    let base = emu.base_url();
    let id = emu.groups()[0].id.clone();
    let ext = client(&base, None);
    ext.get_group(&id).await.unwrap(); // token and connection warm
    let raw = raw_http();
    let tok = token(&raw, &base).await;
    let body = json!({"name": "raw", "passwordPolicyId": emu.catalog().password_policy_ids[0], "sourceIds": &emu.catalog().source_ids[..2]});
    let (mut ext_rates, mut raw_rates) = (Vec::new(), Vec::new());
    for _ in 0..s.runs {
        let started = Instant::now();
        for i in 0..s.overhead_ops {
            if i % 2 == 0 {
                ext.get_group(&id).await.unwrap();
            } else {
                ext.create_group(&new_group(&emu, i)).await.unwrap();
            }
        }
        ext_rates.push(s.overhead_ops as f64 / started.elapsed().as_secs_f64());
        let started = Instant::now();
        for i in 0..s.overhead_ops {
            let r = if i % 2 == 0 {
                raw.get(format!("{base}/beta/password-sync-groups/{id}"))
                    .bearer_auth(&tok)
                    .send()
                    .await
                    .unwrap()
            } else {
                raw.post(format!("{base}/beta/password-sync-groups"))
                    .bearer_auth(&tok)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
            };
            let _: serde_json::Value = r.json().await.unwrap();
        }
        raw_rates.push(s.overhead_ops as f64 / started.elapsed().as_secs_f64());
    }
    let (e, r) = (median(&mut ext_rates), median(&mut raw_rates));
    Measure {
        name: "client overhead",
        method: format!(
            "{} sequential get/create alternating, psg-ext vs bare reqwest (same keep-alive), ops/s ratio",
            s.overhead_ops
        ),
        value: e / r,
        unit: "x raw",
        target: ">= 0.9x raw ops/s",
        met: e / r >= 0.9,
        details: json!({"psg_ops_per_s": e, "raw_ops_per_s": r, "psg_runs": ext_rates, "raw_runs": raw_rates}),
    }
}

/// Keep-alive GET /{id} from a few connections.
pub async fn emulator_throughput(s: Sizes) -> Measure {
    let emu = emulator(|b| b.groups(1)).await;
    let base = emu.base_url();
    let url = format!("{base}/beta/password-sync-groups/{}", emu.groups()[0].id);
    let http = raw_http();
    let tok = token(&http, &base).await;
    let mut rates = Vec::new();
    for _ in 0..s.runs {
        let deadline = Instant::now() + Duration::from_secs_f64(s.throughput_secs);
        let started = Instant::now();
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (http, url, tok) = (http.clone(), url.clone(), tok.clone());
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        let r = http.get(&url).bearer_auth(&tok).send().await.unwrap();
                        assert_eq!(r.status(), 200);
                        r.bytes().await.unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let total: u64 = futures::future::join_all(workers).await.into_iter().map(|r| r.unwrap()).sum();
        rates.push(total as f64 / started.elapsed().as_secs_f64());
    }
    let v = median(&mut rates);
    Measure {
        name: "emulator throughput",
        method: "keep-alive GET /{id}, 4 connections from a Rust reqwest loop in the same process, req/s"
            .into(),
        value: v,
        unit: "req/s",
        target: ">= 20,000 req/s",
        met: v >= 20_000.0,
        details: json!({"runs": rates}),
    }
}

/// Stream every group with 50 ms injected latency vs the lower bound.
pub async fn list_all_under_latency(s: Sizes) -> Measure {
    let rtt = Duration::from_millis(50);
    let emu = emulator(|b| b.groups(s.list_groups).latency(Latency { min: rtt, max: rtt })).await;
    let concurrency = client(&emu.base_url(), None).config().page_concurrency();
    let pages = s.list_groups.div_ceil(250);
    let rounds = 1 + (pages - 1).div_ceil(concurrency);
    let bound = rtt * rounds as u32;
    let mut times = Vec::new();
    for _ in 0..s.runs {
        // A fresh client per run: its limiter (100/10 s) starts empty, as a
        // user's process would.
        let ext = client(&emu.base_url(), Some(RateLimit::ISC_DEFAULT));
        ext.list_groups().limit(0).page().await.unwrap(); // token and connection warm
        let started = Instant::now();
        let n = ext.list_groups().stream().try_fold(0usize, |n, _| async move { Ok(n + 1) }).await.unwrap();
        assert_eq!(n, s.list_groups);
        times.push(started.elapsed().as_secs_f64());
    }
    let t = median(&mut times);
    let ratio = t / bound.as_secs_f64();
    Measure {
        name: "list-all under latency",
        method: format!(
            "{} groups, 50 ms latency, limit 250 ({pages} pages), concurrency {concurrency}; lower bound {rounds} RTT = {:.0} ms, sequential {:.0} ms",
            s.list_groups,
            bound.as_secs_f64() * 1000.0,
            (rtt * pages as u32).as_secs_f64() * 1000.0
        ),
        value: ratio,
        unit: "x bound",
        target: "<= 1.3x lower bound",
        met: ratio <= 1.3,
        details: json!({"seconds": t, "runs": times, "bound_s": bound.as_secs_f64(), "sequential_s": (rtt * pages as u32).as_secs_f64()}),
    }
}

/// Concurrent creates with server and client both at 100/1 s.
pub async fn bulk_create_under_rate_limit(s: Sizes) -> Vec<Measure> {
    let window = Duration::from_secs(1);
    let emu = emulator(|b| b.rate_limit(Some(ServerLimit { count: 100, window }))).await;
    let ext = client(&emu.base_url(), RateLimit::new(100, window).ok());
    let started = Instant::now();
    let results: Vec<_> = futures::stream::iter(0..s.bulk_creates)
        .map(|i| {
            let (ext, group) = (ext.clone(), new_group(&emu, i));
            async move { ext.create_group(&group).await }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let failed = results.iter().filter(|r| r.is_err()).count();
    let stats = emu.stats();
    let bound = (s.bulk_creates.div_ceil(100) - 1) as f64 * window.as_secs_f64();
    let ratio = elapsed / bound.max(window.as_secs_f64());
    vec![
        Measure {
            name: "bulk create time",
            method: format!(
                "{} creates, 32 in flight, emulator and client limiter at 100/1 s; rate bound {bound:.0} s (the first 100 go at once)",
                s.bulk_creates
            ),
            value: ratio,
            unit: "x bound",
            target: "<= 1.1x rate bound",
            met: ratio <= 1.1 && failed == 0,
            details: json!({"seconds": elapsed, "failed": failed, "groups": emu.groups().len()}),
        },
        Measure {
            name: "bulk create 429s",
            method: "429 answers counted by the emulator during the bulk create".into(),
            value: stats.rate_limited as f64,
            unit: "429s",
            target: "0",
            met: stats.rate_limited == 0,
            details: json!({"rate_limited": stats.rate_limited}),
        },
    ]
}

/// Peak RSS of a separate process streaming `groups` groups from `base`.
fn probe_rss(base: &str, groups: usize) -> f64 {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["rss-probe", "--base-url", base, "--expect", &groups.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "rss-probe failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Peak RSS streaming many vs few groups.
pub async fn streaming_memory(s: Sizes) -> Measure {
    let small = emulator(|b| b.groups(s.stream_small)).await;
    let large = emulator(|b| b.groups(s.stream_large)).await;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..s.runs.min(3) {
        let (su, lu) = (small.base_url(), large.base_url());
        let (x, y) = tokio::task::spawn_blocking(move || {
            (probe_rss(&su, s.stream_small), probe_rss(&lu, s.stream_large))
        })
        .await
        .unwrap();
        a.push(x);
        b.push(y);
    }
    let (small_kib, large_kib) = (median(&mut a), median(&mut b));
    let ratio = large_kib / small_kib;
    Measure {
        name: "streaming memory",
        method: format!(
            "peak RSS (VmHWM) of a process streaming {} vs {} groups",
            s.stream_large, s.stream_small
        ),
        value: ratio,
        unit: "ratio",
        target: "< 2",
        met: ratio < 2.0,
        details: json!({"small_kib": small_kib, "large_kib": large_kib}),
    }
}

/// The child side of [`streaming_memory`]: stream, count, print VmHWM in KiB.
pub async fn rss_probe(base: &str, expect: usize) -> anyhow::Result<()> {
    let ext = client(base, None);
    let mut stream = ext.list_groups().stream();
    let mut n = 0usize;
    while let Some(group) = stream.next().await {
        group?;
        n += 1;
    }
    anyhow::ensure!(n == expect, "streamed {n} groups, expected {expect}");
    let status = std::fs::read_to_string("/proc/self/status")?;
    let hwm =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:")).ok_or_else(|| anyhow::anyhow!("no VmHWM"))?;
    println!("{}", hwm.trim().trim_end_matches("kB").trim());
    Ok(())
}

/// `psg --version` wall time.
pub fn cli_start(s: Sizes, psg: &std::path::Path) -> Measure {
    let mut times = Vec::new();
    for _ in 0..s.cli_runs {
        let started = Instant::now();
        let status = std::process::Command::new(psg)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let v = median(&mut times);
    Measure {
        name: "CLI start",
        method: format!("wall time of `psg --version`, median of {} runs", s.cli_runs),
        value: v,
        unit: "ms",
        target: "< 20 ms",
        met: v < 20.0,
        details: json!({"runs_ms": times}),
    }
}
