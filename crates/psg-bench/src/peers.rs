//! psg against SailPoint's official SDKs, side by side in one run.
//!
//! Every tool runs its loop as a process of its own (`psg-bench peer-loop`,
//! `bench/peers.py` with sailpoint 1.4.2, `bench/peers.js` with
//! sailpoint-api-client) against a fresh in-process emulator configured the
//! same way for every tool and run, so rate windows and counters never mix.
//! Each loop prints one [`LoopResult`]; 429s are read from the emulator's
//! `/__emulator/stats`. Figures are medians over the runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use psg_emulator::{Emulator, EmulatorHandle, Latency, RateLimit as ServerLimit};
use serde::Serialize;
use serde_json::json;

use crate::psg_loop::LoopResult;
use crate::report::median;

/// Longest a single loop may take before it counts as not finished.
const LOOP_TIMEOUT: Duration = Duration::from_secs(300);

/// The tools compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Tool {
    /// psg-ext (through `psg-bench peer-loop`); cold start is the `psg` CLI.
    Psg,
    /// PyPI `sailpoint==1.4.2`, `sailpoint.beta`.
    Python,
    /// npm `sailpoint-api-client`.
    TypeScript,
    /// psg-ext on SailPoint's per-service layout (`ApiVersion::V1`,
    /// `/password-sync-groups/v1`); cold start is the same `psg` CLI.
    PsgV1,
    /// PyPI `sailpoint` 2.x, `sailpoint.password_sync_groups` (methods
    /// `*_v1`, `/password-sync-groups/v1`), compared with [`Tool::PsgV1`].
    Python2,
}

impl Tool {
    /// Column title.
    pub fn title(self) -> &'static str {
        match self {
            Tool::Psg => "psg",
            Tool::Python => "Python SDK 1.4.2",
            Tool::TypeScript => "TypeScript SDK",
            Tool::PsgV1 => "psg (v1)",
            Tool::Python2 => "Python SDK 2.x (v1)",
        }
    }

    /// The psg run a peer is compared with: the one on the same API layout.
    pub fn baseline(self) -> Tool {
        match self {
            Tool::Python2 | Tool::PsgV1 => Tool::PsgV1,
            Tool::Psg | Tool::Python | Tool::TypeScript => Tool::Psg,
        }
    }

    /// The SDKs (every tool but psg itself).
    pub const PEERS: [Tool; 3] = [Tool::Python, Tool::TypeScript, Tool::Python2];
}

/// Where the SDKs are; `None` means not installed (with the reason).
#[derive(Debug, Clone)]
pub struct PeerSetup {
    /// The psg binary (cold start).
    pub psg: PathBuf,
    /// Folder with `peers.py` and `peers.js`.
    pub scripts: PathBuf,
    /// The virtualenv's python with sailpoint 1.4.2.
    pub python: Result<PathBuf, String>,
    /// The folder holding `node_modules/sailpoint-api-client`.
    pub node: Result<PathBuf, String>,
    /// The virtualenv's python with sailpoint 2.x.
    pub python2: Result<PathBuf, String>,
}

impl PeerSetup {
    fn available(&self, tool: Tool) -> bool {
        match tool {
            Tool::Psg | Tool::PsgV1 => true,
            Tool::Python => self.python.is_ok(),
            Tool::TypeScript => self.node.is_ok(),
            Tool::Python2 => self.python2.is_ok(),
        }
    }

    /// Why `tool` is not available, if it is not.
    fn missing(&self, tool: Tool) -> Option<String> {
        match tool {
            Tool::Python => self.python.clone().err(),
            Tool::TypeScript => self.node.clone().err(),
            Tool::Python2 => self.python2.clone().err(),
            Tool::Psg | Tool::PsgV1 => None,
        }
    }
}

/// Sizes of the peer comparison.
#[derive(Debug, Clone, Copy)]
pub struct PeerSizes {
    pub runs: usize,
    pub list_groups: usize,
    pub gets: usize,
    pub creates: usize,
    /// The emulator's limit during the creates.
    pub create_limit: ServerLimit,
    pub in_flight: usize,
    pub start_runs: usize,
}

