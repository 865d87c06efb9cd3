//! `psg apply` in a shared tenant: a proxy in front of the emulator plays
//! "the other administrator" (renames or deletes a group right before
//! psg's write reaches the server) or a slow server (holds a create past the
//! client's timeout, then commits it). Each test asserts what the server saw
//! and what psg printed.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use psg_e2e::{DEMO_SECRET, Run, emulator, psg_command, temp_dir};
use psg_emulator::EmulatorHandle;

/// What the proxy does with one request, decided by the test.
enum Act {
    /// Pass it on.
    Forward,
    /// Answer this status without passing it on.
    Answer(u16),
    /// Wait, then pass it on in a task of its own (even if the client has gone).
    LateForward(Duration),
}

type Hook = Arc<dyn Fn(&str, &str) -> Pin<Box<dyn Future<Output = Act> + Send>> + Send + Sync>;

/// The proxy's address and the requests the server side saw (method, path).
struct Proxy {
    base: String,
    seen: Arc<Mutex<Vec<(String, String)>>>,
    /// Late forwards not yet answered by the server.
    late: tokio::sync::watch::Sender<usize>,
}

impl Proxy {
    /// Waits until every late forward has reached the server and been answered.
    async fn settled(&self) {
        self.late.subscribe().wait_for(|n| *n == 0).await.unwrap();
    }

    fn writes(&self, method: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, p)| m == method && p.contains("/password-sync-groups"))
            .count()
    }
}

/// An HTTP client for the proxy and the other administrator (plain HTTP on
/// loopback; the process-wide crypto provider is set once for reqwest).
fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn forward(
    upstream: &str,
    method: &str,
    path: &str,
    headers: hyper::HeaderMap,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let client = http();
    let mut req = client.request(method.parse().unwrap(), format!("{upstream}{path}")).body(body.to_vec());
    for (k, v) in &headers {
        if k != "host" && k != "content-length" {
            req = req.header(k.as_str(), v.as_bytes());
        }
    }
    let answer = req.send().await.unwrap();
    let mut response = Response::builder().status(answer.status().as_u16());
    for (k, v) in answer.headers() {
        if k != "content-length" && k != "transfer-encoding" {
            response = response.header(k.as_str(), v.as_bytes());
        }
    }
    response.body(Full::new(answer.bytes().await.unwrap())).unwrap()
}

