//! The emulator over real HTTP on 127.0.0.1: every rule, status and body shape.

use std::time::Duration;

mod common;

use common::http_client;
use psg_emulator::{ClientSpec, Emulator, EmulatorHandle, FaultSpec, RateLimit};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn start() -> EmulatorHandle {
    Emulator::builder().ephemeral().rate_limit(None).start().await.unwrap()
}

/// A form-encoded client-credentials request, answered whatever its status.
async fn token_request(base: &str, id: &str, secret: &str) -> reqwest::Response {
    http_client()
        .post(format!("{base}/oauth/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)])
        .send()
        .await
        .unwrap()
}

async fn token_for(base: &str, id: &str, secret: &str) -> String {
    let r = token_request(base, id, secret).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn new(emu: &EmulatorHandle) -> Self {
        let base = emu.base_url();
        let token = token_for(&base, "psg-demo", "psg-demo-secret").await;
        Api { base, token, http: http_client() }
    }
    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token)
    }
    async fn create(&self, body: Value) -> reqwest::Response {
        self.req(reqwest::Method::POST, "/beta/password-sync-groups").json(&body).send().await.unwrap()
    }
}

fn valid(emu: &EmulatorHandle, name: &str) -> Value {
    let c = emu.catalog();
    json!({"name": name, "passwordPolicyId": c.password_policy_ids[0], "sourceIds": [c.source_ids[0], c.source_ids[1]]})
}

fn assert_error_dto(body: &Value, field: Option<&str>) {
    assert!(body["detailCode"].is_string(), "{body}");
    let tid = body["trackingId"].as_str().unwrap();
    assert_eq!(tid.len(), 32, "{body}");
    let msg = &body["messages"][0];
    assert_eq!(msg["locale"], "en-US");
    assert_eq!(msg["localeOrigin"], "DEFAULT");
    if let Some(field) = field {
        assert!(msg["text"].as_str().unwrap().contains(field), "{body}");
    }
}

