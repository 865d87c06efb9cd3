//! Sources, password policies and the API versions, over real HTTP on 127.0.0.1.

mod common;

use common::http_client;
use psg_emulator::{
    API_VERSIONS, ClientSpec, EXPERIMENTAL_HEADER, EXPERIMENTAL_POLICY_VERSIONS, Emulator, EmulatorHandle,
    PER_SERVICE_VERSIONS,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn start() -> EmulatorHandle {
    Emulator::builder().ephemeral().rate_limit(None).start().await.unwrap()
}

async fn token(base: &str, id: &str, secret: &str) -> String {
    let r = http_client()
        .post(format!("{base}/oauth/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn as_client(emu: &EmulatorHandle, id: &str, secret: &str) -> Self {
        let base = emu.base_url();
        let token = token(&base, id, secret).await;
        Api { base, token, http: http_client() }
    }
    async fn new(emu: &EmulatorHandle) -> Self {
        Api::as_client(emu, "psg-demo", "psg-demo-secret").await
    }
    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token)
    }
    /// GET with query pairs: (status, X-Total-Count, body).
    async fn get(&self, path: &str, query: &[(&str, &str)]) -> (StatusCode, Option<usize>, Value) {
        let r = self.req(Method::GET, path).query(query).send().await.unwrap();
        let status = r.status();
        let total = r.headers().get("x-total-count").map(|v| v.to_str().unwrap().parse().unwrap());
        (status, total, r.json().await.unwrap())
    }
}

/// Every path of `version`'s layout, from the tenant root: (groups, sources, policies).
fn paths_of(version: &str) -> [String; 3] {
    ["password-sync-groups", "sources", "password-policies"].map(|resource| {
        if PER_SERVICE_VERSIONS.contains(&version) {
            format!("/{resource}/{version}")
        } else {
            format!("/{version}/{resource}")
        }
    })
}

fn names(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect()
}

fn assert_error_dto(body: &Value, needle: &str) {
    assert!(body["detailCode"].is_string() && body["trackingId"].is_string(), "{body}");
    assert_eq!(body["messages"][0]["locale"], "en-US", "{body}");
    assert!(body["messages"][0]["text"].as_str().unwrap().contains(needle), "{needle:?} in {body}");
}

