//! The commit `psg` is built from, for `psg --version`: shared by build.rs
//! and psg-cli's unit tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `git rev-parse --short=12 HEAD` in `dir`; else the commit cargo recorded
/// in `.cargo_vcs_info.json` when the crate was packaged; else `unknown`.
pub fn commit(dir: &Path) -> String {
    git(dir, &["rev-parse", "--short=12", "HEAD"])
        .or_else(|| packaged_commit(dir))
        .unwrap_or_else(|| "unknown".to_string())
}

/// Files whose change means another commit: the git dir's `HEAD`, the
/// branch it points at and `packed-refs`.
pub fn watched(dir: &Path) -> Vec<PathBuf> {
    let Some(git_dir) = git(dir, &["rev-parse", "--absolute-git-dir"]) else {
        return vec![dir.join(".cargo_vcs_info.json")];
    };
    let git_dir = PathBuf::from(git_dir);
    let mut files = vec![git_dir.join("HEAD"), git_dir.join("packed-refs")];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        files.push(git_dir.join(branch));
    }
    files
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// `"sha1": "<hex>"` from `.cargo_vcs_info.json`, shortened to 12 digits.
fn packaged_commit(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let rest = &text[text.find("\"sha1\"")? + 6..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let hex: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
    (hex.len() >= 12).then(|| hex[..12].to_string())
}
