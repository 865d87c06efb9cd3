//! The results: a table on stdout, `target/bench/report.json`, and the
//! markdown table of `docs/benchmarks.md`.

use serde::{Deserialize, Serialize};

use crate::peers::{PeerReport, Row, Tool, speedup};

/// One measure and how it compares with its target.
#[derive(Debug, Clone, Serialize)]
pub struct Measure {
    /// Short name.
    pub name: &'static str,
    /// How it was measured.
    pub method: String,
    /// The figure (median of the runs).
    pub value: f64,
    /// Unit of `value`.
    pub unit: &'static str,
    /// The target, in words.
    pub target: &'static str,
    /// Whether the target is met.
    pub met: bool,
    /// Extra figures (raw values of each run, the baseline, ...).
    pub details: serde_json::Value,
}

/// Median of `values` (the upper one for an even count).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

/// A plain-text table.
pub fn table(measures: &[Measure]) -> String {
    let mut out = format!("{:<30} {:>14}  {:<10} {:<34} {}\n", "measure", "value", "unit", "target", "met");
    for m in measures {
        out.push_str(&format!(
            "{:<30} {:>14.3}  {:<10} {:<34} {}\n",
            m.name,
            m.value,
            m.unit,
            m.target,
            if m.met { "yes" } else { "NO" }
        ));
    }
    out
}

/// The markdown document: psg's own measures, the comparison with the SDKs
/// (when it ran) and the build times recorded in `bench/build-times.json`.
pub fn markdown(
    measures: &[Measure],
    peers: Option<&PeerReport>,
    builds: &[BuildTime],
    machine: &str,
    date: &str,
    command: &str,
) -> String {
    let mut out = format!(
        "# Benchmarks\n\nProduced by `{command}` on {date}.\n\nMachine: {machine}\n\nRatios are what count: this machine is shared and noisy; each figure is the median of several runs in one process.\n\n| measure | value | unit | target | met | method |\n|---|---|---|---|---|---|\n"
    );
    for m in measures {
        out.push_str(&format!(
            "| {} | {:.3} | {} | {} | {} | {} |\n",
            m.name,
            m.value,
            m.unit,
            m.target,
            if m.met { "yes" } else { "no" },
            m.method.replace('|', "/")
        ));
    }
    out.push_str("\n## psg and SailPoint's SDKs\n\n");
    match peers {
        Some(p) => out.push_str(&peer_markdown(p)),
        None => out.push_str("Not run: install the SDKs with `cargo xtask bench --peers`.\n"),
    }
    out.push_str("\n## Build times\n\n");
    out.push_str(&build_markdown(builds));
    out
}

/// A figure of one tool, in words.
fn cell_text(row: &Row, tool: Tool, markdown: bool) -> String {
    let Some(c) = row.cells.get(tool.title()) else { return "-".into() };
    let c = match c {
        Ok(c) => c,
        Err(_) => return "not run".into(),
    };
    let x = if markdown { "\u{d7}" } else { "x" };
    let mut text = if row.unit == "ms" { format!("{:.1} ms", c.value) } else { format!("{:.3} s", c.value) };
    if let Some(expected) = row.creates {
        text.push_str(&format!(", {} {x} 429, {}/{expected} created", c.rate_limited, c.ok));
        if !c.finished {
            text.push_str(", did not finish");
        }
    } else if !c.finished {
        text.push_str(" (incomplete)");
    }
    text
}

fn ratio_text(row: &Row, peer: Tool, markdown: bool) -> String {
    let x = if markdown { "\u{d7}" } else { "x" };
    match (speedup(row, peer), row.cell(peer)) {
        (Some(r), _) => format!("{r:.1}{x}"),
        (None, None) => "-".into(),
        (None, Some(_)) => "n/a (not finished)".into(),
    }
}

/// The peer table in plain text.
pub fn peer_table(p: &PeerReport) -> String {
    let mut out = format!(
        "{:<30} {:<32} {:<42} {:<42} {:>9} {:>9} {:<32} {:<42} {:>11} {}\n",
        "peer measure",
        "psg",
        "python",
        "typescript",
        "py/psg",
        "ts/psg",
        "psg v1",
        "python 2.x v1",
        "py2/psg v1",
        "met"
    );
    for row in &p.rows {
        out.push_str(&format!(
            "{:<30} {:<32} {:<42} {:<42} {:>9} {:>9} {:<32} {:<42} {:>11} {}\n",
            row.name,
            cell_text(row, Tool::Psg, false),
            cell_text(row, Tool::Python, false),
            cell_text(row, Tool::TypeScript, false),
            ratio_text(row, Tool::Python, false),
            ratio_text(row, Tool::TypeScript, false),
            cell_text(row, Tool::PsgV1, false),
            cell_text(row, Tool::Python2, false),
            ratio_text(row, Tool::Python2, false),
            if row.met { "yes" } else { "NO" }
        ));
    }
    for (tool, why) in &p.missing {
        out.push_str(&format!("{tool} not run: {why}\n"));
    }
    out
}

