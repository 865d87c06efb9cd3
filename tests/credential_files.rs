//! Secret files given by flag, through the real `psg` binary: `/dev/zero` and
//! oversized files get one clear line and no token request; a secret file
//! readable by others works but warns.

use psg_e2e::{DEMO_SECRET, emulator, psg_command, temp_dir};

async fn with_secret_file(base: &str, flag: &str, path: &str) -> psg_e2e::Run {
    let mut cmd = psg_command(None);
    cmd.args(["--base-url", base]);
    if flag == "--client-secret-file" {
        cmd.args(["--client-id", "psg-demo"]);
    }
    cmd.args([flag, path, "groups", "list", "-o", "json"]).output().await.expect("psg runs").into()
}

#[tokio::test]
async fn dev_zero_as_each_secret_file_is_one_usage_line() {
    let emu = emulator(|b| b.groups(1)).await;
    for flag in ["--client-secret-file", "--access-token-file"] {
        let out = with_secret_file(&emu.base_url(), flag, "/dev/zero").await;
        assert_eq!(out.code, 2, "{flag}: {}", out.stderr);
        assert!(out.stderr.contains(flag) && out.stderr.contains("not a regular file"), "{}", out.stderr);
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    }
    assert_eq!(emu.stats().tokens_issued, 0);
}

#[cfg(unix)]
#[tokio::test]
async fn readable_secret_file_warns_and_still_works() {
    use std::os::unix::fs::PermissionsExt;
    let emu = emulator(|b| b.groups(2)).await;
    let secret = temp_dir("cred-files").join("secret");
    std::fs::write(&secret, format!("{DEMO_SECRET}\n")).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = with_secret_file(&emu.base_url(), "--client-secret-file", secret.to_str().unwrap()).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("chmod 600"), "{}", out.stderr);
    assert!(!out.stderr.contains(DEMO_SECRET));
}

#[tokio::test]
async fn dev_zero_or_a_directory_as_psg_config_is_one_line_naming_the_file() {
    let emu = emulator(|b| b.groups(1)).await;
    let dir = temp_dir("cred-config");
    let big = dir.join("big.toml");
    std::fs::write(&big, "#".repeat(1024 * 1024 + 1)).unwrap();
    let dir_text = dir.display().to_string();
    let big_text = big.display().to_string();
    for (config, expected) in [
        ("/dev/zero", "not a regular file"),
        (dir_text.as_str(), "not a regular file"),
        (big_text.as_str(), "larger than 1 MiB"),
    ] {
        // With --profile, and as the default profile's file (nothing else configured).
        for args in [&["--profile", "prod", "groups", "list"][..], &["groups", "list"][..]] {
            let out: psg_e2e::Run = tokio::time::timeout(
                std::time::Duration::from_secs(20),
                psg_command(None).env("PSG_CONFIG", config).args(args).output(),
            )
            .await
            .expect("psg neither hangs nor reads forever")
            .expect("psg runs")
            .into();
            assert_eq!(out.code, 2, "{config} {args:?}: {}", out.stderr);
            assert!(
                out.stderr.contains(expected)
                    && out.stderr.contains(config)
                    && out.stderr.contains("PSG_CONFIG"),
                "{config} {args:?}: {}",
                out.stderr
            );
            assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
        }
    }
    assert_eq!(emu.stats().tokens_issued, 0);
}

#[cfg(unix)]
#[tokio::test]
async fn a_fifo_as_a_secret_file_is_refused_without_waiting_for_a_writer() {
    let emu = emulator(|b| b.groups(1)).await;
    let fifo = temp_dir("cred-fifo").join("secret");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        return; // no mkfifo on this machine
    }
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        with_secret_file(&emu.base_url(), "--client-secret-file", fifo.to_str().unwrap()),
    )
    .await
    .expect("psg does not wait on a FIFO");
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("not a regular file"), "{}", out.stderr);
    assert_eq!(emu.stats().tokens_issued, 0);
}