#[tokio::test]
async fn token_accepts_form_multipart_and_basic_and_refuses_bad_credentials() {
    let emu = start().await;
    let base = emu.base_url();
    let http = http_client();
    assert!(!token_for(&base, "psg-demo", "psg-demo-secret").await.is_empty());

    let form = reqwest::multipart::Form::new()
        .text("grant_type", "client_credentials")
        .text("client_id", "psg-demo")
        .text("client_secret", "psg-demo-secret");
    let r = http.post(format!("{base}/oauth/token")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 749);
    assert_eq!(body["scope"], "idn:password-sync-group:manage idn:sources:read idn:password-policy:read");

    let r = http
        .post(format!("{base}/oauth/token"))
        .basic_auth("psg-demo", Some("psg-demo-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let r = token_request(&base, "psg-demo", "wrong").await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    assert_eq!(emu.stats().tokens_issued, 3);
}

#[tokio::test]
async fn missing_malformed_unknown_tokens_are_401_error_bodies() {
    let emu = start().await;
    let url = format!("{}/beta/password-sync-groups", emu.base_url());
    let http = http_client();
    for auth in [None, Some("Basic x"), Some("Bearer not-issued")] {
        let mut req = http.get(&url);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{auth:?}");
        assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    }
}

#[tokio::test]
async fn expired_token_is_401() {
    let emu = Emulator::builder().ephemeral().token_ttl(Duration::ZERO).start().await.unwrap();
    let api = Api::new(&emu).await;
    let r = api.req(reqwest::Method::GET, "/beta/password-sync-groups").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "JWT validation failed: JWT is expired");
}

#[tokio::test]
async fn read_only_client_reads_but_gets_403_on_writes() {
    let emu = Emulator::builder()
        .ephemeral()
        .extra_client("reader:pw:read".parse::<ClientSpec>().unwrap())
        .start()
        .await
        .unwrap();
    let base = emu.base_url();
    let token = token_for(&base, "reader", "pw").await;
    let http = http_client();
    let r = http.get(format!("{base}/beta/password-sync-groups")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(format!("{base}/beta/password-sync-groups"))
        .bearer_auth(&token)
        .json(&valid(&emu, "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_error_dto(&body, Some("idn:password-sync-group:manage"));
    assert_eq!(emu.stats().writes, 0);
}

#[tokio::test]
async fn create_get_replace_delete_round_trip() {
    let emu = start().await;
    let api = Api::new(&emu).await;
    let r = api.create(valid(&emu, "Finance")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let g: Value = r.json().await.unwrap();
    let id = g["id"].as_str().unwrap().to_string();
    assert!(id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(g["created"], g["modified"]);
    assert!(g["created"].as_str().unwrap().ends_with('Z') && g["created"].as_str().unwrap().len() == 24);

    let got: Value = api
        .req(reqwest::Method::GET, &format!("/beta/password-sync-groups/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got, g);

    tokio::time::sleep(Duration::from_millis(2)).await; // modified has millisecond precision
    let mut body = valid(&emu, "Finance 2");
    body["id"] = json!("ignored");
    body["created"] = Value::Null;
    body["modified"] = Value::Null;
    let r = api
        .req(reqwest::Method::PUT, &format!("/beta/password-sync-groups/{id}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let put: Value = r.json().await.unwrap();
    assert_eq!(
        (put["id"].as_str(), &put["name"], &put["created"]),
        (Some(id.as_str()), &json!("Finance 2"), &g["created"])
    );
    assert_ne!(put["modified"], g["modified"]);

    let r =
        api.req(reqwest::Method::DELETE, &format!("/beta/password-sync-groups/{id}")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.bytes().await.unwrap().is_empty());
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let r = api.req(method, &format!("/beta/password-sync-groups/{id}")).send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert_error_dto(&r.json().await.unwrap(), Some(&id));
    }
    let r = api
        .req(reqwest::Method::PUT, "/beta/password-sync-groups/nope")
        .json(&valid(&emu, "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(emu.stats().writes, 3);
}

#[tokio::test]
async fn create_rules_answer_400_naming_the_field() {
    let emu = start().await;
    let api = Api::new(&emu).await;
    let c = emu.catalog();
    let cases = [
        (
            json!({"name": "", "passwordPolicyId": c.password_policy_ids[0], "sourceIds": [c.source_ids[0], c.source_ids[1]]}),
            "name",
        ),
        (
            json!({"name": "a", "passwordPolicyId": "unknown", "sourceIds": [c.source_ids[0], c.source_ids[1]]}),
            "passwordPolicyId",
        ),
        (
            json!({"name": "a", "passwordPolicyId": c.password_policy_ids[0], "sourceIds": [c.source_ids[0]]}),
            "sourceIds",
        ),
        (
            json!({"name": "a", "passwordPolicyId": c.password_policy_ids[0], "sourceIds": [c.source_ids[0], "zzz"]}),
            "sourceIds",
        ),
        (json!({"name": "a", "passwordPolicyId": c.password_policy_ids[0], "sourceIds": 3}), "sourceIds"),
    ];
    for (body, field) in cases {
        let r = api.create(body.clone()).await;
        assert_eq!(r.status(), 400, "{body}");
        assert_error_dto(&r.json().await.unwrap(), Some(field));
    }
    let r = api
        .req(reqwest::Method::POST, "/beta/password-sync-groups")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_error_dto(&r.json().await.unwrap(), Some("JSON"));
    assert_eq!(emu.groups().len(), 0);
}

#[tokio::test]
async fn list_pages_counts_and_validates_its_query() {
    let emu = Emulator::builder().ephemeral().rate_limit(None).groups(7).start().await.unwrap();
    let api = Api::new(&emu).await;
    let names = |v: &Value| {
        v.as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let r = api
        .req(reqwest::Method::GET, "/beta/password-sync-groups?limit=3&offset=2&count=true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-total-count"], "7");
    assert_eq!(names(&r.json().await.unwrap()), ["Sync group 00003", "Sync group 00004", "Sync group 00005"]);
    let r = api.req(reqwest::Method::GET, "/beta/password-sync-groups").send().await.unwrap();
    assert!(r.headers().get("x-total-count").is_none());
    assert_eq!(r.json::<Value>().await.unwrap().as_array().unwrap().len(), 7);
    let r = api.req(reqwest::Method::GET, "/beta/password-sync-groups?offset=100").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
    let r = api.req(reqwest::Method::GET, "/beta/password-sync-groups?limit=0").send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
    for q in ["limit=251", "limit=-1", "limit=abc", "offset=", "offset=-3", "count=maybe"] {
        let r =
            api.req(reqwest::Method::GET, &format!("/beta/password-sync-groups?{q}")).send().await.unwrap();
        assert_eq!(r.status(), 400, "{q}");
        let key = q.split('=').next().unwrap();
        assert_error_dto(&r.json().await.unwrap(), Some(key));
    }
}

#[tokio::test]
async fn v1_path_percent_decoding_405_and_unknown_paths() {
    let emu = start().await;
    let api = Api::new(&emu).await;
    let g: Value = api
        .req(reqwest::Method::POST, "/password-sync-groups/v1")
        .json(&valid(&emu, "v1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = g["id"].as_str().unwrap();
    let r = api.req(reqwest::Method::GET, &format!("/password-sync-groups/v1/{id}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // %61 is 'a': the id segment is percent-decoded.
    let encoded: String =
        id.chars().map(|c| if c == 'a' { "%61".to_string() } else { c.to_string() }).collect();
    let r =
        api.req(reqwest::Method::GET, &format!("/beta/password-sync-groups/{encoded}")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{encoded}");
    let r = api.req(reqwest::Method::PATCH, "/beta/password-sync-groups").send().await.unwrap();
    assert_eq!(r.status(), 405);
    let allow = r.headers()["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let r = api.req(reqwest::Method::GET, "/beta/no-such-thing").send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_and_counts_only_api_requests() {
    let emu = Emulator::builder()
        .ephemeral()
        .rate_limit(Some(RateLimit { count: 3, window: Duration::from_secs(30) }))
        .start()
        .await
        .unwrap();
    let api = Api::new(&emu).await;
    let _second_token = token_for(&emu.base_url(), "psg-demo", "psg-demo-secret").await;
    for _ in 0..3 {
        assert_eq!(
            api.req(reqwest::Method::GET, "/beta/password-sync-groups").send().await.unwrap().status(),
            200
        );
    }
    let r = api.req(reqwest::Method::GET, "/beta/password-sync-groups").send().await.unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((29..=30).contains(&retry), "{retry}");
    assert!(r.json::<Value>().await.unwrap()["message"].is_string());
    let stats = emu.stats();
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(stats.requests["GET /beta/password-sync-groups"][&429], 1);
}

#[tokio::test]
async fn faults_are_seeded_and_reset_closes_the_connection() {
    let run = |seed| async move {
        let emu = Emulator::builder()
            .ephemeral()
            .rate_limit(None)
            .faults("500=0.2,503=0.1,429=0.1,reset=0.1".parse::<FaultSpec>().unwrap(), seed)
            .start()
            .await
            .unwrap();
        let api = Api::new(&emu).await;
        let mut outcomes = Vec::new();
        for _ in 0..40 {
            let r = api.req(reqwest::Method::GET, "/beta/password-sync-groups").send().await;
            outcomes.push(match r {
                Ok(r) => {
                    let status = r.status().to_string();
                    if r.status() == 429 {
                        assert_eq!(r.headers()["retry-after"], "1");
                    }
                    if r.status() == StatusCode::INTERNAL_SERVER_ERROR {
                        assert_error_dto(&r.json().await.unwrap(), None);
                    }
                    status
                }
                Err(e) => {
                    assert!(e.is_request() || e.is_connect() || e.to_string().contains("connection"), "{e}");
                    "reset".to_string()
                }
            });
        }
        (emu.stats().faults, outcomes)
    };
    let (a, sequence) = run(11).await;
    let (b, same_seed) = run(11).await;
    let (_, other_seed) = run(12).await;
    assert_eq!(a, b, "same seed, same fault counts");
    assert_eq!(sequence, same_seed, "same seed and request order, same outcome for every request");
    assert_ne!(sequence, other_seed, "another seed, other faults");
    let resets = sequence.iter().filter(|o| *o == "reset").count();
    assert!(resets > 0 && a["reset"] as usize == resets, "{a:?} {resets}");
    assert!(a.contains_key("500") && a.contains_key("503") && a.contains_key("429"), "{a:?}");
}

#[tokio::test]
async fn token_faults_only_when_asked() {
    let emu = Emulator::builder()
        .ephemeral()
        .faults("500=1".parse::<FaultSpec>().unwrap(), 1)
        .start()
        .await
        .unwrap();
    let token = token_for(&emu.base_url(), "psg-demo", "psg-demo-secret").await;
    assert!(!token.is_empty(), "API faults never hit /oauth/token");
    let emu = Emulator::builder()
        .ephemeral()
        .faults("token500=1".parse::<FaultSpec>().unwrap(), 1)
        .start()
        .await
        .unwrap();
    let r = token_request(&emu.base_url(), "psg-demo", "psg-demo-secret").await;
    assert_eq!(r.status(), 500);
}

#[tokio::test]
async fn state_file_survives_restart_and_admin_reset_restores_seed() {
    let dir = std::env::temp_dir().join(format!("psg-emu-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("groups.json");
    let _ = std::fs::remove_file(&file);
    let emu = Emulator::builder().ephemeral().state_file(&file).start().await.unwrap();
    let api = Api::new(&emu).await;
    assert_eq!(api.create(valid(&emu, "kept")).await.status(), 200);
    emu.shutdown().await;
    let emu = Emulator::builder().ephemeral().state_file(&file).groups(2).start().await.unwrap();
    assert_eq!(
        emu.groups().iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        ["kept"],
        "state file wins over --groups"
    );

    let http = http_client();
    let catalog: Value = http
        .get(format!("{}/__emulator/catalog", emu.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(catalog["sourceIds"].as_array().unwrap().len(), 5);
    let r = http.post(format!("{}/__emulator/reset", emu.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let stats: Value =
        http.get(format!("{}/__emulator/stats", emu.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats["groups"], 2);
    assert_eq!(stats["writes"], 0);
}

#[tokio::test]
async fn latency_does_not_block_other_connections() {
    let emu = Emulator::builder()
        .ephemeral()
        .rate_limit(None)
        .latency("200".parse().unwrap())
        .start()
        .await
        .unwrap();
    let api = Api::new(&emu).await;
    let started = tokio::time::Instant::now();
    let calls = (0..8).map(|_| {
        let req = api.req(reqwest::Method::GET, "/beta/password-sync-groups");
        async move { req.send().await.unwrap().status() }
    });
    let statuses = futures::future::join_all(calls).await;
    assert!(statuses.iter().all(|s| *s == 200));
    let elapsed = started.elapsed();
    // 8 sequential waits would take 1.6 s; concurrent ones overlap.
    assert!(elapsed < Duration::from_millis(1200), "{elapsed:?}");
}

#[tokio::test]
async fn lost_fault_acts_then_drops_the_answer() {
    let emu = Emulator::builder()
        .ephemeral()
        .rate_limit(None)
        .faults("lost=1".parse::<FaultSpec>().unwrap(), 5)
        .start()
        .await
        .unwrap();
    let api = Api::new(&emu).await;
    let sent =
        api.req(reqwest::Method::POST, "/beta/password-sync-groups").json(&valid(&emu, "ghost")).send().await;
    assert!(sent.is_err(), "no answer arrives: {sent:?}");
    assert_eq!(emu.groups().len(), 1, "the create took effect although no answer came");
    assert_eq!(emu.stats().faults["lost"], 1);
}

/// Waits (in virtual time) until the emulator has counted `n` faults of `kind`.
async fn until_fault_counted(emu: &EmulatorHandle, kind: &str, n: u64) {
    for _ in 0..10_000 {
        if emu.stats().faults.get(kind).copied().unwrap_or(0) >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("the emulator never counted {n} {kind} fault(s)");
}

#[tokio::test(start_paused = true)]
async fn late_fault_commits_a_create_after_the_client_has_gone() {
    let emu = Emulator::builder()
        .ephemeral()
        .rate_limit(None)
        .late_delay(Duration::from_secs(3))
        .faults("late=1".parse::<FaultSpec>().unwrap(), 1)
        .start()
        .await
        .unwrap();
    let api = Api::new(&emu).await;
    let before = emu.groups().len();
    let req = api.req(reqwest::Method::POST, "/beta/password-sync-groups").json(&valid(&emu, "Late one"));
    let client = tokio::spawn(async move { req.send().await });
    until_fault_counted(&emu, "late", 1).await;
    // The client gives up: its connection is dropped while the write is held.
    client.abort();
    assert!(client.await.unwrap_err().is_cancelled());
    assert_eq!(emu.groups().len(), before, "nothing is committed while the write is held");
    let held_from = tokio::time::Instant::now();
    let mut committed = false;
    while held_from.elapsed() < Duration::from_secs(10) {
        if emu.groups().iter().any(|g| g.name == "Late one") {
            committed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(committed, "the held create was committed although the client had gone");
    let waited = held_from.elapsed();
    assert!(waited >= Duration::from_millis(2900), "committed only after the hold: {waited:?}");
    assert_eq!(emu.groups().iter().filter(|g| g.name == "Late one").count(), 1);
}

#[tokio::test(start_paused = true)]
async fn late_fault_holds_deletes_and_answers_a_patient_client_but_passes_reads() {
    let emu = Emulator::builder()
        .ephemeral()
        .rate_limit(None)
        .groups(2)
        .late_delay(Duration::from_millis(500))
        .faults("late=1".parse::<FaultSpec>().unwrap(), 1)
        .start()
        .await
        .unwrap();
    let api = Api::new(&emu).await;
    let started = tokio::time::Instant::now();
    let listed = api.req(reqwest::Method::GET, "/beta/password-sync-groups").send().await.unwrap();
    assert_eq!(listed.status(), 200);
    assert!(started.elapsed() < Duration::from_millis(500), "a read is not held");
    assert!(!emu.stats().faults.contains_key("late"), "a read does not count as late");
    let id = emu.groups()[0].id.clone();
    let started = tokio::time::Instant::now();
    let deleted =
        api.req(reqwest::Method::DELETE, &format!("/beta/password-sync-groups/{id}")).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(started.elapsed() >= Duration::from_millis(500), "the delete was held");
    assert_eq!(emu.groups().len(), 1);
    assert_eq!(emu.stats().faults["late"], 1);
}

#[tokio::test]
async fn slow_fault_stalls_past_the_client_timeout_then_answers() {
    let emu = Emulator::builder()
        .ephemeral()
        .rate_limit(None)
        .slow_delay(Duration::from_millis(400))
        .faults("slow=1".parse::<FaultSpec>().unwrap(), 2)
        .start()
        .await
        .unwrap();
    let api = Api::new(&emu).await;
    let timed_out = api
        .req(reqwest::Method::GET, "/beta/password-sync-groups")
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert!(timed_out.is_timeout(), "{timed_out}");
    // A patient client still gets the real answer.
    let r = api.req(reqwest::Method::GET, "/beta/password-sync-groups").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(emu.stats().faults["slow"], 2);
}

#[tokio::test]
async fn exclusive_sources_refuse_a_source_held_by_another_group() {
    let emu = Emulator::builder()
        .ephemeral()
        .rate_limit(None)
        .sources(6)
        .exclusive_sources(true)
        .start()
        .await
        .unwrap();
    let api = Api::new(&emu).await;
    let c = emu.catalog();
    let s = &c.source_ids;
    let p = &c.password_policy_ids[0];
    let a: Value = api
        .create(json!({"name": "Finance", "passwordPolicyId": p, "sourceIds": [s[0], s[1]]}))
        .await
        .json()
        .await
        .unwrap();
    let a_id = a["id"].as_str().unwrap().to_string();
    // Create taking s[1] from Finance: 400 naming Finance by name and id.
    let r = api.create(json!({"name": "HR", "passwordPolicyId": p, "sourceIds": [s[1], s[2]]})).await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_error_dto(&body, Some("Finance"));
    assert!(body["messages"][0]["text"].as_str().unwrap().contains(&a_id), "{body}");
    assert_eq!(emu.groups().len(), 1);
    let b: Value = api
        .create(json!({"name": "HR", "passwordPolicyId": p, "sourceIds": [s[2], s[3]]}))
        .await
        .json()
        .await
        .unwrap();
    let b_id = b["id"].as_str().unwrap();
    // Update of HR taking s[0]: refused; HR unchanged.
    let r = api
        .req(reqwest::Method::PUT, &format!("/beta/password-sync-groups/{b_id}"))
        .json(&json!({"name": "HR", "passwordPolicyId": p, "sourceIds": [s[0], s[3]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_error_dto(&r.json().await.unwrap(), Some(&a_id));
    assert_eq!(emu.groups()[1].source_ids, vec![s[2].clone(), s[3].clone()]);
    // Updating a group with its own sources (and a free one) is fine.
    let r = api
        .req(reqwest::Method::PUT, &format!("/beta/password-sync-groups/{b_id}"))
        .json(&json!({"name": "HR 2", "passwordPolicyId": p, "sourceIds": [s[3], s[4]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // After Finance is deleted its sources are free.
    let r =
        api.req(reqwest::Method::DELETE, &format!("/beta/password-sync-groups/{a_id}")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = api.create(json!({"name": "Ops", "passwordPolicyId": p, "sourceIds": [s[0], s[1]]})).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn sources_are_shared_freely_without_the_flag() {
    let emu = start().await;
    let api = Api::new(&emu).await;
    assert_eq!(api.create(valid(&emu, "a")).await.status(), 200);
    assert_eq!(api.create(valid(&emu, "b")).await.status(), 200);
}

#[tokio::test]
async fn exclusive_sources_seed_disjoint_groups_or_refuse_to_start() {
    let emu =
        Emulator::builder().ephemeral().sources(6).groups(3).exclusive_sources(true).start().await.unwrap();
    let mut all: Vec<String> = emu.groups().into_iter().flat_map(|g| g.source_ids).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 6);
    let err = Emulator::builder().ephemeral().sources(5).groups(3).exclusive_sources(true).start().await;
    assert!(err.err().unwrap().to_string().contains("--exclusive-sources"));
}

#[tokio::test]
async fn builder_refuses_what_a_flag_could_not_ask_for() {
    let cases = [
        Emulator::builder()
            .ephemeral()
            .rate_limit(Some(RateLimit { count: 0, window: Duration::from_secs(1) })),
        Emulator::builder().ephemeral().token_ttl(Duration::MAX),
        Emulator::builder().ephemeral().groups(100_000_000),
        Emulator::builder().ephemeral().sources(usize::MAX),
    ];
    for builder in cases {
        let err = builder.start().await.err().expect("refused");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    }
}

#[tokio::test]
async fn a_failed_state_save_is_a_500_that_did_not_take_effect() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("state");
    std::fs::create_dir(&sub).unwrap();
    let file = sub.join("groups.json");
    let emu = Emulator::builder().ephemeral().rate_limit(None).state_file(&file).start().await.unwrap();
    let api = Api::new(&emu).await;
    let g: Value = api.create(valid(&emu, "kept")).await.json().await.unwrap();
    let id = g["id"].as_str().unwrap().to_string();
    // Removing the directory makes every save fail, even for root.
    std::fs::remove_dir_all(&sub).unwrap();
    let r = api.create(valid(&emu, "lost")).await;
    assert_eq!(r.status(), 500);
    assert_error_dto(&r.json().await.unwrap(), Some("cannot save state file"));
    let r = api
        .req(reqwest::Method::PUT, &format!("/beta/password-sync-groups/{id}"))
        .json(&valid(&emu, "renamed"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let r =
        api.req(reqwest::Method::DELETE, &format!("/beta/password-sync-groups/{id}")).send().await.unwrap();
    assert_eq!(r.status(), 500);
    // Nothing changed, as the API reports it.
    let listed: Value = api
        .req(reqwest::Method::GET, "/beta/password-sync-groups")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([g]));
    assert_eq!(emu.stats().writes, 1);
    assert!(!dir.path().join("state").exists(), "no temporary file re-created the directory");
}

#[tokio::test]
async fn an_unwritable_state_path_refuses_to_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain-file");
    std::fs::write(&plain, "x").unwrap();
    let path = plain.join("state.json");
    let err = Emulator::builder().ephemeral().state_file(&path).start().await.err().expect("refused");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
}