/// The peer table in markdown, with each measure's method below it.
pub fn peer_markdown(p: &PeerReport) -> String {
    let mut out = String::from(
        "Same machine, same run, same emulator configuration; each tool on a fresh emulator per run; medians. \
         The ratio columns are the SDK's time divided by psg's on the same API layout (how many times faster psg is): \
         Python SDK 1.4.2 and the TypeScript SDK against psg on `beta` (`/beta/password-sync-groups`), \
         the current Python SDK 2.x against psg on `v1` (`--api-version v1`, `/password-sync-groups/v1`).\n\n\
         | measure | psg | Python SDK 1.4.2 | TypeScript SDK | Python \u{f7} psg | TypeScript \u{f7} psg | psg (v1) | Python SDK 2.x (v1) | Python 2.x \u{f7} psg (v1) | target | met |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for row in &p.rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            row.name,
            cell_text(row, Tool::Psg, true),
            cell_text(row, Tool::Python, true),
            cell_text(row, Tool::TypeScript, true),
            ratio_text(row, Tool::Python, true),
            ratio_text(row, Tool::TypeScript, true),
            cell_text(row, Tool::PsgV1, true),
            cell_text(row, Tool::Python2, true),
            ratio_text(row, Tool::Python2, true),
            row.target,
            if row.met { "yes" } else { "no" }
        ));
    }
    out.push('\n');
    for row in &p.rows {
        out.push_str(&format!("- **{}**: {}\n", row.name, row.method.replace('|', "/")));
    }
    for (tool, why) in &p.missing {
        out.push_str(&format!("- {tool} not run: {why}\n"));
    }
    out
}

/// A build time recorded by hand in `bench/build-times.json` (a cold build
/// takes minutes; it is not part of every bench run).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct BuildTime {
    /// What was built.
    pub measure: String,
    /// Seconds before the change (`null`: not measured yet).
    pub before_s: Option<f64>,
    /// Seconds after the change.
    pub after_s: Option<f64>,
    /// Largest after/before ratio accepted, if there is a target.
    pub target_ratio: Option<f64>,
    /// How and when it was measured.
    pub method: String,
}

/// Reads `file` (a JSON list of [`BuildTime`]); a missing file is an empty list.
pub fn read_build_times(file: &std::path::Path) -> Result<Vec<BuildTime>, String> {
    match std::fs::read_to_string(file) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a JSON list of build times: {e}", file.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("cannot read {}: {e}", file.display())),
    }
}

/// The build-time table.
pub fn build_markdown(builds: &[BuildTime]) -> String {
    if builds.is_empty() {
        return "None recorded (bench/build-times.json).\n".into();
    }
    let secs = |s: Option<f64>| s.map_or_else(|| "to be measured".to_string(), |s| format!("{s:.1} s"));
    let mut out = String::from(
        "Recorded by hand in `bench/build-times.json` (cold builds take minutes; they are not part of each bench run).\n\n\
         | measure | before | after | after \u{f7} before | target | met | method |\n|---|---|---|---|---|---|---|\n",
    );
    for b in builds {
        let ratio = match (b.before_s, b.after_s) {
            (Some(x), Some(y)) if x > 0.0 => Some(y / x),
            _ => None,
        };
        let target = b.target_ratio.map_or_else(|| "-".to_string(), |t| format!("<= {t}\u{d7}"));
        let met = match (ratio, b.target_ratio) {
            (Some(r), Some(t)) => {
                if r <= t {
                    "yes"
                } else {
                    "no"
                }
            }
            (None, Some(_)) => "-",
            _ => "-",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {target} | {met} | {} |\n",
            b.measure,
            secs(b.before_s),
            secs(b.after_s),
            ratio.map_or_else(|| "-".to_string(), |r| format!("{r:.2}\u{d7}")),
            b.method.replace('|', "/")
        ));
    }
    out
}

/// CPU model, cores and memory, read from /proc.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name").map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mem_kb: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("MemTotal:").and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    format!(
        "{model}, {cores} cores, {:.1} GiB memory, {} {}",
        mem_kb as f64 / 1048576.0,
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}
