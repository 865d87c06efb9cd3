//! `cargo xtask bench [--quick]`: builds in release and runs `psg-bench`.
//!
//! Measures (medians of several runs, ratios against a baseline measured in
//! the same run):
//! - client overhead: sequential get/create through psg-ext vs a bare
//!   reqwest loop on the same kind of keep-alive connection (target >= 0.9x);
//! - emulator throughput: keep-alive GET /{id} from 4 connections (>= 20,000 req/s);
//! - list-all under latency: 10,000 groups, 50 ms injected latency, limit
//!   250, vs one round trip plus the remaining pages at the configured
//!   concurrency (<= 1.3x);
//! - bulk create under the rate limit: 1,000 creates, emulator and client at
//!   100/1 s (<= 1.1x the rate bound, zero 429s);
//! - streaming memory: peak RSS of separate processes streaming 100,000 vs
//!   1,000 groups (ratio < 2);
//! - CLI start: `psg --version` wall time (< 20 ms).
//!
//! Writes target/bench/report.json and, without --quick, docs/benchmarks.md.
//! --quick shrinks every size (under a minute) and asserts nothing.

use std::process::{Command, ExitCode};

/// Entry point of the task.
pub fn run(quick: bool) -> ExitCode {
    let root = crate::spec::workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(&cargo)
        .current_dir(&root)
        .args(["build", "--release", "--quiet", "--package", "psg-cli", "--package", "psg-bench"])
        .status();
    if !matches!(built, Ok(s) if s.success()) {
        eprintln!("error: release build failed");
        return ExitCode::FAILURE;
    }
    let mut bench = Command::new(root.join("target/release/psg-bench"));
    bench.current_dir(&root).args(["--psg", "target/release/psg", "--out", "target/bench"]);
    if quick {
        bench.arg("--quick");
    } else {
        bench.args(["--docs", "docs/benchmarks.md"]);
    }
    match bench.status() {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: cannot run psg-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
