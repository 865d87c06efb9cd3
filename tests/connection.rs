//! Where a connection comes from, through the real `psg` binary: each test
//! starts two emulators ("prod" and "other") and asserts which one saw the
//! token request, so a URL from one place is never paired with a secret
//! from another.

use psg_e2e::{DEMO_SECRET, Run, emulator, psg_command, temp_dir};
use psg_emulator::EmulatorHandle;
use serde_json::Value;

fn token_requests(emu: &EmulatorHandle) -> u64 {
    emu.stats().tokens_issued
}

fn profile_file(name: &str, body: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    let path = dir.join("config.toml");
    std::fs::write(&path, body).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

async fn run(cmd: &mut tokio::process::Command) -> Run {
    Run::from(cmd.output().await.expect("psg runs"))
}

#[tokio::test]
async fn an_explicit_profile_ignores_leftover_sail_variables() {
    let prod = emulator(|b| b.groups(2)).await;
    let other = emulator(|b| b.groups(5)).await;
    let config = profile_file(
        "conn-profile",
        &format!(
            "[profiles.prod]\nbase_url = \"{}\"\nclient_id = \"psg-demo\"\nclient_secret = \"{DEMO_SECRET}\"\n",
            prod.base_url()
        ),
    );
    // A leftover SAIL_BASE_URL (and credentials) pointing elsewhere.
    let out = run(psg_command(Some(&other.base_url())).env("PSG_CONFIG", &config).args([
        "--profile",
        "prod",
        "groups",
        "list",
        "-o",
        "json",
    ]))
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(out.ok()).unwrap().as_array().unwrap().len(),
        2,
        "prod's groups"
    );
    assert_eq!(token_requests(&other), 0, "nothing went to the other host");
    assert_eq!(token_requests(&prod), 1);
}

#[tokio::test]
async fn a_partial_environment_is_refused_not_spliced_with_a_profile() {
    let prod = emulator(|b| b.groups(1)).await;
    let config = profile_file(
        "conn-partial",
        &format!(
            "[profiles.default]\nbase_url = \"{}\"\nclient_id = \"psg-demo\"\nclient_secret = \"{DEMO_SECRET}\"\n",
            prod.base_url()
        ),
    );
    let out = run(psg_command(None)
        .env("PSG_CONFIG", &config)
        .env("SAIL_CLIENT_ID", "exported-id")
        .env("SAIL_CLIENT_SECRET", "exported-secret")
        .args(["groups", "list"]))
    .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("SAIL_BASE_URL") && out.stderr.contains("missing"), "{}", out.stderr);
    assert!(!out.stderr.contains("exported-secret"));
    assert_eq!(token_requests(&prod), 0, "the exported secret never reached prod");
}

#[tokio::test]
async fn complete_sail_variables_beat_the_default_profile_whole() {
    let prod = emulator(|b| b.groups(1)).await;
    let env_tenant = emulator(|b| b.groups(3)).await;
    // The default profile holds a fixed token for prod: it must not be used.
    let config = profile_file(
        "conn-default",
        &format!(
            "[profiles.default]\nbase_url = \"{}\"\naccess_token = \"profile-token\"\n",
            prod.base_url()
        ),
    );
    let out = run(psg_command(Some(&env_tenant.base_url()))
        .env("PSG_CONFIG", &config)
        .args(["groups", "list", "-o", "json"]))
    .await;
    assert_eq!(serde_json::from_str::<Value>(out.ok()).unwrap().as_array().unwrap().len(), 3);
    assert_eq!(token_requests(&env_tenant), 1, "client credentials from the environment");
    assert_eq!(prod.stats().requests.values().flat_map(|s| s.values()).sum::<u64>(), 0);
}

#[tokio::test]
async fn base_url_flag_needs_its_own_credentials() {
    let emu = emulator(|b| b.groups(2)).await;
    let other = emulator(|b| b.groups(1)).await;
    let alone =
        run(psg_command(Some(&other.base_url())).args(["--base-url", &emu.base_url(), "groups", "list"]))
            .await;
    assert_eq!(alone.code, 2, "{}", alone.stderr);
    assert!(alone.stderr.contains("--client-secret-file"), "{}", alone.stderr);
    assert_eq!(token_requests(&emu) + token_requests(&other), 0);

    let dir = temp_dir("conn-flags");
    let secret = dir.join("secret");
    std::fs::write(&secret, format!("{DEMO_SECRET}\n")).unwrap();
    let out = run(psg_command(None).args([
        "--base-url",
        &emu.base_url(),
        "--client-id",
        "psg-demo",
        "--client-secret-file",
        secret.to_str().unwrap(),
        "groups",
        "list",
        "-o",
        "json",
    ]))
    .await;
    assert_eq!(serde_json::from_str::<Value>(out.ok()).unwrap().as_array().unwrap().len(), 2);
    assert!(!out.stderr.contains(DEMO_SECRET));
}