async fn proxy(upstream: String, hook: Hook) -> Proxy {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let recorded = seen.clone();
    let (late, _) = tokio::sync::watch::channel(0usize);
    let in_flight = late.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (upstream, hook, seen, late) =
                (upstream.clone(), hook.clone(), recorded.clone(), in_flight.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let (upstream, hook, seen, late) =
                        (upstream.clone(), hook.clone(), seen.clone(), late.clone());
                    async move {
                        let method = req.method().to_string();
                        let path = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
                        let headers = req.headers().clone();
                        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let act = hook(&method, &path).await;
                        let response = match act {
                            Act::Answer(status) => Response::builder()
                                .status(status)
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from_static(br#"{"message":"proxy says no"}"#)))
                                .unwrap(),
                            Act::Forward => {
                                seen.lock().unwrap().push((method.clone(), path.clone()));
                                forward(&upstream, &method, &path, headers, body).await
                            }
                            Act::LateForward(delay) => {
                                late.send_modify(|n| *n += 1);
                                let task = tokio::spawn(async move {
                                    // The server's own pace, not a stand-in for synchronisation.
                                    tokio::time::sleep(delay).await;
                                    seen.lock().unwrap().push((method.clone(), path.clone()));
                                    let answer = forward(&upstream, &method, &path, headers, body).await;
                                    late.send_modify(|n| *n -= 1);
                                    answer
                                });
                                task.await.unwrap()
                            }
                        };
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Proxy { base, seen, late }
}

/// The other administrator: a client of its own, straight to the emulator.
async fn admin(emu: &EmulatorHandle) -> (reqwest::Client, String) {
    let client = http();
    let v: serde_json::Value = client
        .post(format!("{}/oauth/token", emu.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "psg-demo"),
            ("client_secret", DEMO_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (client, v["access_token"].as_str().unwrap().to_string())
}

fn file(dir: &str, text: &str) -> String {
    let path = temp_dir(dir).join("groups.yaml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Every group of the emulator as a desired-state file, with one changed policy.
fn file_with_new_policy(emu: &EmulatorHandle, changed: &str) -> String {
    let cat = emu.catalog();
    let mut text = String::from("groups:\n");
    for g in emu.groups() {
        let policy = if g.name == changed {
            cat.password_policy_ids.iter().find(|p| **p != g.password_policy_id).unwrap().clone()
        } else {
            g.password_policy_id.clone()
        };
        text.push_str(&format!(
            "  - name: {}\n    passwordPolicyId: {policy}\n    sourceIds: [{}]\n",
            g.name,
            g.source_ids.join(", ")
        ));
    }
    text
}

async fn apply(base: &str, args: &[&str]) -> Run {
    let mut cmd = psg_command(Some(base));
    cmd.arg("apply").args(args).arg("--yes");
    cmd.output().await.unwrap().into()
}

#[tokio::test]
async fn an_update_of_a_group_deleted_before_the_put_is_a_conflict_not_a_success() {
    let emu = emulator(|b| b.groups(2)).await;
    let target = emu.groups().into_iter().find(|g| g.name == "Sync group 00001").unwrap();
    let f = file("shared-deleted", &file_with_new_policy(&emu, &target.name));
    let (other, token) = admin(&emu).await;
    let (emu_base, id) = (emu.base_url(), target.id.clone());
    let hook: Hook = Arc::new(move |method, path| {
        let (other, token, emu_base, id) = (other.clone(), token.clone(), emu_base.clone(), id.clone());
        let put = method == "PUT" && path.ends_with(&id);
        Box::pin(async move {
            if put {
                let url = format!("{emu_base}/beta/password-sync-groups/{id}");
                other.delete(url).bearer_auth(token).send().await.unwrap();
            }
            Act::Forward
        })
    });
    let p = proxy(emu.base_url(), hook).await;
    let run = apply(&p.base, &["-f", &f]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("conflict \"Sync group 00001\" ({}): deleted since the plan", target.id)),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("updated \""), "no false success: {}", run.stdout);
    assert!(
        run.stdout.contains(
            "Applied: 0 of 1 changes (0 created, 0 updated, 0 deleted); 1 conflict(s), 0 failed, 0 unknown."
        ),
        "{}",
        run.stdout
    );
    assert_eq!(p.writes("POST"), 0, "the deleted group is not created again");
    assert!(!emu.groups().iter().any(|g| g.id == target.id));
}

#[tokio::test]
async fn a_group_renamed_while_its_update_keeps_failing_is_never_deleted() {
    let emu = emulator(|b| b.groups(2)).await;
    let target = emu.groups().into_iter().find(|g| g.name == "Sync group 00001").unwrap();
    let f = file("shared-renamed", &file_with_new_policy(&emu, &target.name));
    let (other, token) = admin(&emu).await;
    let (emu_base, id) = (emu.base_url(), target.id.clone());
    let renamed = Arc::new(Mutex::new(false));
    let hook: Hook = Arc::new(move |method, path| {
        let (other, token, emu_base, id, renamed) =
            (other.clone(), token.clone(), emu_base.clone(), id.clone(), renamed.clone());
        let put = method == "PUT" && path.ends_with(&id);
        Box::pin(async move {
            if !put {
                return Act::Forward;
            }
            let first = !std::mem::replace(&mut *renamed.lock().unwrap(), true);
            if first {
                let url = format!("{emu_base}/beta/password-sync-groups/{id}");
                let mut g: serde_json::Value =
                    other.get(&url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
                g["name"] = "Sync group 00001 (renamed elsewhere)".into();
                other.put(&url).bearer_auth(&token).json(&g).send().await.unwrap();
            }
            Act::Answer(503)
        })
    });
    let p = proxy(emu.base_url(), hook).await;
    let run = apply(&p.base, &["-f", &f, "--prune"]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(p.writes("DELETE"), 0, "no delete was reviewed: {}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "conflict \"Sync group 00001\" ({}): renamed to \"Sync group 00001 (renamed elsewhere)\" since the plan",
            target.id
        )),
        "{}",
        run.stdout
    );
    assert!(emu.groups().iter().any(|g| g.id == target.id), "the group still exists");
    assert!(run.stdout.contains("1 conflict(s)"), "{}", run.stdout);
}

#[tokio::test]
async fn a_create_committed_after_the_client_timed_out_is_found_not_made_twice() {
    let emu = emulator(|b| b).await;
    let cat = emu.catalog();
    let f = file(
        "shared-late",
        &format!(
            "groups:\n  - name: Late one\n    passwordPolicyId: {}\n    sourceIds: [{}, {}]\n",
            cat.password_policy_ids[0], cat.source_ids[0], cat.source_ids[1]
        ),
    );
    let hook: Hook = Arc::new(|method, path| {
        let late = method == "POST" && path.starts_with("/beta/password-sync-groups");
        Box::pin(
            async move { if late { Act::LateForward(Duration::from_millis(3000)) } else { Act::Forward } },
        )
    });
    let p = proxy(emu.base_url(), hook).await;
    let mut cmd = psg_command(Some(&p.base));
    cmd.args(["--timeout", "2", "apply", "-f", &f, "--yes"]);
    let run: Run = cmd.output().await.unwrap().into();
    p.settled().await;
    let named: Vec<_> = emu.groups().into_iter().filter(|g| g.name == "Late one").collect();
    assert_eq!(named.len(), 1, "exactly one group named Late one: {}\n{}", run.stdout, run.stderr);
    assert_eq!(p.writes("POST"), 1, "the create was sent once");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains(&format!("created \"Late one\" ({})", named[0].id)), "{}", run.stdout);
}

#[tokio::test]
async fn two_applies_at_once_leave_no_duplicate_unreported() {
    let emu = emulator(|b| b.latency("40".parse().unwrap())).await;
    let cat = emu.catalog();
    let mut text = String::from("groups:\n");
    for i in 0..20 {
        text.push_str(&format!(
            "  - name: Both {i:02}\n    passwordPolicyId: {}\n    sourceIds: [{}, {}]\n",
            cat.password_policy_ids[0],
            cat.source_ids[i % cat.source_ids.len()],
            cat.source_ids[(i + 1) % cat.source_ids.len()]
        ));
    }
    let (fa, fb) = (file("shared-both-a", &text), file("shared-both-b", &text));
    let base = emu.base_url();
    let (args_a, args_b) = (["-f", fa.as_str()], ["-f", fb.as_str()]);
    let (a, b) = tokio::join!(apply(&base, &args_a), apply(&base, &args_b));
    let mut by_name: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for g in emu.groups() {
        by_name.entry(g.name).or_default().push(g.id);
    }
    assert_eq!(by_name.len(), 20, "every name exists");
    for (name, ids) in by_name.iter().filter(|(_, ids)| ids.len() > 1) {
        let line = format!("conflict \"{name}\": another writer created \"{name}\" at the same time");
        let reporters: Vec<&Run> = [&a, &b].into_iter().filter(|r| r.stdout.contains(&line)).collect();
        assert!(!reporters.is_empty(), "{name} ({ids:?}) is reported:\n{}\n{}", a.stdout, b.stdout);
        assert!(reporters.iter().all(|r| r.code == 1), "a run that saw a duplicate fails");
    }
    for r in [&a, &b] {
        assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    }
}
