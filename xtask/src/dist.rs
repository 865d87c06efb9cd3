//! `cargo xtask dist`: the installable files in `target/dist/`: the `psg`
//! binary, its man page `psg.1` and completion files for every shell clap
//! knows, all produced by the binary itself (`psg man`, `psg completions`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Completion files: shell argument of `psg completions` and file name, as
/// each shell's packagers install them.
const COMPLETIONS: [(&str, &str); 5] = [
    ("bash", "psg.bash"),
    ("zsh", "_psg"),
    ("fish", "psg.fish"),
    ("elvish", "psg.elv"),
    ("powershell", "_psg.ps1"),
];

/// Builds psg-cli (release, or dev with `dev`) and writes `target/dist/`.
pub fn run(dev: bool) -> ExitCode {
    let root = crate::spec::workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(&cargo);
    build.current_dir(&root).args(["build", "-p", "psg-cli", "--bin", "psg"]);
    if !dev {
        build.arg("--release");
    }
    if !matches!(build.status(), Ok(s) if s.success()) {
        eprintln!("error: building psg-cli failed");
        return ExitCode::FAILURE;
    }
    let binary = root.join("target").join(if dev { "debug" } else { "release" }).join(exe("psg"));
    let out = root.join("target/dist");
    match write_dist(&binary, &out) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn exe(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}

/// Copies `binary` into `out` (emptied first) with the man page and the
/// completion files it prints; returns the files written.
pub fn write_dist(binary: &Path, out: &Path) -> Result<Vec<PathBuf>, String> {
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("cannot empty {}: {e}", out.display()))?;
    }
    let completions = out.join("completions");
    std::fs::create_dir_all(&completions)
        .map_err(|e| format!("cannot create {}: {e}", completions.display()))?;
    let copied = out.join(exe("psg"));
    std::fs::copy(binary, &copied).map_err(|e| format!("cannot copy {}: {e}", binary.display()))?;
    let mut files = vec![copied];
    let mut write = |path: PathBuf, args: &[&str]| -> Result<(), String> {
        let output = Command::new(binary)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
        if !output.status.success() || output.stdout.is_empty() {
            return Err(format!(
                "`psg {}` failed ({}): {}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        psg_fs::write_atomic(&path, &output.stdout)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        files.push(path);
        Ok(())
    };
    write(out.join("psg.1"), &["man"])?;
    for (shell, name) in COMPLETIONS {
        write(completions.join(name), &["completions", shell])?;
    }
    Ok(files)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A stand-in `psg` that prints its arguments, or fails on `fish`.
    fn fake(dir: &Path, script: &str) -> PathBuf {
        let path = dir.join("fake-psg");
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn the_layout_holds_what_the_binary_printed() {
        let dir = tempfile::tempdir().unwrap();
        let bin = fake(dir.path(), "echo \"printed by: $*\"");
        let out = dir.path().join("dist");
        std::fs::create_dir_all(out.join("stale")).unwrap();
        let files = write_dist(&bin, &out).unwrap();
        assert_eq!(files.len(), 7);
        assert!(!out.join("stale").exists(), "dist is emptied first");
        assert_eq!(std::fs::read_to_string(out.join("psg.1")).unwrap(), "printed by: man\n");
        assert_eq!(
            std::fs::read_to_string(out.join("completions/_psg")).unwrap(),
            "printed by: completions zsh\n"
        );
        assert!(out.join("psg").is_file());
    }

    #[test]
    fn a_failing_command_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let bin = fake(dir.path(), "[ \"$2\" = fish ] && { echo 'no fish' >&2; exit 3; }; echo ok");
        let err = write_dist(&bin, &dir.path().join("dist")).unwrap_err();
        assert!(err.contains("`psg completions fish` failed") && err.contains("no fish"), "{err}");
    }
}
