//! `cargo xtask bench [--quick] [--peers]`: builds (release; dev with --quick) and runs `psg-bench`.
//!
//! psg's own measures (medians of several runs, ratios against a baseline
//! measured in the same run):
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
//! psg beside SailPoint's SDKs (Python sailpoint 1.4.2 and npm
//! sailpoint-api-client against psg on beta; Python sailpoint 2.x on
//! `/password-sync-groups/v1` against psg on v1), each tool a process of its own on a fresh emulator
//! (`crates/psg-bench/src/peers.rs`, `bench/peers.py`, `bench/peers.js`):
//! list-all 10,000 groups at 50 ms latency, 1,000 sequential gets, 200
//! creates under the default 100/10 s limit (429s and whether it finished),
//! cold start.
//!
//! When the SDKs run:
//! - full run: installed as `cargo xtask compat` installs them (shared code
//!   in `peers.rs`); when that fails, the run goes on without them and the
//!   report says why;
//! - `--peers`: the same, but a failed install fails the task;
//! - `--quick`: never (CI smoke); `--quick --peers`: at reduced sizes, only
//!   if already installed, never installing.
//!
//! Writes target/bench/report.json and, without --quick, docs/benchmarks.md.
//! --quick shrinks every size (under a minute), asserts nothing, and builds in
//! the dev profile (a smoke of the harness: its numbers mean nothing).

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use crate::peers::{BenchPeers, bench_peers};

/// Whether to install the SDKs, look for them, or leave them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PeerMode {
    /// Not part of this run.
    Skip,
    /// Only if already installed.
    IfPresent,
    /// Install if needed; go on without them when that fails.
    Try,
    /// Install if needed; fail when that fails.
    Require,
}

fn peer_mode(quick: bool, peers: bool) -> PeerMode {
    match (quick, peers) {
        (true, false) => PeerMode::Skip,
        (true, true) => PeerMode::IfPresent,
        (false, false) => PeerMode::Try,
        (false, true) => PeerMode::Require,
    }
}

/// Entry point of the task.
pub fn run(quick: bool, peers: bool) -> ExitCode {
    let root = crate::spec::workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // --quick is CI's smoke of the harness (nothing asserted, numbers not
    // reported): it reuses the dev build CI already made instead of a second,
    // release build of the whole tree, which was the largest single step of a
    // cold CI run.
    let profile = if quick { "debug" } else { "release" };
    let mut build = Command::new(&cargo);
    build.current_dir(&root).args(["build", "--quiet", "--package", "psg-cli", "--package", "psg-bench"]);
    if !quick {
        build.arg("--release");
    }
    let built = build.status();
    if !matches!(built, Ok(s) if s.success()) {
        eprintln!("error: the {profile} build failed");
        return ExitCode::FAILURE;
    }
    let mode = peer_mode(quick, peers);
    let compat = root.join("compat");
    let sdks = match mode {
        PeerMode::Skip => None,
        PeerMode::IfPresent => Some(bench_peers(&compat, false)),
        PeerMode::Try | PeerMode::Require => {
            eprintln!("installing SailPoint's SDKs under compat/ (once) ...");
            Some(bench_peers(&compat, true))
        }
    };
    if let (PeerMode::Require, Some(BenchPeers { python, python2, node })) = (mode, &sdks)
        && let Some(e) = python.as_ref().err().or(python2.as_ref().err()).or(node.as_ref().err())
    {
        eprintln!("error: installing the SDKs: {e}");
        return ExitCode::FAILURE;
    }
    let mut bench = Command::new(root.join(format!("target/{profile}/psg-bench")));
    let psg = format!("target/{profile}/psg");
    bench.current_dir(&root).args(["--psg", psg.as_str(), "--out", "target/bench"]);
    if quick {
        bench.arg("--quick");
    } else {
        bench.args(["--docs", "docs/benchmarks.md"]);
    }
    if let Some(BenchPeers { python, python2, node }) = &sdks {
        bench.arg("--peers");
        peer_arg(&mut bench, python, "python", "the Python SDK");
        peer_arg(&mut bench, python2, "python2", "the Python SDK 2.x");
        peer_arg(&mut bench, node, "node-dir", "the TypeScript SDK");
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

/// `--FLAG PATH` for a peer that is there, else `--NAME-missing WHY` (the
/// first line of why) and a warning naming `what`.
fn peer_arg(bench: &mut Command, peer: &Result<PathBuf, String>, flag: &str, what: &str) {
    match peer {
        Ok(path) => {
            bench.arg(format!("--{flag}")).arg(path);
        }
        Err(e) => {
            let why = e.lines().next().unwrap_or_default();
            eprintln!("warning: {what} is left out: {why}");
            let name = flag.trim_end_matches("-dir");
            bench.arg(format!("--{name}-missing")).arg(why);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{PeerMode, peer_mode};

    /// CI's `--quick` never installs and never runs the SDKs; `--peers`
    /// makes a failed install fatal; the full run tries.
    #[test]
    fn peer_modes() {
        assert_eq!(peer_mode(true, false), PeerMode::Skip);
        assert_eq!(peer_mode(true, true), PeerMode::IfPresent);
        assert_eq!(peer_mode(false, false), PeerMode::Try);
        assert_eq!(peer_mode(false, true), PeerMode::Require);
    }
}
