//! `cargo xtask compat`: SailPoint's official SDKs against the emulator.
//!
//! Installs PyPI `sailpoint==1.4.2` (the `/beta` and `/v3` clients),
//! `sailpoint==2.1.72` (which calls `/password-sync-groups/v1`) and npm
//! `sailpoint-api-client@1.4.15` into ignored folders under `compat/`, starts
//! fresh `psg-emulator` processes for each scenario, and runs `compat/`'s
//! scenarios: the password sync group scenario through each SDK, and the v3
//! scenario (password policies, sources with filters, v3 groups) through
//! `sailpoint.v3`. Each prints `N passed, N failed`. The installs are shared
//! with `cargo xtask bench` (`peers.rs`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};

use crate::peers::{PYTHON_1X, PYTHON_1X_VENV, PYTHON_2X, PYTHON_2X_VENV, node_env, python_env};

/// The emulator's first catalog ids (deterministic).
const POLICY: &str = "2c91808d000000000000000000700000";
const SOURCES: &str = "2c918084000000000000000000500000,2c918084000000000000000000500001,2c918084000000000000000000500002,2c918084000000000000000000500003";

/// A `psg-emulator` process, killed when dropped.
struct Emulator {
    child: Child,
    url: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_emulator(binary: &Path, extra: &[&str]) -> Result<Emulator, String> {
    let mut child = Command::new(binary)
        .args([
            "--bind",
            "127.0.0.1:0",
            "--client",
            "psg-demo:psg-demo-secret",
            "--client",
            "psg-reader:psg-reader-secret:read",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line).map_err(|e| e.to_string())?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("unexpected first line {line:?}"))?
        .to_string();
    Ok(Emulator { child, url })
}

struct Sdk {
    name: &'static str,
    program: PathBuf,
    args: Vec<String>,
}

fn install(compat: &Path) -> Result<Vec<Sdk>, String> {
    let scenario = compat.join("python_scenario.py").display().to_string();
    let v3_scenario = compat.join("python_v3_scenario.py").display().to_string();
    let py1 = python_env(&compat.join(PYTHON_1X_VENV), PYTHON_1X)?;
    let py2 = python_env(&compat.join(PYTHON_2X_VENV), PYTHON_2X)?;
    node_env(compat)?;
    Ok(vec![
        Sdk {
            name: "python sailpoint 1.4.2 (beta)",
            program: py1.clone(),
            args: vec![scenario.clone(), "sailpoint.beta".into()],
        },
        Sdk {
            name: "python sailpoint 1.4.2 (v3: password policies, sources, groups)",
            program: py1,
            args: vec![v3_scenario],
        },
        Sdk {
            name: "python sailpoint 2.1.72 (v1 paths)",
            program: py2,
            args: vec![scenario, "sailpoint.password_sync_groups".into()],
        },
        Sdk {
            name: "typescript sailpoint-api-client 1.4.15",
            program: "node".into(),
            args: vec![compat.join("node_scenario.js").display().to_string()],
        },
    ])
}

/// Entry point of the task.
pub fn run() -> ExitCode {
    let root = crate::spec::workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    if !matches!(Command::new(&cargo).current_dir(&root).args(["build", "--quiet", "-p", "psg-emulator"]).status(), Ok(s) if s.success())
    {
        eprintln!("error: building psg-emulator failed");
        return ExitCode::FAILURE;
    }
    let binary = root.join("target/debug/psg-emulator");
    let compat = root.join("compat");
    let sdks = match install(&compat) {
        Ok(sdks) => sdks,
        Err(e) => {
            eprintln!("error: installing the SDKs: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut all_passed = true;
    for sdk in sdks {
        let emulators = (|| -> Result<_, String> {
            Ok((
                start_emulator(&binary, &["--rate-limit", "off"])?,
                start_emulator(&binary, &["--faults", "429=1"])?,
                start_emulator(&binary, &["--faults", "500=1"])?,
            ))
        })();
        let (main, limited, failing) = match emulators {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("== {}", sdk.name);
        let output = Command::new(&sdk.program)
            .args(&sdk.args)
            .current_dir(&compat)
            .env("PSG_COMPAT_BASE", &main.url)
            .env("PSG_COMPAT_429_BASE", &limited.url)
            .env("PSG_COMPAT_500_BASE", &failing.url)
            .env("PSG_COMPAT_POLICY", POLICY)
            .env("PSG_COMPAT_SOURCES", SOURCES)
            .output();
        match output {
            Ok(out) => {
                print!("{}", String::from_utf8_lossy(&out.stdout));
                let stderr = String::from_utf8_lossy(&out.stderr);
                if !out.status.success() {
                    all_passed = false;
                    eprint!("{stderr}");
                }
            }
            Err(e) => {
                all_passed = false;
                println!("0 passed, 1 failed ({}: {e})", sdk.program.display());
            }
        }
    }
    println!("== psg-emulator README's pytest fixture");
    if let Err(e) = crate::readme_fixture::run(&root, &root.join("target/debug")) {
        all_passed = false;
        println!("0 passed, 1 failed ({e})");
    }
    println!("== psg-emulator README's Vitest beforeAll");
    if let Err(e) = crate::readme_fixture::run_vitest(&root, &root.join("target/debug")) {
        all_passed = false;
        println!("0 passed, 1 failed ({e})");
    }
    if all_passed { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