impl PeerSizes {
    pub fn full() -> Self {
        PeerSizes {
            runs: 5,
            list_groups: 10_000,
            gets: 1000,
            creates: 200,
            create_limit: ServerLimit::ISC,
            in_flight: 16,
            start_runs: 10,
        }
    }
    pub fn quick() -> Self {
        PeerSizes {
            runs: 1,
            list_groups: 2000,
            gets: 100,
            creates: 40,
            create_limit: ServerLimit { count: 20, window: Duration::from_secs(1) },
            in_flight: 16,
            start_runs: 3,
        }
    }
}

/// One tool's figures for one measure.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// Median seconds (milliseconds for cold start, see the row's unit).
    pub value: f64,
    /// 429 answers the emulator sent this tool (median over runs).
    pub rate_limited: u64,
    /// Whether every run completed every operation.
    pub finished: bool,
    /// Operations that succeeded in the median run.
    pub ok: u64,
    /// Runs in order.
    pub runs: Vec<serde_json::Value>,
}

/// One measure, every tool.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub name: String,
    pub unit: &'static str,
    pub method: String,
    pub target: String,
    pub met: bool,
    /// Per tool: its figures, or why there are none.
    pub cells: BTreeMap<&'static str, Result<Cell, String>>,
    /// Extra numbers (bounds, ratios).
    pub details: serde_json::Value,
    /// For the create measure: creates each tool attempted (its cells
    /// show 429s and how many were created).
    pub creates: Option<u64>,
}

impl Row {
    /// The figures of `tool`, when it ran.
    pub fn cell(&self, tool: Tool) -> Option<&Cell> {
        self.cells.get(tool.title()).and_then(|c| c.as_ref().ok())
    }
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct PeerReport {
    pub rows: Vec<Row>,
    /// Why a tool did not run, if it did not.
    pub missing: BTreeMap<&'static str, String>,
}

const TOOLS: [Tool; 5] = [Tool::Psg, Tool::Python, Tool::TypeScript, Tool::PsgV1, Tool::Python2];

/// Runs every peer measure.
pub async fn compare(setup: &PeerSetup, s: PeerSizes) -> PeerReport {
    let mut missing = BTreeMap::new();
    for tool in Tool::PEERS {
        if let Some(e) = setup.missing(tool) {
            missing.insert(tool.title(), e);
        }
    }
    eprintln!("peers: list-all under latency ...");
    let list = list_all(setup, s).await;
    eprintln!("peers: sequential get-by-id ...");
    let get = get_by_id(setup, s).await;
    eprintln!("peers: creates under the rate limit ...");
    let create = creates(setup, s).await;
    eprintln!("peers: cold start ...");
    let start = cold_start(setup, s).await;
    PeerReport { rows: vec![list, get, create, start], missing }
}

/// Environment shared by every loop.
struct LoopEnv {
    vars: Vec<(&'static str, String)>,
}

impl LoopEnv {
    fn new(emu: &EmulatorHandle, n: usize, in_flight: usize) -> Self {
        let c = emu.catalog();
        let limit = emu
            .config()
            .rate_limit
            .map_or_else(|| "off".to_string(), |l| format!("{}/{}", l.count, l.window.as_secs_f64()));
        let mut vars = vec![
            ("PSG_BENCH_BASE", emu.base_url()),
            ("PSG_BENCH_RATE_LIMIT", limit),
            ("PSG_BENCH_N", n.to_string()),
            ("PSG_BENCH_CONCURRENCY", in_flight.to_string()),
            ("PSG_BENCH_POLICY", c.password_policy_ids.first().cloned().unwrap_or_default()),
            ("PSG_BENCH_SOURCES", c.source_ids.join(",")),
        ];
        if let Some(g) = emu.groups().first() {
            vars.push(("PSG_BENCH_ID", g.id.clone()));
        }
        LoopEnv { vars }
    }
}

/// Runs `tool`'s loop for `measure` and parses its JSON line.
async fn run_loop(setup: &PeerSetup, tool: Tool, measure: &str, env: &LoopEnv) -> Result<LoopResult, String> {
    let mut cmd = match tool {
        Tool::Psg => {
            let mut c = tokio::process::Command::new(
                std::env::current_exe().map_err(|e| format!("cannot find psg-bench itself: {e}"))?,
            );
            c.args(["peer-loop", measure]).env("PSG_BENCH_API_VERSION", "beta");
            c
        }
        Tool::PsgV1 => {
            let mut c = tokio::process::Command::new(
                std::env::current_exe().map_err(|e| format!("cannot find psg-bench itself: {e}"))?,
            );
            c.args(["peer-loop", measure]).env("PSG_BENCH_API_VERSION", "v1");
            c
        }
        Tool::Python => {
            let python = setup.python.as_ref().map_err(Clone::clone)?;
            let mut c = tokio::process::Command::new(python);
            c.arg(setup.scripts.join("peers.py")).arg(measure).arg("sailpoint.beta");
            c
        }
        Tool::Python2 => {
            let python = setup.python2.as_ref().map_err(Clone::clone)?;
            let mut c = tokio::process::Command::new(python);
            c.arg(setup.scripts.join("peers.py")).arg(measure).arg("sailpoint.password_sync_groups");
            c
        }
        Tool::TypeScript => {
            let dir = setup.node.as_ref().map_err(Clone::clone)?;
            let mut c = tokio::process::Command::new("node");
            c.arg(setup.scripts.join("peers.js")).arg(measure).env("NODE_PATH", dir.join("node_modules"));
            c
        }
    };
    cmd.envs(env.vars.iter().map(|(k, v)| (*k, v.as_str()))).kill_on_drop(true);
    let out = tokio::time::timeout(LOOP_TIMEOUT, cmd.output())
        .await
        .map_err(|_| format!("did not finish within {} s", LOOP_TIMEOUT.as_secs()))?
        .map_err(|e| format!("cannot start {}: {e}", tool.title()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!("exited with {}: {}", out.status, stderr.lines().last().unwrap_or_default()));
    }
    parse_loop_output(&String::from_utf8_lossy(&out.stdout))
}

/// The last line of a loop's stdout that parses as a [`LoopResult`].
fn parse_loop_output(stdout: &str) -> Result<LoopResult, String> {
    stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l.trim()).ok())
        .ok_or_else(|| format!("printed no result line: {:?}", stdout.lines().last().unwrap_or_default()))
}

