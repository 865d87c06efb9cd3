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

/// A proxy hook that, on the first request for the second page of groups,
/// has the other administrator delete the first group of the tenant: offset
/// paging would then skip one group of the pages still to come.
fn delete_during_paging(emu: &EmulatorHandle, other: reqwest::Client, token: String) -> Hook {
    let mut first = emu.groups();
    first.sort_by(|a, b| a.id.cmp(&b.id));
    let (emu_base, id) = (emu.base_url(), first[0].id.clone());
    let done = Arc::new(Mutex::new(false));
    Arc::new(move |method, path| {
        let (other, token, emu_base, id, done) =
            (other.clone(), token.clone(), emu_base.clone(), id.clone(), done.clone());
        let second_page =
            method == "GET" && path.contains("/password-sync-groups?") && path.contains("offset=250");
        Box::pin(async move {
            if second_page && !std::mem::replace(&mut *done.lock().unwrap(), true) {
                let url = format!("{emu_base}/beta/password-sync-groups/{id}");
                let status = other.delete(&url).bearer_auth(&token).send().await.unwrap().status();
                assert_eq!(status.as_u16(), 204);
            }
            Act::Forward
        })
    })
}

#[tokio::test]
async fn a_group_deleted_while_psg_pages_is_neither_left_out_of_an_export_nor_duplicated() {
    let emu = emulator(|b| b.groups(1000)).await;
    let (other, token) = admin(&emu).await;
    let p = proxy(emu.base_url(), delete_during_paging(&emu, other.clone(), token.clone())).await;
    let dir = temp_dir("shared-paging");
    let exported = dir.join("groups.yaml").display().to_string();
    let run: Run =
        psg_command(Some(&p.base)).args(["export", "--file", &exported]).output().await.unwrap().into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&exported).unwrap();
    let now = emu.groups();
    assert_eq!(now.len(), 999);
    for g in &now {
        assert!(
            text.contains(&g.id) || text.contains(&format!("name: {}", g.name)),
            "{} is in the export",
            g.name
        );
    }
    assert_eq!(text.matches("- name: ").count(), 999, "every live group once");

    // An apply whose listing meets the same: it plans against the whole
    // tenant, so it recreates only the group deleted under it, once.
    let deleted_now = {
        let mut g = emu.groups();
        g.sort_by(|a, b| a.id.cmp(&b.id));
        g[0].name.clone()
    };
    let p = proxy(emu.base_url(), delete_during_paging(&emu, other, token)).await;
    let run = apply(&p.base, &["-f", &exported, "--prune"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(p.writes("DELETE"), 0, "psg deleted nothing: {}", run.stdout);
    assert_eq!(p.writes("POST"), 1, "{}", run.stdout);
    assert!(run.stdout.contains(&format!("created \"{deleted_now}\"")), "{}", run.stdout);
    let mut names: Vec<String> = emu.groups().into_iter().map(|g| g.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 999, "every group of the file once");
}

#[tokio::test]
async fn apply_json_reports_every_reviewed_change_with_its_outcome() {
    let emu = emulator(|b| b.groups(2)).await;
    let target = emu.groups().into_iter().find(|g| g.name == "Sync group 00001").unwrap();
    let mut text = file_with_new_policy(&emu, &target.name);
    let cat = emu.catalog();
    text.push_str(&format!(
        "  - name: Fresh\n    passwordPolicyId: {}\n    sourceIds: [{}, {}]\n",
        cat.password_policy_ids[0], cat.source_ids[0], cat.source_ids[1]
    ));
    let f = file("shared-json", &text);
    // The update is deleted under psg; the create goes through.
    let (other, token) = admin(&emu).await;
    let (emu_base, id) = (emu.base_url(), target.id.clone());
    let hook: Hook = Arc::new(move |method, path| {
        let (other, token, emu_base, id) = (other.clone(), token.clone(), emu_base.clone(), id.clone());
        let put = method == "PUT" && path.ends_with(&id);
        Box::pin(async move {
            if put {
                let url = format!("{emu_base}/beta/password-sync-groups/{id}");
                other.delete(&url).bearer_auth(&token).send().await.unwrap();
            }
            Act::Forward
        })
    });
    let p = proxy(emu.base_url(), hook).await;
    let run = apply(&p.base, &["-f", &f, "-o", "json"]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("stdout is one JSON document");
    let fresh = emu.groups().into_iter().find(|g| g.name == "Fresh").unwrap();
    assert_eq!(
        doc["changes"],
        serde_json::json!([
            {"action": "update", "name": "Sync group 00001", "id": target.id, "outcome": "conflict", "detail": "deleted since the plan"},
            {"action": "create", "name": "Fresh", "id": fresh.id, "outcome": "applied", "detail": null},
        ])
    );
    assert_eq!(
        doc["summary"],
        serde_json::json!({"applied": 1, "conflict": 1, "failed": 0, "unknown": 0, "notStarted": 0})
    );
    assert!(run.stderr.contains("conflict \"Sync group 00001\""), "the lines go to stderr: {}", run.stderr);
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_finishes_in_flight_changes_reports_them_and_exits_143() {
    // Creates take 1.5 s each at the server: SIGTERM arrives while four are in flight.
    let emu = emulator(|b| b.latency("1500".parse().unwrap())).await;
    let cat = emu.catalog();
    let mut text = String::from("groups:\n");
    for i in 0..12 {
        text.push_str(&format!(
            "  - name: Term {i:02}\n    passwordPolicyId: {}\n    sourceIds: [{}, {}]\n",
            cat.password_policy_ids[0], cat.source_ids[0], cat.source_ids[1]
        ));
    }
    let f = file("shared-sigterm", &text);
    let mut child = psg_command(Some(&emu.base_url()))
        .args(["apply", "-f", &f, "--yes", "-o", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = tokio::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    // Wait for the first outcome line (the probe create), then terminate.
    loop {
        let mut line = String::new();
        let n = tokio::io::AsyncBufReadExt::read_line(&mut err, &mut line).await.unwrap();
        assert!(n > 0, "psg ended early: {seen}");
        seen.push_str(&line);
        if line.starts_with("created ") {
            break;
        }
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().unwrap().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().await.unwrap();
    let mut rest = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut err, &mut rest).await.unwrap();
    assert_eq!(out.status.code(), Some(143), "{seen}{rest}");
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the JSON document is printed after SIGTERM");
    let on_server = emu.groups().len();
    let applied = doc["summary"]["applied"].as_u64().unwrap() as usize;
    assert_eq!(applied, on_server, "every change made is reported: {doc}");
    assert!(on_server < 12, "no new change started after SIGTERM");
    assert_eq!(doc["summary"]["notStarted"].as_u64().unwrap() as usize, 12 - on_server, "{doc}");
    assert!(rest.contains(&format!("terminated: {on_server} of 12 change(s) done")), "{rest}");
}

#[tokio::test]
async fn a_saved_plan_refuses_another_tenant_and_a_hand_edited_change() {
    let emu = emulator(|b| b.groups(2)).await;
    let other = emulator(|b| b.groups(2)).await;
    let dir = temp_dir("shared-saved");
    let f = file("shared-saved-file", "groups:\n");
    let plan = dir.join("groups.plan").display().to_string();
    let run: Run = psg_command(Some(&emu.base_url()))
        .args(["plan", "-f", &f, "--prune", "--out", &plan])
        .output()
        .await
        .unwrap()
        .into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    assert_eq!(saved["psgPlan"], 2);
    assert_eq!(saved["apiVersion"], "beta");

    // Another tenant: refused before anything is written.
    let run = apply(&other.base_url(), &["--plan", &plan, "--allow-delete-all"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("was made against"), "{}", run.stderr);
    assert_eq!(other.stats().writes, 0);
    assert_eq!(other.groups().len(), 2);

    // A hand edit: the first delete now names another id than its own.
    let mut edited = saved.clone();
    let ids: Vec<String> = emu.groups().into_iter().map(|g| g.id).collect();
    let first = edited["changes"][0]["id"].as_str().unwrap().to_string();
    let swap = ids.iter().find(|i| **i != first).unwrap().clone();
    edited["changes"][0]["id"] = swap.into();
    edited["changes"][1]["id"] = first.into();
    std::fs::write(&plan, serde_json::to_string(&edited).unwrap()).unwrap();
    let run = apply(&emu.base_url(), &["--plan", &plan, "--allow-delete-all"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not what psg plan wrote"), "{}", run.stderr);
    assert_eq!(emu.stats().writes, 0, "nothing was sent");
}

#[tokio::test]
async fn a_closed_stdout_stops_new_changes_and_stderr_says_exactly_what_was_made() {
    let emu = emulator(|b| b.latency("300".parse().unwrap())).await;
    let cat = emu.catalog();
    let mut text = String::from("groups:\n");
    for i in 0..16 {
        text.push_str(&format!(
            "  - name: Pipe {i:02}\n    passwordPolicyId: {}\n    sourceIds: [{}, {}]\n",
            cat.password_policy_ids[0], cat.source_ids[0], cat.source_ids[1]
        ));
    }
    let f = file("shared-pipe", &text);
    let mut child = psg_command(Some(&emu.base_url()))
        .args(["apply", "-f", &f, "--yes"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        let n = tokio::io::AsyncBufReadExt::read_line(&mut out, &mut line).await.unwrap();
        assert!(n > 0, "psg ended before its first outcome");
        if line.starts_with("created ") {
            break;
        }
    }
    // The reader goes away, as `psg apply … | head -n 20` would.
    drop(out);
    let done = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(1), "{stderr}");
    let on_server = emu.groups();
    assert!(on_server.len() < 16, "new changes stopped: {stderr}");
    assert!(stderr.contains("stdout was closed"), "{stderr}");
    for g in &on_server {
        assert!(
            stderr.contains(&format!("created \"{}\" ({})", g.name, g.id)),
            "{} is named: {stderr}",
            g.name
        );
    }
}
