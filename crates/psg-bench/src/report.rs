//! The results: a table on stdout, `target/bench/report.json`, and the
//! markdown table of `docs/benchmarks.md`.

use serde::Serialize;

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

/// The markdown document.
pub fn markdown(measures: &[Measure], machine: &str, date: &str, command: &str) -> String {
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