/// 429s the emulator has sent, from `/__emulator/stats`.
async fn rate_limited(emu: &EmulatorHandle) -> Result<u64, String> {
    let url = format!("{}/__emulator/stats", emu.base_url());
    let body: serde_json::Value = crate::measures::raw_http()
        .get(&url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("GET {url}: {e}"))?
        .json()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    body["rateLimited"].as_u64().ok_or_else(|| format!("GET {url}: no rateLimited count"))
}

async fn start(
    configure: impl FnOnce(psg_emulator::EmulatorBuilder) -> psg_emulator::EmulatorBuilder,
) -> Result<EmulatorHandle, String> {
    configure(Emulator::builder().ephemeral()).start().await.map_err(|e| format!("emulator: {e}"))
}

/// Runs `measure` for every available tool `s.runs` times, each on a fresh
/// emulator from `configure`; `expect` is the number of successes a
/// finished run has.
async fn measure_tools(
    setup: &PeerSetup,
    s: PeerSizes,
    measure: &str,
    n: usize,
    expect: u64,
    configure: impl Fn(psg_emulator::EmulatorBuilder) -> psg_emulator::EmulatorBuilder,
) -> BTreeMap<&'static str, Result<Cell, String>> {
    let mut runs: BTreeMap<&'static str, Result<Vec<Run>, String>> = BTreeMap::new();
    for tool in TOOLS {
        if !setup.available(tool) {
            runs.insert(tool.title(), Err(setup.missing(tool).unwrap_or_default()));
        } else {
            runs.insert(tool.title(), Ok(Vec::new()));
        }
    }
    // Tools alternate within each run so that a noisy moment hits all of them.
    for _ in 0..s.runs {
        for tool in TOOLS {
            if !matches!(runs.get(tool.title()), Some(Ok(_))) {
                continue;
            }
            let result = async {
                let emu = start(&configure).await?;
                let env = LoopEnv::new(&emu, n, s.in_flight);
                let r = run_loop(setup, tool, measure, &env).await?;
                let limited = rate_limited(&emu).await?;
                Ok::<_, String>((r, limited))
            }
            .await;
            match (result, runs.get_mut(tool.title())) {
                (Ok(r), Some(Ok(done))) => done.push(r),
                (Ok(_), _) => {}
                (Err(e), _) => {
                    eprintln!("  {} {measure}: {e}", tool.title());
                    runs.insert(tool.title(), Err(e));
                }
            }
        }
    }
    runs.into_iter().map(|(tool, r)| (tool, r.map(|runs| cell(&runs, expect)))).collect()
}

/// One run of a tool's loop and the 429s the emulator sent it.
type Run = (LoopResult, u64);

