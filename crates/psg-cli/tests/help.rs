//! Every subcommand's --help shows an example, and the exit codes are documented.

use std::process::Command;

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_psg")).args(args).arg("--help").output().unwrap();
    assert!(out.status.success(), "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_subcommand_help_has_an_example() {
    for args in [
        &["groups", "list"][..],
        &["groups", "get"],
        &["groups", "create"],
        &["groups", "update"],
        &["groups", "delete"],
        &["export"],
        &["plan"],
        &["apply"],
        &["emulator"],
        &["demo"],
        &["completions"],
        &["auth", "status"],
    ] {
        let text = help(args);
        assert!(text.contains("Example"), "{args:?} --help lacks an example:\n{text}");
    }
}

#[test]
fn top_level_help_documents_exit_codes_and_variables() {
    let text = help(&[]);
    for needle in
        ["Exit codes", "0  success", "1  API or network failure", "2  usage error", "SAIL_CLIENT_SECRET"]
    {
        assert!(text.contains(needle), "missing {needle:?}:\n{text}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let out =
        Command::new(env!("CARGO_BIN_EXE_psg")).args(["groups", "list", "--limit", "999"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_psg")).args(["no-such-command"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
