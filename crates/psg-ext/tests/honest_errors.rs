//! psg-ext's errors say what happened, against a hostile server started by
//! each test: a create that may have been carried out is never retryable,
//! error bodies that are not ISC's keep their text, a 429 keeps its message.
//! Assertions are about what the server saw and holds.

mod hostile;

use std::time::Duration;

use hostile::{Canned, Hostile, Mode};
use psg_ext::{Client, ClientBuilder, Error, GroupSpec, RetryPolicy};

fn builder(h: &Hostile, attempts: u32) -> ClientBuilder {
    Client::builder()
        .base_url(h.base_url())
        .client_credentials("hostile-client", "hostile-secret")
        .retry_policy(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(5))
                .max_attempts(attempts),
        )
        .rate_limit(None)
        .request_timeout(Duration::from_secs(5))
}

fn spec(name: &str) -> GroupSpec {
    GroupSpec::new(name).password_policy("p1").sources(["s1", "s2"])
}

const ISC_500: &str = r#"{"detailCode":"500.0 Internal Fault","trackingId":"t500","messages":[{"locale":"en-US","localeOrigin":"DEFAULT","text":"An internal fault occurred."}]}"#;

/// Reproduction: a create that the server carried out and then answered
/// 500/502/504 came back as an ordinary API error with `is_retryable()`
/// true; a caller who followed it made a duplicate.
#[tokio::test]
async fn a_create_answered_500_502_or_504_after_acting_is_an_unknown_outcome() {
    let answers = [
        Canned::new(500, "application/json", ISC_500),
        Canned::new(502, "text/html", "<html><body>502 Bad Gateway</body></html>"),
        Canned::new(504, "application/json", r#"{"message":"Endpoint request timed out"}"#),
    ];
    for answer in answers {
        let status = answer.status;
        let h = Hostile::start(0, Mode { canned: vec![answer.after_acting()], ..Mode::default() }).await;
        let err = builder(&h, 5).build().unwrap().create_group(&spec("Payroll")).await.unwrap_err();
        match &err {
            Error::CreateOutcomeUnknown { name, attempts: 1, status: Some(s), .. } => {
                assert_eq!((name.as_str(), s.as_u16()), ("Payroll", status), "{err:?}");
            }
            other => panic!("HTTP {status}: {other:?}"),
        }
        assert!(!err.is_retryable(), "HTTP {status}: {err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert!(err.to_string().contains("may exist"), "{err}");
        // What the server saw: one create, which it carried out.
        let seen: Vec<_> = h.api_requests().iter().map(|r| (r.method.to_string(), r.status)).collect();
        assert_eq!(seen, [("POST".to_string(), status)], "sent once");
        assert_eq!(h.names(), ["Payroll"], "and the group exists");
        if status == 500 {
            assert_eq!(err.tracking_id(), Some("t500"), "the server's details are kept");
        }
    }
}

/// The answers that say nothing was done are still ordinary errors: a 503
/// is retryable (psg itself resends a create only after a 429 or a refused
/// connection), a 400 is not.
#[tokio::test]
async fn a_create_refused_with_503_or_400_is_not_an_unknown_outcome() {
    let h = Hostile::start(
        0,
        Mode { canned: vec![Canned::new(503, "text/plain", "maintenance")], ..Mode::default() },
    )
    .await;
    let err = builder(&h, 2).build().unwrap().create_group(&spec("Payroll")).await.unwrap_err();
    assert!(matches!(&err, Error::UnexpectedResponse { attempts: 1, .. }), "{err:?}");
    assert!(err.is_retryable(), "503 means not taken on");
    assert_eq!(h.api_requests().len(), 1);
    assert!(h.names().is_empty());

    let bad = r#"{"detailCode":"400.1 Bad Request Content","trackingId":"t400","messages":[{"text":"sourceIds is invalid"}]}"#;
    let h = Hostile::start(
        0,
        Mode { canned: vec![Canned::new(400, "application/json", bad)], ..Mode::default() },
    )
    .await;
    let err = builder(&h, 5).build().unwrap().create_group(&spec("Payroll")).await.unwrap_err();
    assert!(matches!(&err, Error::Api(e) if e.status == 400), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(h.api_requests().len(), 1);
}

/// Reproduction: an error answer whose JSON has none of ISC's error fields
/// decoded into an empty error body and was reported as `(empty body)`.
/// Each shape keeps its raw text, bounded.
#[tokio::test]
async fn error_bodies_that_are_not_iscs_keep_their_text() {
    let shapes = [
        // An API gateway's JSON error.
        (500, "application/json", r#"{"message":"Internal server error"}"#, "Internal server error"),
        // A proxy's problem+json.
        (
            400,
            "application/problem+json",
            r#"{"type":"about:blank","title":"Bad Request","status":400,"detail":"header too long"}"#,
            "header too long",
        ),
        // A load balancer's page, on a status the spec declares (403) and one it does not (502).
        (
            403,
            "text/html",
            "<html>\n<body>\n<h1>403 Forbidden</h1> by policy\n</body></html>",
            "<h1>403 Forbidden</h1> by policy",
        ),
        (502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>", "502 Bad Gateway"),
    ];
    for (status, content_type, body, shown) in shapes {
        let h = Hostile::start(
            1,
            Mode { canned: vec![Canned::new(status, content_type, body)], ..Mode::default() },
        )
        .await;
        let id = h.ids()[0].clone();
        let err = builder(&h, 1).build().unwrap().get_group(&id).await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{err:?}");
        match &err {
            Error::UnexpectedResponse { body_snippet, .. } => {
                assert!(body_snippet.contains(shown), "HTTP {status}: {body_snippet:?}")
            }
            other => panic!("HTTP {status}: {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains(shown) && !text.contains("(empty body)"), "HTTP {status}: {text}");
        assert!(!text.contains('\n'), "one line: {text}");
        let seen = h.api_requests();
        assert_eq!((seen.len(), seen[0].status), (1, status), "the server answered once, as set");
    }
}

/// A long error page is kept only in part.
#[tokio::test]
async fn a_long_error_page_keeps_a_bounded_snippet() {
    let page = format!("<html>{}</html>", "x".repeat(100_000));
    let h = Hostile::start(1, Mode { canned: vec![Canned::new(500, "text/html", page)], ..Mode::default() })
        .await;
    let id = h.ids()[0].clone();
    let err = builder(&h, 1).build().unwrap().get_group(&id).await.unwrap_err();
    match &err {
        Error::UnexpectedResponse { body_snippet, .. } => {
            assert!(body_snippet.starts_with("<html>xxx"), "{body_snippet:?}");
            assert!(body_snippet.len() <= psg_ext::BODY_SNIPPET_LIMIT, "{}", body_snippet.len());
        }
        other => panic!("{other:?}"),
    }
}

/// A 401 from a gateway (`{"message"}`, not ISC's `{error}`) keeps its reason.
#[tokio::test]
async fn a_gateways_401_keeps_its_reason() {
    let h = Hostile::start(
        1,
        Mode {
            canned: vec![
                Canned::new(
                    401,
                    "application/json",
                    r#"{"message":"Unauthorized: token from another tenant"}"#,
                ),
                Canned::new(
                    401,
                    "application/json",
                    r#"{"message":"Unauthorized: token from another tenant"}"#,
                ),
            ],
            ..Mode::default()
        },
    )
    .await;
    let id = h.ids()[0].clone();
    let err = builder(&h, 1).build().unwrap().get_group(&id).await.unwrap_err();
    match &err {
        Error::Unauthorized { message: Some(m), .. } => assert!(m.contains("another tenant"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("another tenant"), "{err}");
    // Refreshed and replayed once, then reported.
    assert_eq!(h.api_requests().len(), 2);
}

const ISC_403: &str = r#"{"detailCode":"403 Forbidden","trackingId":"t403","messages":[{"locale":"en-US","localeOrigin":"DEFAULT","text":"The server understood the request but refuses to authorize it."}]}"#;

/// Reproduction: every 403 told the user to add
/// `idn:password-sync-group:manage`, also for source and policy listings,
/// which need `idn:sources:read` and `idn:password-policy:read`. Each
/// refused operation names its own scope.
#[tokio::test]
async fn a_403_names_the_scope_of_the_refused_operation() {
    let forbidden =
        || Mode { canned: vec![Canned::new(403, "application/json", ISC_403)], ..Mode::default() };
    let cases: [(&str, &str, &str); 4] = [
        ("sources", "/v3/sources", "idn:sources:read"),
        ("policies", "/v3/password-policies", "idn:password-policy:read"),
        ("groups", "/beta/password-sync-groups", "idn:password-sync-group:read"),
        ("create", "/beta/password-sync-groups", "idn:password-sync-group:manage"),
    ];
    for (what, path, scope) in cases {
        let h = Hostile::start(0, forbidden()).await;
        let client = builder(&h, 3).build().unwrap();
        let err = match what {
            "sources" => client.list_sources().page().await.map(drop),
            "policies" => client.list_password_policies().page().await.map(drop),
            "groups" => client.list_groups().page().await.map(drop),
            _ => client.create_group(&spec("Payroll")).await.map(drop),
        }
        .unwrap_err();
        assert_eq!(err.required_scope(), Some(scope), "{what}: {err:?}");
        let text = err.to_string();
        assert!(text.contains(&format!("needs scope {scope}")), "{what}: {text}");
        for other in ["idn:sources:read", "idn:password-policy:read", "idn:password-sync-group:manage"] {
            assert!(other == scope || !text.contains(other), "{what} names {other}: {text}");
        }
        assert!(!err.is_retryable());
        let seen: Vec<_> = h.api_requests().iter().map(|r| (r.path.clone(), r.status)).collect();
        assert_eq!(seen, [(path.to_string(), 403)], "{what}: asked once, refused once");
    }
}

/// Reproduction: a 429 without `Retry-After` was reported as if the server
/// had said how long to wait, and its body's message was dropped.
#[tokio::test]
async fn a_429_without_retry_after_keeps_its_message_and_says_no_wait_was_given() {
    let limited =
        || Canned::new(429, "application/json", r#"{"message":"Rate Limit Exceeded for tenant acme"}"#);
    let h = Hostile::start(0, Mode { canned: vec![limited(), limited()], ..Mode::default() }).await;
    let err = builder(&h, 2).build().unwrap().list_groups().page().await.unwrap_err();
    match &err {
        Error::RateLimited { retry_after: None, message: Some(m), attempts: 2, .. } => {
            assert_eq!(m, "Rate Limit Exceeded for tenant acme")
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("Rate Limit Exceeded for tenant acme"), "{text}");
    assert!(text.contains("no Retry-After") && !text.contains("asked to wait"), "{text}");
    let seen: Vec<_> = h.api_requests().iter().map(|r| r.status).collect();
    assert_eq!(seen, [429, 429], "tried twice, as allowed");

    // With Retry-After, the wait is the server's and is said so.
    let mut asked = limited();
    asked.retry_after = Some("0");
    let h = Hostile::start(0, Mode { canned: vec![asked.clone(), asked], ..Mode::default() }).await;
    let err = builder(&h, 2).build().unwrap().list_groups().page().await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("asked to wait 0s") && text.contains("tenant acme"), "{text}");
    assert_eq!(h.api_requests().len(), 2);
}

/// Issue 25: a tenant that does not serve the configured layout answers 404
/// on the collection. That is the version, not a missing group: the error
/// names the path and the version to try, and keeps the server's text; a
/// 404 on an id stays "not found". Checked both ways (beta against a
/// v1-only server, v1 against a beta-only one).
#[tokio::test]
async fn a_404_on_a_collection_names_the_version_a_404_on_an_id_does_not() {
    use psg_ext::ApiVersion;
    let cases = [
        (ApiVersion::V1, ApiVersion::Beta, "/beta/password-sync-groups", "v1"),
        (ApiVersion::Beta, ApiVersion::V1, "/password-sync-groups/v1", "beta"),
    ];
    for (served, configured, path, suggestion) in cases {
        let h = Hostile::start_for(served, 1, Mode::default()).await;
        let client = builder(&h, 3).api_version(configured).build().unwrap();
        let list = client.list_groups().page().await.unwrap_err();
        let text = list.to_string();
        assert!(list.is_version_not_served() && !list.is_not_found(), "{list:?}");
        assert!(
            text.starts_with(&format!("this tenant does not serve {path}; try --api-version {suggestion}")),
            "{text}"
        );
        assert!(text.contains("no route"), "the server's own text is kept: {text}");
        assert!(!list.is_retryable());
        let create = client.create_group(&spec("x")).await.unwrap_err();
        assert!(create.is_version_not_served(), "{create:?}");
        let one = client.get_group("missing").await.unwrap_err();
        assert!(one.is_not_found() && !one.is_version_not_served(), "{one:?}");
        // What the server saw: the configured layout's paths, each once (a
        // 404 is not retried), and nothing was created.
        let seen: Vec<_> = h.api_requests().into_iter().map(|s| (s.method.to_string(), s.path)).collect();
        let want =
            [("GET", path.to_string()), ("POST", path.to_string()), ("GET", format!("{path}/missing"))];
        assert_eq!(seen, want.map(|(m, p)| (m.to_string(), p)), "{configured}");
        assert_eq!(h.ids().len(), 1);
    }
}