/// Medians of a tool's runs.
fn cell(runs: &[Run], expect: u64) -> Cell {
    let mut secs: Vec<f64> = runs.iter().map(|(r, _)| r.seconds).collect();
    let value = median(&mut secs);
    let median_run = runs.iter().find(|(r, _)| r.seconds == value).map(|(r, l)| (r.ok, *l));
    let (ok, rate_limited) = median_run.unwrap_or_default();
    Cell {
        value,
        rate_limited,
        finished: runs.iter().all(|(r, _)| r.ok == expect && r.failed == 0),
        ok,
        runs: runs
            .iter()
            .map(|(r, l)| json!({"seconds": r.seconds, "ok": r.ok, "failed": r.failed, "statuses": r.statuses, "rate_limited": l}))
            .collect(),
    }
}

/// How many times slower `peer` is than psg on the same API layout (peer
/// value / value of [`Tool::baseline`]): the 2.x Python SDK against psg on v1.
pub fn speedup(row: &Row, peer: Tool) -> Option<f64> {
    let (p, q) = (row.cell(peer.baseline())?, row.cell(peer)?);
    (p.value > 0.0 && p.finished && q.finished).then(|| q.value / p.value)
}

fn ratios(row: &Row) -> serde_json::Value {
    json!({
        "python_over_psg": speedup(row, Tool::Python),
        "typescript_over_psg": speedup(row, Tool::TypeScript),
        "python2_over_psg_v1": speedup(row, Tool::Python2),
    })
}

/// Every group behind 50 ms latency; the emulator keeps its default limit.
async fn list_all(setup: &PeerSetup, s: PeerSizes) -> Row {
    let rtt = Duration::from_millis(50);
    let n = s.list_groups;
    let cells =
        measure_tools(setup, s, "list", n, n as u64, |b| b.groups(n).latency(Latency { min: rtt, max: rtt }))
            .await;
    let pages = n.div_ceil(250);
    // psg-ext's default, which the psg loop uses.
    let concurrency = psg_ext::Client::builder()
        .base_url("http://127.0.0.1:1")
        .client_credentials("id", "secret")
        .build()
        .map_or(16, |c| c.config().page_concurrency());
    let rounds = 1 + (pages.saturating_sub(1)).div_ceil(concurrency);
    let mut row = Row {
        name: format!("list-all {}k @ 50 ms", n / 1000),
        unit: "s",
        method: format!(
            "{n} groups, 50 ms injected latency, emulator limit 100/10 s, pages of 250 ({pages}); SDKs through their own Paginator (told the count), psg-ext's stream (default page concurrency {concurrency}: lower bound {rounds} round trips = {} ms plus transfer; sequential paging {} ms)",
            rounds as u64 * 50,
            pages as u64 * 50
        ),
        target: ">= 5x faster than each SDK".into(),
        met: false,
        cells,
        details: json!({}),
        creates: None,
    };
    let ratio = ratios(&row);
    let psg = row.cell(Tool::Psg).map(|c| c.value);
    row.met = [Tool::Python, Tool::TypeScript].iter().all(|&t| speedup(&row, t).is_some_and(|r| r >= 5.0))
        && (setup.python2.is_err() || speedup(&row, Tool::Python2).is_some_and(|r| r >= 5.0));
    row.details = json!({"ratios": ratio, "lower_bound_s": rounds as f64 * 0.05, "rounds": rounds, "psg_over_bound": psg.map(|p| p / (rounds as f64 * 0.05))});
    row
}

/// Sequential gets of one id; no latency, no limit.
async fn get_by_id(setup: &PeerSetup, s: PeerSizes) -> Row {
    let n = s.gets;
    let cells = measure_tools(setup, s, "get", n, n as u64, |b| b.groups(1).rate_limit(None)).await;
    let mut row = Row {
        name: format!("{n} sequential get-by-id"),
        unit: "s",
        method: format!(
            "{n} gets of one id, one after the other, no injected latency, emulator limit off (psg's client-side limiter off too)"
        ),
        target: "faster than each SDK".into(),
        met: false,
        cells,
        details: json!({}),
        creates: None,
    };
    row.met = [Tool::Python, Tool::TypeScript].iter().all(|&t| speedup(&row, t).is_some_and(|r| r > 1.0))
        && (setup.python2.is_err() || speedup(&row, Tool::Python2).is_some_and(|r| r > 1.0));
    row.details = json!({"ratios": ratios(&row)});
    row
}