#[tokio::test]
async fn a_password_in_the_url_is_refused_and_never_printed() {
    let out = run(psg_command(None)
        .env("SAIL_BASE_URL", "https://admin:hunter2-in-url@acme.api.identitynow.com")
        .env("SAIL_CLIENT_ID", "id")
        .env("SAIL_CLIENT_SECRET", "pw")
        .args(["-vv", "groups", "list"]))
    .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("user name or password"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("hunter2-in-url") && !out.stdout.contains("hunter2-in-url"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn out_of_range_settings_are_usage_errors() {
    let emu = emulator(|b| b).await;
    for args in [
        vec!["--timeout", "0", "groups", "list"],
        vec!["--max-attempts", "0", "groups", "list"],
        vec!["--api-version", "v9", "groups", "list"],
    ] {
        let out = run(psg_command(Some(&emu.base_url())).args(&args)).await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
    }
    let config = profile_file(
        "conn-rate",
        &format!(
            "[profiles.p]\nbase_url = \"{}\"\naccess_token = \"t\"\nrate_limit = \"1/1e300\"\n",
            emu.base_url()
        ),
    );
    let out =
        run(psg_command(None).env("PSG_CONFIG", &config).args(["--profile", "p", "groups", "list"])).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("rate_limit"), "{}", out.stderr);
}

/// A create whose answer is lost: `psg groups create` finds the group by
/// name and succeeds, and the tenant holds exactly one.
#[tokio::test]
async fn a_lost_create_answer_is_recovered_by_name() {
    let mut recovered = 0;
    for seed in 0..40u64 {
        let emu = emulator(|b| b.faults("lost=0.5".parse().unwrap(), seed)).await;
        let cat = emu.catalog();
        let out = run(psg_command(Some(&emu.base_url())).args([
            "groups",
            "create",
            "--name",
            "Payroll",
            "--policy",
            &cat.password_policy_ids[0],
            "--source",
            &cat.source_ids[0],
            "--source",
            &cat.source_ids[1],
            "--max-attempts",
            "8",
            "-o",
            "json",
        ]))
        .await;
        let groups = emu.groups();
        assert!(groups.len() <= 1, "seed {seed}: a duplicate was created");
        if out.stderr.contains("answer to creating group 'Payroll' was lost") {
            assert_eq!(out.code, 0, "seed {seed}: {}", out.stderr);
            assert_eq!(groups.len(), 1, "seed {seed}");
            let printed: Value = serde_json::from_str(&out.stdout).unwrap();
            assert_eq!(printed["id"], groups[0].id.as_str(), "seed {seed}: prints the group it found");
            recovered += 1;
        }
        if recovered >= 2 {
            break;
        }
    }
    assert!(recovered >= 2, "no seed lost the create's answer");
}

/// A TLS server on 127.0.0.1 with a self-signed certificate (made by the
/// `openssl` command, `None` when it is not installed), run on a thread. It
/// returns how many handshakes the client broke off with an alert.
fn untrusted_tls_server(dir: &std::path::Path) -> Option<(String, std::sync::mpsc::Receiver<String>)> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
        ])
        .args(["-subj", "/CN=psg-untrusted-test", "-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output();
    if !made.is_ok_and(|o| o.status.success()) {
        return None;
    }
    let certs: Vec<_> = CertificateDer::pem_file_iter(&cert).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(&key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let config = std::sync::Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let outcome = loop {
                match conn.complete_io(&mut stream) {
                    Ok(_) if !conn.is_handshaking() => break "handshake completed".to_string(),
                    Ok((0, 0)) => break "closed".to_string(),
                    Ok(_) => continue,
                    Err(e) => break e.to_string(),
                }
            };
            if tx.send(outcome).is_err() {
                return;
            }
        }
    });
    Some((base, rx))
}

/// Reproduction: a server whose certificate psg does not trust printed a raw
/// `ERROR failed to verify TLS certificate` log line (rustls' own) before
/// psg's error. At default verbosity only psg's one line is printed.
#[tokio::test]
async fn an_untrusted_certificate_prints_only_psgs_error() {
    let dir = temp_dir("untrusted-tls");
    let Some((base, seen)) = untrusted_tls_server(&dir) else {
        eprintln!("skipped: the openssl command is needed to make a self-signed certificate");
        return;
    };
    let run = run(psg_command(None)
        .env("SAIL_BASE_URL", &base)
        .env("SAIL_ACCESS_TOKEN", "fixed-token-for-tls-test")
        .args(["groups", "list", "--max-attempts", "1"]))
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<_> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line, psg's own: {lines:?}");
    assert!(lines[0].starts_with("error:") && lines[0].contains("certificate"), "{lines:?}");
    assert!(!run.stderr.contains("ERROR") && !run.stderr.contains("failed to verify"), "{}", run.stderr);
    // The server saw the client refuse its certificate.
    let outcome = seen.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    assert!(outcome.contains("alert") || outcome.contains("Alert"), "{outcome}");
}
