//! The `psg-emulator` binary: flags out of range are exit 2 naming the range,
//! and a signal during start-up (seeding a large state) stops it.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

fn emulator() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_psg-emulator"));
    cmd.args(["--bind", "127.0.0.1:0"]).kill_on_drop(true);
    cmd
}

/// Runs with `args` and returns (exit code, stdout, stderr).
async fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = emulator().args(args).stdin(Stdio::null()).output().await.unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test]
async fn out_of_range_flags_are_exit_2_with_the_range() {
    let cases: &[(&[&str], &str)] = &[
        (&["--rate-limit", "1/1e300"], "86400"),
        (&["--rate-limit", "1/1e19"], "86400"),
        (&["--rate-limit", "0/10"], "COUNT from 1"),
        (&["--rate-limit", "5/90000"], "86400"),
        (&["--token-ttl", "18446744073709551615"], "0..=86400"),
        (&["--groups", "100000000"], "0 to 1000000"),
        (&["--sources", "100000000"], "0 to 100000"),
        (&["--policies", "100000000"], "0 to 100000"),
        (&["--latency", "99999999999"], "3600000"),
        (&["--faults", "500=NaN"], "probability"),
    ];
    for (args, expected) in cases {
        let (code, stdout, stderr) = run(args).await;
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?} must not start: {stdout}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in {stderr}");
    }
}

#[tokio::test]
async fn runtime_refusals_are_exit_2() {
    let (code, _, stderr) = run(&["--groups", "3", "--sources", "1"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--groups needs at least 2 password-managed --sources"), "{stderr}");
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_while_seeding_stops_without_serving() {
    // Seeding a million groups takes seconds; the bound only turns a hang into a failure.
    tokio::time::timeout(std::time::Duration::from_secs(120), signal_while_seeding())
        .await
        .expect("the emulator stops on a signal during start-up");
}

#[cfg(unix)]
async fn signal_while_seeding() {
    for signal in ["-TERM", "-INT"] {
        let mut child = emulator()
            .args(["--groups", "1000000"])
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The emulator logs "seeding groups" once its signal handlers are in place.
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        loop {
            let line = stderr.next_line().await.unwrap().expect("a log line before seeding");
            if line.contains("seeding groups") {
                break;
            }
        }
        let pid = child.id().unwrap().to_string();
        assert!(Command::new("kill").args([signal, &pid]).status().await.unwrap().success());
        let status = child.wait().await.unwrap();
        let mut stdout = String::new();
        child.stdout.take().unwrap().read_to_string(&mut stdout).await.unwrap();
        assert_eq!(status.code(), Some(0), "{signal}: a clean stop, not a kill");
        assert!(stdout.is_empty(), "{signal}: stopped before serving, but printed {stdout:?}");
        let mut rest = String::new();
        while let Ok(Some(line)) = stderr.next_line().await {
            rest.push_str(&line);
        }
        assert!(rest.contains("stopped during start-up"), "{signal}: {rest}");
    }
}

#[tokio::test]
async fn an_unwritable_state_path_is_exit_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain-file");
    std::fs::write(&plain, "x").unwrap();
    let path = plain.join("state.json");
    let (code, stdout, stderr) = run(&["--state", path.to_str().unwrap()]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
}

#[tokio::test]
async fn a_bad_catalog_file_is_exit_2_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog.yaml");
    std::fs::write(&file, "sources:\n  - name: AD\n    features: [PASSWORD]\n  - name: ''\n").unwrap();
    let path = file.to_str().unwrap();
    let (code, stdout, stderr) = run(&["--catalog", path]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains(&format!("{path}:4:")), "{stderr}");
    let (code, _, stderr) = run(&["--catalog", path, "--sources", "3"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--catalog"), "{stderr}");
    let (code, _, stderr) = run(&["--catalog", "/nonexistent/catalog.yaml"]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("/nonexistent/catalog.yaml"), "{stderr}");
}