/// Creates under the emulator's limit, `in_flight` at once.
async fn creates(setup: &PeerSetup, s: PeerSizes) -> Row {
    let (n, limit) = (s.creates, s.create_limit);
    let cells = measure_tools(setup, s, "create", n, n as u64, |b| b.rate_limit(Some(limit))).await;
    let count = limit.count as usize;
    let bound = (n.div_ceil(count) - 1) as f64 * limit.window.as_secs_f64();
    let window = limit.window.as_secs_f64();
    let mut row = Row {
        name: format!("{n} creates under {}/{} s", limit.count, limit.window.as_secs_f64()),
        unit: "s",
        method: format!(
            "{n} creates, {} in flight, emulator limit {}/{} s (its default), each tool with its default retries; 429s counted by the emulator; rate bound {bound:.0} s (the first {} go at once)",
            s.in_flight, limit.count, window, limit.count
        ),
        target: "psg: 0 x 429, finished, <= 1.1x rate bound".into(),
        met: false,
        cells,
        details: json!({}),
        creates: Some(n as u64),
    };
    let psg = row.cell(Tool::Psg).map(|c| (c.value, c.rate_limited, c.finished));
    let over = psg.map(|(t, _, _)| t / bound.max(window));
    row.met = matches!(psg, Some((_, 0, true))) && over.is_some_and(|r| r <= 1.1);
    row.details = json!({"rate_bound_s": bound, "psg_over_bound": over});
    row
}

/// Median wall time of `cmd` over `runs` runs after one untimed run, in ms.
/// The cold start of `python -c "import MODULE"`, or why there is no such python.
async fn python_start(python: &Result<PathBuf, String>, module: &str, runs: usize) -> Result<Cell, String> {
    let python = python.as_ref().map_err(Clone::clone)?;
    let import = format!("import {module}");
    time_command(
        || {
            let mut c = tokio::process::Command::new(python);
            c.args(["-c", &import]);
            c
        },
        runs,
    )
    .await
}

async fn time_command(
    mut make: impl FnMut() -> tokio::process::Command,
    runs: usize,
) -> Result<Cell, String> {
    let mut times = Vec::new();
    let untimed = usize::from(runs > 1);
    for i in 0..runs + untimed {
        let started = Instant::now();
        let out =
            make().stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).output().await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                return Err(format!(
                    "exited with {}: {}",
                    o.status,
                    String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or_default()
                ));
            }
            Err(e) => return Err(e.to_string()),
        }
        if i >= untimed {
            times.push(ms);
        }
    }
    let runs_json = times.iter().map(|t| json!(t)).collect();
    Ok(Cell { value: median(&mut times), rate_limited: 0, finished: true, ok: runs as u64, runs: runs_json })
}

/// `psg --version` vs importing each SDK.
async fn cold_start(setup: &PeerSetup, s: PeerSizes) -> Row {
    let mut cells = BTreeMap::new();
    cells.insert(
        Tool::Psg.title(),
        time_command(
            || {
                let mut c = tokio::process::Command::new(&setup.psg);
                c.arg("--version");
                c
            },
            s.start_runs,
        )
        .await,
    );
    cells.insert(Tool::Python.title(), python_start(&setup.python, "sailpoint.beta", s.start_runs).await);
    cells.insert(
        Tool::Python2.title(),
        python_start(&setup.python2, "sailpoint.password_sync_groups", s.start_runs).await,
    );
    // The same binary whichever layout it speaks.
    if let Some(psg) = cells.get(Tool::Psg.title()).cloned() {
        cells.insert(Tool::PsgV1.title(), psg);
    }
    cells.insert(
        Tool::TypeScript.title(),
        match &setup.node {
            Ok(dir) => {
                time_command(
                    || {
                        let mut c = tokio::process::Command::new("node");
                        c.args(["-e", "require('sailpoint-api-client')"]).current_dir(dir);
                        c
                    },
                    s.start_runs,
                )
                .await
            }
            Err(e) => Err(e.clone()),
        },
    );
    let mut row = Row {
        name: "cold start".into(),
        unit: "ms",
        method: format!(
            "wall time of `psg --version` vs `python -c \"import sailpoint.beta\"` (2.x: `import sailpoint.password_sync_groups`) vs `node -e \"require('sailpoint-api-client')\"`, median of {} runs after one untimed run (files in the page cache; the loops above pay this start too, outside their timing)",
            s.start_runs
        ),
        target: "< 20 ms (psg)".into(),
        met: false,
        cells,
        details: json!({}),
        creates: None,
    };
    row.met = row.cell(Tool::Psg).is_some_and(|c| c.value < 20.0);
    row.details = json!({"ratios": ratios(&row)});
    row
}

