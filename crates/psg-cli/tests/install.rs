//! What `cargo install` and `cargo xtask dist` ship: `psg --version` (version,
//! commit, API versions) and the man page `psg man` prints.

use std::process::Command;

fn psg(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_psg")).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The commit of the checkout, asked of git here, not of the build script.
fn checkout_commit() -> String {
    let out = Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success());
    out.map_or_else(|| "unknown".into(), |o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

#[test]
fn version_names_the_release_the_commit_and_the_api_versions() {
    let text = psg(&["--version"]);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines[0], format!("psg {}", env!("CARGO_PKG_VERSION")), "{text}");
    let commit = lines[1].strip_prefix("commit: ").unwrap_or_else(|| panic!("{text}"));
    let checkout = checkout_commit();
    if checkout == "unknown" {
        assert_eq!(commit, "unknown");
    } else {
        assert!(
            commit.len() >= 7 && checkout.starts_with(commit),
            "built from {commit}, checkout at {checkout}"
        );
    }
    assert_eq!(lines[2], "API versions: beta, v3, v2024, v2025, v2026, v1", "{text}");
    assert_eq!(psg(&["-V"]), text);
}

#[test]
fn the_man_page_is_roff_covering_every_command() {
    let page = psg(&["man"]);
    assert!(page.starts_with(".ie") || page.contains(".TH psg 1"), "{}", &page[..page.len().min(200)]);
    assert!(page.contains(".TH psg 1"), "no title header");
    for command in ["groups", "export", "plan", "apply", "emulator", "demo", "completions"] {
        assert!(page.contains(command), "man page lacks {command}");
    }
    assert!(!page.contains("psg\\-man"), "the hidden man command stays hidden");
}
