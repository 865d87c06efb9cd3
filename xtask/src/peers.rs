//! SailPoint's official SDKs in ignored folders under `compat/`: installed
//! once, then reused by `cargo xtask compat` (which runs its scenario
//! through them) and `cargo xtask bench` (which times them beside psg).

use std::path::{Path, PathBuf};
use std::process::Command;

/// PyPI requirement of the Python SDK with the `/beta` client.
pub const PYTHON_1X: &str = "sailpoint==1.4.2";
/// Its virtualenv, under `compat/`.
pub const PYTHON_1X_VENV: &str = ".venv-1.4.2";
/// PyPI requirement of the Python SDK that calls `/password-sync-groups/v1`.
pub const PYTHON_2X: &str = "sailpoint==2.1.72";
/// Its virtualenv, under `compat/`.
pub const PYTHON_2X_VENV: &str = ".venv-2";

/// Runs `cmd`, keeping its output unless it fails.
pub fn run_quiet(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed:\n{}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// Installs run against a package registry: a passing network fault gets a
/// second try before the task fails.
pub fn install_step(mut make: impl FnMut() -> Command, what: &str) -> Result<(), String> {
    run_quiet(&mut make(), what).or_else(|first| {
        eprintln!("{what} failed once, trying again: {}", first.lines().last().unwrap_or_default());
        run_quiet(&mut make(), what)
    })
}

/// The python of virtualenv `dir` when it already holds `requirement`.
pub fn python_installed(dir: &Path, requirement: &str) -> Option<PathBuf> {
    let python = dir.join("bin/python");
    let marker = dir.join(".psg-installed");
    (std::fs::read_to_string(marker).ok().as_deref() == Some(requirement) && python.is_file())
        .then_some(python)
}

/// Creates `dir` as a virtualenv holding `requirement`, unless it already does.
pub fn python_env(dir: &Path, requirement: &str) -> Result<PathBuf, String> {
    if let Some(python) = python_installed(dir, requirement) {
        return Ok(python);
    }
    let python = dir.join("bin/python");
    run_quiet(Command::new("python3").args(["-m", "venv"]).arg(dir), "python3 -m venv")?;
    install_step(
        || {
            let mut c = Command::new(&python);
            c.args(["-m", "pip", "install", "--quiet", requirement]);
            c
        },
        &format!("pip install {requirement}"),
    )?;
    std::fs::write(dir.join(".psg-installed"), requirement).map_err(|e| e.to_string())?;
    Ok(python)
}

/// Whether `compat/node_modules` holds the TypeScript SDK.
pub fn node_installed(compat: &Path) -> bool {
    compat.join("node_modules/sailpoint-api-client/package.json").is_file()
}

/// Installs `compat/package.json`'s dependencies (the TypeScript SDK) unless
/// they are there.
pub fn node_env(compat: &Path) -> Result<(), String> {
    if node_installed(compat) {
        return Ok(());
    }
    install_step(
        || {
            let mut c = Command::new("npm");
            c.current_dir(compat).args([
                "install",
                "--no-package-lock",
                "--no-audit",
                "--no-fund",
                "--silent",
            ]);
            c
        },
        "npm install",
    )
}

/// The SDKs the bench compares psg with, each present or why not.
pub struct BenchPeers {
    /// Python with sailpoint 1.4.2.
    pub python: Result<PathBuf, String>,
    /// Python with sailpoint 2.x (`/password-sync-groups/v1`, beside psg on v1).
    pub python2: Result<PathBuf, String>,
    /// `compat/` when its node_modules holds sailpoint-api-client.
    pub node: Result<PathBuf, String>,
}

/// The bench's SDKs: installed when `install`, otherwise only found.
pub fn bench_peers(compat: &Path, install: bool) -> BenchPeers {
    let python_of = |venv: &str, requirement: &str| {
        let dir = compat.join(venv);
        if install {
            python_env(&dir, requirement)
        } else {
            python_installed(&dir, requirement).ok_or_else(|| {
                format!(
                    "{requirement} not installed in compat/{venv} (cargo xtask bench --peers installs it)"
                )
            })
        }
    };
    let python = python_of(PYTHON_1X_VENV, PYTHON_1X);
    let python2 = python_of(PYTHON_2X_VENV, PYTHON_2X);
    let node = if install { node_env(compat) } else { Ok(()) }.and_then(|()| {
        if node_installed(compat) {
            Ok(compat.to_path_buf())
        } else {
            Err("sailpoint-api-client not installed in compat/node_modules (cargo xtask bench --peers installs it)".into())
        }
    });
    BenchPeers { python, python2, node }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A virtualenv counts as installed only with the marker naming the same
    /// requirement and its python present; nothing is installed to find out.
    #[test]
    fn installed_needs_marker_and_python() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(python_installed(dir.path(), PYTHON_1X), None);
        std::fs::write(dir.path().join(".psg-installed"), PYTHON_1X).unwrap();
        assert_eq!(python_installed(dir.path(), PYTHON_1X), None, "no bin/python yet");
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::fs::write(dir.path().join("bin/python"), "").unwrap();
        assert_eq!(python_installed(dir.path(), PYTHON_1X), Some(dir.path().join("bin/python")));
        assert_eq!(python_installed(dir.path(), PYTHON_2X), None, "another version");
        let peers = bench_peers(dir.path(), false);
        assert!(peers.node.is_err());
        assert!(peers.python.is_err() && peers.python2.is_err(), "not installed, not installing");
        assert!(!node_installed(dir.path()));
    }
}