/// Whether `dir` holds the TypeScript SDK.
pub fn node_sdk_present(dir: &Path) -> bool {
    dir.join("node_modules/sailpoint-api-client/package.json").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(psg: Option<(f64, bool)>, python: Option<(f64, bool)>) -> Row {
        let mut cells = BTreeMap::new();
        let c =
            |(value, finished): (f64, bool)| Cell { value, rate_limited: 0, finished, ok: 1, runs: vec![] };
        cells.insert(Tool::Psg.title(), psg.map(c).ok_or_else(|| "x".to_string()));
        cells.insert(Tool::Python.title(), python.map(c).ok_or_else(|| "not installed".to_string()));
        Row {
            name: "m".into(),
            unit: "s",
            method: String::new(),
            target: String::new(),
            met: false,
            cells,
            details: json!({}),
            creates: None,
        }
    }

    /// A ratio exists only when both tools ran and finished.
    #[test]
    fn speedup_needs_two_finished_runs() {
        assert_eq!(speedup(&row(Some((0.5, true)), Some((2.0, true))), Tool::Python), Some(4.0));
        assert_eq!(speedup(&row(Some((0.5, true)), Some((2.0, false))), Tool::Python), None);
        assert_eq!(speedup(&row(Some((0.5, true)), None), Tool::Python), None);
        assert_eq!(speedup(&row(Some((0.0, true)), Some((2.0, true))), Tool::Python), None);
        assert_eq!(speedup(&row(Some((0.5, true)), Some((2.0, true))), Tool::TypeScript), None);
    }

    /// The 2.x Python SDK is divided by psg on v1, not by psg on beta, and
    /// its column and ratio appear in the markdown beside psg (v1).
    #[test]
    fn python2_is_compared_with_psg_on_v1() {
        let mut r = row(Some((0.5, true)), Some((2.0, true)));
        let c = |value| Ok(Cell { value, rate_limited: 0, finished: true, ok: 1, runs: vec![] });
        assert_eq!(speedup(&r, Tool::Python2), None, "no 2.x cell yet");
        r.cells.insert(Tool::Python2.title(), c(3.0));
        assert_eq!(speedup(&r, Tool::Python2), None, "no psg (v1) cell yet");
        r.cells.insert(Tool::PsgV1.title(), c(0.25));
        assert_eq!(speedup(&r, Tool::Python2), Some(12.0));
        assert_eq!(speedup(&r, Tool::Python), Some(4.0), "1.4.2 still against psg on beta");
        let report = PeerReport { rows: vec![r], missing: BTreeMap::new() };
        let md = crate::report::peer_markdown(&report);
        assert!(md.contains("| psg (v1) | Python SDK 2.x (v1) | Python 2.x \u{f7} psg (v1) |"), "{md}");
        assert!(md.contains("| 0.250 s | 3.000 s | 12.0\u{d7} |"), "{md}");
        let text = crate::report::peer_table(&report);
        assert!(text.contains("12.0x"), "{text}");
    }

    /// A loop's result is its last JSON line; anything printed before it
    /// (warnings, a paginator's chatter) is skipped; no line is an error.
    #[test]
    fn loop_output_is_the_last_json_line() {
        let out = "Paginating call, offset = 0\n{\"seconds\":1.5,\"ok\":3,\"failed\":0}\n";
        assert_eq!(parse_loop_output(out).unwrap().ok, 3);
        assert!(parse_loop_output("Traceback ...\n").is_err());
        assert!(parse_loop_output("").is_err());
    }

    /// The median run decides the figures; `finished` needs every run complete.
    #[test]
    fn cell_takes_the_median_run() {
        let r = |seconds, ok, failed| LoopResult { seconds, ok, failed, statuses: BTreeMap::new() };
        let c = cell(&[(r(3.0, 10, 0), 0), (r(1.0, 10, 0), 0), (r(2.0, 7, 3), 3)], 10);
        assert_eq!((c.value, c.ok, c.rate_limited, c.finished), (2.0, 7, 3, false));
        let c = cell(&[(r(1.0, 10, 0), 0)], 10);
        assert!(c.finished);
    }
}
