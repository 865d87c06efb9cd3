//! Part of `cargo xtask compat`: runs the pytest fixture and the Vitest
//! `beforeAll` shown in psg-emulator's README, as written there, with
//! `compat/readme_fixture_test.py` and `compat/readme-js/readme_fixture.test.js`.

use std::path::Path;
use std::process::Command;

use crate::peers::python_env;

/// The pytest the fixture is run with (in `compat/.venv-pytest`).
const PYTEST: &str = "pytest==8.3.4";

/// The first `python` code block after `marker` in `readme`.
pub fn python_block<'a>(readme: &'a str, marker: &str) -> Option<&'a str> {
    block(readme, marker, "python")
}

/// The first code block of `language` after `marker` in `readme`.
pub fn block<'a>(readme: &'a str, marker: &str, language: &str) -> Option<&'a str> {
    let after = &readme[readme.find(marker)?..];
    let fence = format!("```{language}\n");
    let start = after.find(&fence)? + fence.len();
    let len = after[start..].find("```")?;
    Some(&after[start..start + len])
}

/// `PATH` with `bin_dir` first.
fn path_with(bin_dir: &Path) -> Result<std::ffi::OsString, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin_dir.to_path_buf()];
    dirs.extend(std::env::split_paths(&path));
    std::env::join_paths(dirs).map_err(|e| e.to_string())
}

/// Fills `work` with the README's `snippet` (file name, text) and a copy of
/// the `test` that uses it, named `test_name`.
fn stage(work: &Path, snippet: (&str, &str), test: &Path, test_name: &str) -> Result<(), String> {
    std::fs::create_dir_all(work).map_err(|e| format!("{}: {e}", work.display()))?;
    std::fs::write(work.join(snippet.0), snippet.1).map_err(|e| format!("{}: {e}", snippet.0))?;
    std::fs::copy(test, work.join(test_name)).map_err(|e| format!("{}: {e}", test.display()))?;
    Ok(())
}

fn readme(root: &Path) -> Result<String, String> {
    let path = root.join("crates/psg-emulator/README.md");
    std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Copies the README's Vitest block into `compat/readme-js/work/isc.js` and
/// runs Vitest (installed by `npm ci` from `compat/readme-js/package-lock.json`) over it.
pub fn run_vitest(root: &Path, bin_dir: &Path) -> Result<(), String> {
    let dir = root.join("compat/readme-js");
    let readme = readme(root)?;
    let setup = block(&readme, "A Vitest", "js")
        .ok_or("crates/psg-emulator/README.md has no ```js block after \"A Vitest\"")?;
    let work = dir.join("work");
    stage(&work, ("isc.js", setup), &dir.join("readme_fixture.test.js"), "readme_fixture.test.js")?;
    let vitest = dir.join("node_modules/vitest/vitest.mjs");
    if !vitest.is_file() {
        crate::peers::install_step(
            || {
                // The checked-in lock file pins Vitest's whole tree (vite included).
                let mut c = Command::new("npm");
                c.current_dir(&dir).args(["ci", "--no-audit", "--no-fund", "--silent"]);
                c
            },
            "npm ci (vitest)",
        )?;
    }
    let status = Command::new("node")
        .arg(&vitest)
        .args(["run", "--root"])
        .arg(&work)
        .env("PATH", path_with(bin_dir)?)
        .status()
        .map_err(|e| format!("node: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("vitest over the README's beforeAll: {status}")) }
}

/// Copies the README's fixture into `compat/work/readme/conftest.py` and runs
/// pytest there with `bin_dir` (where `psg-emulator` is) first on PATH.
pub fn run(root: &Path, bin_dir: &Path) -> Result<(), String> {
    let compat = root.join("compat");
    let readme = readme(root)?;
    let fixture = python_block(&readme, "A pytest fixture")
        .ok_or("crates/psg-emulator/README.md has no ```python block after \"A pytest fixture\"")?;
    let work = compat.join("work/readme");
    stage(&work, ("conftest.py", fixture), &compat.join("readme_fixture_test.py"), "test_readme_fixture.py")?;
    let python = python_env(&compat.join(".venv-pytest"), PYTEST)?;
    let path = path_with(bin_dir)?;
    let status = Command::new(python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(&work)
        .env("PATH", path)
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() { Ok(()) } else { Err(format!("pytest over the README's fixture: {status}")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_has_the_fixture_block() {
        let readme = include_str!("../../crates/psg-emulator/README.md");
        let block = python_block(readme, "A pytest fixture").unwrap();
        assert!(block.contains("def isc(") && block.contains("\"--bind\", \"127.0.0.1:0\""), "{block}");
        assert_eq!(
            python_block("A pytest fixture\n```python\nx = 1\n```\n", "A pytest fixture"),
            Some("x = 1\n")
        );
        assert_eq!(python_block("```python\nx\n```", "absent"), None);
        let js = super::block(readme, "A Vitest", "js").unwrap();
        assert!(js.contains("beforeAll(") && js.contains("\"--bind\", \"127.0.0.1:0\""), "{js}");
    }
}