#[tokio::test]
async fn every_api_version_serves_the_same_groups() {
    let emu = start().await;
    let api = Api::new(&emu).await;
    let c = emu.catalog();
    let mut ids = Vec::new();
    for version in API_VERSIONS {
        let r = api
            .req(Method::POST, &format!("/{version}/password-sync-groups"))
            .json(&json!({"name": version, "passwordPolicyId": c.password_policy_ids[0], "sourceIds": [c.source_ids[0], c.source_ids[1]]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{version}");
        ids.push(r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string());
    }
    let (_, total, v1) = api.get("/password-sync-groups/v1", &[("count", "true")]).await;
    assert_eq!(total, Some(API_VERSIONS.len()));
    for version in API_VERSIONS {
        let (status, total, listed) =
            api.get(&format!("/{version}/password-sync-groups"), &[("count", "true")]).await;
        assert_eq!((status, total), (StatusCode::OK, Some(API_VERSIONS.len())), "{version}");
        assert_eq!(listed, v1, "{version}");
        let (status, _, one) = api.get(&format!("/{version}/password-sync-groups/{}", ids[0]), &[]).await;
        assert_eq!((status, one["name"].as_str()), (StatusCode::OK, Some("beta")), "{version}");
        let (status, _, body) =
            api.get(&format!("/{version}/password-sync-groups"), &[("limit", "251")]).await;
        assert_eq!(status, 400, "{version}");
        assert_error_dto(&body, "limit");
    }
    let r = api.req(Method::DELETE, &format!("/v2026/password-sync-groups/{}", ids[1])).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let (status, _, _) = api.get(&format!("/v3/password-sync-groups/{}", ids[1]), &[]).await;
    assert_eq!(status, 404);
    // Unknown versions are unknown paths.
    let (status, _, _) = api.get("/v2/password-sync-groups", &[]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn sources_list_filters_sorts_pages_and_counts() {
    let emu = start().await;
    let api = Api::new(&emu).await;
    let c = emu.catalog();
    let (status, total, all) = api.get("/v3/sources", &[("count", "true")]).await;
    assert_eq!((status, total), (StatusCode::OK, Some(c.sources.len())));
    assert_eq!(names(&all), c.sources.iter().map(|s| s.name.clone()).collect::<Vec<_>>());
    let cases: &[(&str, &[&str])] = &[
        ("name eq \"Corporate LDAP\"", &["Corporate LDAP"]),
        ("name in (\"Okta Workforce\", \"Workday HR\", \"Nope\")", &["Okta Workforce", "Workday HR"]),
        ("name sw \"o\"", &["Okta Workforce"]),
        ("name co \"ER\"", &["ServiceNow"]),
        ("features ca (\"PASSWORD\", \"UNLOCK\")", &["Active Directory", "Okta Workforce"]),
        (
            "name in (\"Active Directory\", \"Workday HR\") and features ca (\"PASSWORD\")",
            &["Active Directory"],
        ),
    ];
    for (filter, expected) in cases {
        let (status, total, page) = api.get("/v3/sources", &[("filters", filter), ("count", "true")]).await;
        assert_eq!(status, 200, "{filter}: {page}");
        assert_eq!(names(&page), *expected, "{filter}");
        assert_eq!(total, Some(expected.len()), "{filter}");
    }
    let id = &c.source_ids[2];
    let (_, _, page) = api.get("/beta/sources", &[("filters", &format!("id eq \"{id}\""))]).await;
    assert_eq!(names(&page), vec!["Okta Workforce"]);
    // Paging and sorting.
    let (_, total, page) = api
        .get("/v2025/sources", &[("sorters", "name"), ("limit", "2"), ("offset", "1"), ("count", "true")])
        .await;
    assert_eq!(total, Some(c.sources.len()));
    let mut sorted: Vec<String> = c.sources.iter().map(|s| s.name.clone()).collect();
    sorted.sort();
    assert_eq!(names(&page), sorted[1..3].to_vec());
    let (_, _, page) = api.get("/v3/sources", &[("sorters", "-name")]).await;
    sorted.reverse();
    assert_eq!(names(&page), sorted);
    let (_, _, page) = api.get("/v3/sources", &[("sorters", "id")]).await;
    let ids: Vec<&str> = page.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] <= w[1]));
    // Refusals.
    for (key, value, needle) in [
        ("filters", "name eq \"a\" or", "expected a field"),
        ("filters", "type eq \"x\"", "'type'"),
        ("filters", "name eq \"unclosed", "not closed"),
        ("sorters", "created", "'created'"),
        ("limit", "251", "limit"),
    ] {
        let (status, _, body) = api.get("/v3/sources", &[(key, value)]).await;
        assert_eq!(status, 400, "{key}={value}");
        assert_error_dto(&body, needle);
    }
}

#[tokio::test]
async fn a_source_and_a_policy_have_the_shapes_of_the_v3_spec() {
    let emu = start().await;
    let api = Api::new(&emu).await;
    let c = emu.catalog();
    for (i, entry) in c.sources.iter().enumerate() {
        let (status, _, s) = api.get(&format!("/v3/sources/{}", entry.id), &[]).await;
        assert_eq!(status, 200);
        assert_eq!(
            (s["id"].as_str(), s["name"].as_str()),
            (Some(entry.id.as_str()), Some(entry.name.as_str()))
        );
        assert_eq!(s["features"], json!(entry.features));
        assert!(s["connector"].is_string() && s.get("owner").is_some(), "{s}");
        assert!(s["owner"].is_null() == (i == 6), "{s}");
    }
    let (status, _, body) = api.get("/v3/sources/nope", &[]).await;
    assert_eq!(status, 404);
    assert_error_dto(&body, "nope");

    let (status, total, policies) = api.get("/v3/password-policies", &[("count", "true")]).await;
    assert_eq!((status, total), (StatusCode::OK, Some(c.password_policies.len())));
    assert_eq!(names(&policies), c.password_policies.iter().map(|p| p.name.clone()).collect::<Vec<_>>());
    for p in policies.as_array().unwrap() {
        assert!(p["dateCreated"].is_i64(), "epoch milliseconds: {p}");
        assert!(p["lastUpdated"].is_i64() || p["lastUpdated"].is_null(), "{p}");
    }
    assert!(policies.as_array().unwrap().iter().any(|p| p["firstExpirationReminder"].is_null()));
    let (_, _, page) = api.get("/v3/password-policies", &[("limit", "1"), ("offset", "1")]).await;
    assert_eq!(names(&page), vec![c.password_policies[1].name.clone()]);
    let (status, _, one) = api.get(&format!("/v3/password-policies/{}", c.password_policy_ids[0]), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(one, policies[0]);
    let (status, _, body) = api.get("/v3/password-policies/nope", &[]).await;
    assert_eq!(status, 404);
    assert_error_dto(&body, "nope");
}

#[tokio::test]
async fn sources_and_policies_need_their_own_scopes() {
    let emu = Emulator::builder()
        .ephemeral()
        .rate_limit(None)
        .extra_client("groups-only:pw:idn:password-sync-group:manage".parse::<ClientSpec>().unwrap())
        .extra_client("sources-only:pw:idn:sources:read".parse::<ClientSpec>().unwrap())
        .extra_client("reader:pw:read".parse::<ClientSpec>().unwrap())
        .start()
        .await
        .unwrap();
    let groups_only = Api::as_client(&emu, "groups-only", "pw").await;
    let (status, _, body) = groups_only.get("/v3/sources", &[]).await;
    assert_eq!(status, 403);
    assert_error_dto(&body, "idn:sources:read");
    let (status, _, body) = groups_only.get("/v3/password-policies", &[]).await;
    assert_eq!(status, 403);
    assert_error_dto(&body, "idn:password-policy:read");
    let sources_only = Api::as_client(&emu, "sources-only", "pw").await;
    assert_eq!(sources_only.get("/v3/sources", &[]).await.0, 200);
    assert_eq!(sources_only.get("/v3/password-policies", &[]).await.0, 403);
    assert_eq!(sources_only.get("/v3/password-sync-groups", &[]).await.0, 403);
    let reader = Api::as_client(&emu, "reader", "pw").await;
    for path in ["/v3/sources", "/v3/password-policies", "/v3/password-sync-groups"] {
        assert_eq!(reader.get(path, &[]).await.0, 200, "{path}");
    }
    let r = http_client().get(format!("{}/v3/sources", emu.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn groups_take_only_existing_password_managed_sources_and_policies() {
    let emu = start().await;
    let api = Api::new(&emu).await;
    let c = emu.catalog();
    let hr = c.sources.iter().find(|s| !s.is_password_managed()).unwrap();
    let cases = [
        (
            json!({"name": "x", "passwordPolicyId": c.password_policy_ids[0], "sourceIds": [c.source_ids[0], hr.id]}),
            hr.name.clone(),
        ),
        (
            json!({"name": "x", "passwordPolicyId": c.password_policy_ids[0], "sourceIds": [c.source_ids[0], "ghost"]}),
            "ghost".to_string(),
        ),
        (
            json!({"name": "x", "passwordPolicyId": c.source_ids[0], "sourceIds": [c.source_ids[0], c.source_ids[1]]}),
            c.source_ids[0].clone(),
        ),
    ];
    for (body, needle) in cases {
        let r = api.req(Method::POST, "/v3/password-sync-groups").json(&body).send().await.unwrap();
        assert_eq!(r.status(), 400, "{body}");
        assert_error_dto(&r.json().await.unwrap(), &needle);
    }
    assert!(emu.groups().is_empty());
}

#[tokio::test]
async fn admin_catalog_lists_ids_names_and_features() {
    let emu = start().await;
    let v: Value = http_client()
        .get(format!("{}/__emulator/catalog", emu.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = emu.catalog();
    assert_eq!(v["sourceIds"], json!(c.source_ids));
    assert_eq!(v["passwordPolicyIds"], json!(c.password_policy_ids));
    assert_eq!(
        v["sources"][0],
        json!({"id": c.source_ids[0], "name": "Active Directory", "features": c.sources[0].features})
    );
    assert_eq!(v["passwordPolicies"][0]["name"], "Corporate Password Policy");
    assert!(
        v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| !s["features"].as_array().unwrap().contains(&json!("PASSWORD")))
    );
}

#[tokio::test]
async fn id_seed_changes_ids_not_names_and_default_is_stable() {
    let a = start().await;
    let b = Emulator::builder().ephemeral().id_seed(7).groups(2).start().await.unwrap();
    let again = start().await;
    assert_eq!(a.catalog(), again.catalog(), "the default is deterministic");
    let (ca, cb) = (a.catalog(), b.catalog());
    let names = |c: &psg_emulator::Catalog| c.sources.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ca), names(&cb));
    assert!(ca.sources.iter().zip(&cb.sources).all(|(x, y)| x.id != y.id));
    assert!(ca.password_policy_ids.iter().zip(&cb.password_policy_ids).all(|(x, y)| x != y));
    let seeded = Emulator::builder().ephemeral().groups(2).start().await.unwrap();
    assert_ne!(b.groups()[0].id, seeded.groups()[0].id, "group ids follow the seed too");
    assert_eq!(b.groups()[0].name, seeded.groups()[0].name);
    assert!(b.groups().iter().all(|g| g.source_ids.iter().all(|s| cb.source_ids.contains(s))));
}

#[tokio::test]
async fn catalog_file_defines_sources_and_policies() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalog.yaml");
    std::fs::write(
        &file,
        "sources:\n  - name: AD\n    features: [PROVISIONING, PASSWORD]\n    id: 2c9180835d191a86015d28455b4a2329\n  - name: AD\n    features: [PASSWORD]\n  - name: HR\n    features: [NO_RANDOM_ACCESS]\npasswordPolicies:\n  - name: Corp\n",
    )
    .unwrap();
    let emu =
        Emulator::builder().ephemeral().rate_limit(None).catalog_file(&file).groups(1).start().await.unwrap();
    let c = emu.catalog();
    assert_eq!(c.sources.len(), 3);
    assert_eq!(c.source_ids.len(), 2, "two password-managed sources share a name");
    assert_eq!(c.source_ids[0], "2c9180835d191a86015d28455b4a2329");
    let api = Api::new(&emu).await;
    let (_, _, page) = api.get("/v3/sources", &[("filters", "name eq \"AD\"")]).await;
    assert_eq!(page.as_array().unwrap().len(), 2);
    assert_eq!(emu.groups()[0].source_ids, c.source_ids);

    std::fs::write(&file, "sources:\n  - name: AD\n    features: [PASSWORD]\n    owner: me\n").unwrap();
    let err = Emulator::builder().ephemeral().catalog_file(&file).start().await.err().expect("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().starts_with(&format!("{}:4:", file.display())), "{err}");
}

#[tokio::test]
async fn dated_and_v1_policies_need_the_experimental_header_and_v1_serves_every_resource() {
    let emu = start().await;
    let api = Api::new(&emu).await;
    let c = emu.catalog();
    let versions = API_VERSIONS.iter().chain(PER_SERVICE_VERSIONS.iter());
    for version in versions {
        let [groups, sources, policies] = paths_of(version);
        let (status, total, _) = api.get(&groups, &[("count", "true")]).await;
        assert_eq!((status, total), (StatusCode::OK, Some(0)), "{groups}");
        let (status, total, _) = api.get(&sources, &[("count", "true")]).await;
        assert_eq!((status, total), (StatusCode::OK, Some(c.sources.len())), "{sources}");
        let one = format!("{policies}/{}", c.password_policy_ids[0]);
        for path in [policies.clone(), one] {
            let bare = api.req(Method::GET, &path).send().await.unwrap();
            let bare_status = bare.status();
            let body: Value = bare.json().await.unwrap();
            let with = api.req(Method::GET, &path).header(EXPERIMENTAL_HEADER, "true").send().await.unwrap();
            assert_eq!(with.status(), 200, "{path} with the header");
            if EXPERIMENTAL_POLICY_VERSIONS.contains(version) {
                assert_eq!(bare_status, 400, "{path} without the header");
                assert_error_dto(&body, EXPERIMENTAL_HEADER);
            } else {
                assert_eq!(bare_status, 200, "{path} needs no header");
            }
        }
    }
    // A false header value is refused like a missing one.
    let r = api.req(Method::GET, "/password-policies/v1").header(EXPERIMENTAL_HEADER, "false").send().await;
    assert_eq!(r.unwrap().status(), 400);
}

#[tokio::test]
async fn only_the_versions_asked_for_are_served() {
    let emu = Emulator::builder()
        .bind(([127, 0, 0, 1], 0).into())
        .rate_limit(None)
        .api_versions(["v1"])
        .start()
        .await
        .unwrap();
    let api = Api::new(&emu).await;
    for version in API_VERSIONS {
        for path in paths_of(version) {
            let (status, _, body) = api.get(&path, &[]).await;
            assert_eq!(status, 404, "{path}");
            assert_error_dto(&body, "target resource");
        }
    }
    let [groups, sources, _] = paths_of("v1");
    assert_eq!(api.get(&groups, &[]).await.0, 200);
    assert_eq!(api.get(&sources, &[]).await.0, 200);
    let refused = Emulator::builder().bind(([127, 0, 0, 1], 0).into()).api_versions(["v7"]).start().await;
    let e = refused.err().expect("an unknown version is refused").to_string();
    assert!(e.contains("v7") && e.contains("v2026"), "{e}");
}
