//! `psg-emulator` and `psg emulator` as processes: first line, clean stop.

use std::process::Stdio;

use psg_e2e::binary;
use tokio::io::{AsyncBufReadExt, BufReader};

async fn first_line_then_sigterm(mut cmd: tokio::process::Command) {
    let mut child = cmd
        .args(["--bind", "127.0.0.1:0", "--groups", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().expect("a first line");
    let url = first.strip_prefix("listening on http://127.0.0.1:").unwrap_or_else(|| panic!("{first}"));
    let port: u16 = url.parse().expect("a port");
    assert!(port > 0);
    // It answers.
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await;
    assert!(stream.is_ok());
    let pid = child.id().unwrap().to_string();
    let killed = tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
    assert!(killed.success());
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), Some(0), "stops cleanly on SIGTERM");
}

#[tokio::test]
async fn psg_emulator_binary_prints_its_address_and_stops_on_sigterm() {
    first_line_then_sigterm(tokio::process::Command::new(binary("psg-emulator"))).await;
}

#[tokio::test]
async fn psg_emulator_subcommand_behaves_the_same() {
    let mut cmd = tokio::process::Command::new(binary("psg"));
    cmd.arg("emulator");
    first_line_then_sigterm(cmd).await;
}
