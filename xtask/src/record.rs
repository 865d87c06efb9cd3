//! `cargo xtask record`: runs the contract scenario and rewrites fixtures.
//!
//! The recorder lives in `psg-contract` (binary `psg-record`) so that xtask
//! never compiles the client: `cargo xtask generate` must keep working when
//! the generated code is stale or broken.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// Runs `psg-record` with the same arguments.
pub fn run(base_url: Option<String>, out: Option<PathBuf>, upstream: Option<PathBuf>) -> ExitCode {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(crate::spec::workspace_root()).args([
        "run",
        "--quiet",
        "--package",
        "psg-contract",
        "--bin",
        "psg-record",
        "--",
    ]);
    if let Some(url) = base_url {
        cmd.args(["--base-url", &url]);
    }
    if let Some(upstream) = upstream {
        cmd.arg("--upstream").arg(upstream);
    }
    if let Some(out) = out {
        cmd.arg("--out").arg(out);
    }
    match cmd.status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: cannot run cargo: {e}");
            ExitCode::FAILURE
        }
    }
}
