//! psg-ext's promises against a hostile server started by each test. Every
//! assertion is about what the server saw (arrival times, request counts,
//! what it holds), not about what the client believes.

mod hostile;

use std::collections::HashSet;
use std::time::Duration;

use futures::TryStreamExt;
use hostile::{GROUP_PATHS, Hostile, ISSUED_TOKEN, Mode, max_in_window};
use psg_ext::{Client, ClientBuilder, Deleted, Error, GroupSpec, RateLimit, RetryPolicy};

/// A client of `h`, on the version `h` was started for (default beta).
fn builder(h: &Hostile, attempts: u32) -> ClientBuilder {
    Client::builder()
        .base_url(h.base_url())
        .api_version(h.version().unwrap_or_default())
        .client_credentials("hostile-client", "hostile-secret")
        .retry_policy(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(20))
                .max_attempts(attempts),
        )
        .request_timeout(Duration::from_secs(5))
}

fn spec(name: &str) -> GroupSpec {
    GroupSpec::new(name).password_policy("p1").sources(["s1", "s2"])
}

/// Reproduction: a slow token endpoint and short-lived tokens bunched
/// requests up (8 within 50 ms under a 4/1 s limit).
#[tokio::test]
async fn the_limit_holds_at_the_server_through_slow_token_refreshes() {
    let h = Hostile::start(
        12,
        Mode { token_delay: Duration::from_millis(400), token_expires_in: "2".into(), ..Mode::default() },
    )
    .await;
    let window = Duration::from_secs(1);
    let client = builder(&h, 3).rate_limit(Some(RateLimit::new(4, window).unwrap())).build().unwrap();
    let ids: Vec<_> = client.list_groups().limit(1).stream().map_ok(|g| g.id).try_collect().await.unwrap();
    assert_eq!(ids.len(), 12);
    let arrivals: Vec<_> = h.api_requests().iter().map(|s| s.at).collect();
    assert!(h.token_requests().len() >= 2, "tokens were refreshed while listing");
    assert!(
        max_in_window(&arrivals, window) <= 4,
        "the server saw more than 4 requests in a second: {arrivals:?}"
    );
}

/// A 429 pauses every task, including those already waiting for a slot.
#[tokio::test]
async fn after_a_429_no_task_sends_before_the_pause_ends() {
    // On every version: the hostile server serves groups only on its path.
    for (version, _) in GROUP_PATHS.iter().copied() {
        let h = Hostile::start_for(version, 0, Mode { answer_429: 1, ..Mode::default() }).await;
        // One request per 100 ms: the others are waiting for a slot when the 429 comes back.
        let client = builder(&h, 3)
            .rate_limit(Some(RateLimit::new(1, Duration::from_millis(100)).unwrap()))
            .build()
            .unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let c = client.clone();
                tokio::spawn(async move { c.create_group(&spec(&format!("g{i}"))).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let seen = h.api_requests();
        let limited = seen.iter().find(|s| s.status == 429).expect("one 429").at;
        let during: Vec<_> =
            seen.iter().filter(|s| s.at > limited && s.at < limited + Duration::from_millis(950)).collect();
        assert!(during.is_empty(), "requests arrived during the 1 s pause: {during:?}");
        assert_eq!(h.names().len(), 8);
    }
}

/// Reproduction: `expires_in: 18446744073709551615` overflowed an Instant.
#[tokio::test]
async fn an_absurd_token_lifetime_does_not_panic() {
    for absurd in ["18446744073709551615", "1e308", "-1", "\"soon\""] {
        let h = Hostile::start(1, Mode { token_expires_in: absurd.into(), ..Mode::default() }).await;
        let client = builder(&h, 1).rate_limit(None).build().unwrap();
        let page = client.list_groups().page().await.unwrap();
        assert_eq!(page.items.len(), 1, "{absurd}");
    }
}

/// Reproduction: a total of 10⁹ with empty pages scheduled every offset.
#[tokio::test]
async fn a_lying_total_with_empty_pages_costs_at_most_one_wave() {
    let h = Hostile::start(
        250,
        Mode { lying_total: Some(1_000_000_000), empty_after_first: true, ..Mode::default() },
    )
    .await;
    let client = builder(&h, 1).rate_limit(None).page_concurrency(8).build().unwrap();
    let n = client.list_groups().stream().try_fold(0usize, |n, _| async move { Ok(n + 1) }).await.unwrap();
    assert_eq!(n, 250);
    let requests = h.api_requests().len();
    assert!(requests <= 1 + 8, "{requests} requests for one real page");
}

/// Reproduction: a server capping pages at 50 lost 4 of every 5 groups.
#[tokio::test]
async fn capped_pages_lose_nothing() {
    // On every version: the hostile server serves groups only on its path.
    for (version, _) in GROUP_PATHS.iter().copied() {
        let h = Hostile::start_for(version, 1000, Mode { page_cap: Some(50), ..Mode::default() }).await;
        let client = builder(&h, 1).rate_limit(None).build().unwrap();
        let ids: Vec<_> = client.list_groups().stream().map_ok(|g| g.id).try_collect().await.unwrap();
        assert_eq!(ids, h.ids(), "every group, in server order");
    }
}

/// Reproduction: a server that caps pages but sends no total ended the
/// stream after the first short page and dropped the rest.
#[tokio::test]
async fn capped_pages_without_a_total_are_read_until_an_empty_page() {
    // On every version: the hostile server serves groups only on its path.
    for (version, _) in GROUP_PATHS.iter().copied() {
        let h =
            Hostile::start_for(version, 620, Mode { page_cap: Some(100), no_total: true, ..Mode::default() })
                .await;
        let client = builder(&h, 1).rate_limit(None).build().unwrap();
        let ids: Vec<_> = client.list_groups().stream().map_ok(|g| g.id).try_collect().await.unwrap();
        assert!(ids == h.ids(), "every group, in server order: got {} of 620", ids.len());
        let offsets: Vec<_> = h.api_requests().iter().map(|s| s.query.clone()).collect();
        assert_eq!(offsets.len(), 8, "7 capped pages and one empty page: {offsets:?}");
        assert!(offsets.last().unwrap().contains("offset=620"), "{offsets:?}");
    }
}

/// ISC answers an offset at the end of some lists with `400 "Specified
/// offset is invalid."` (SailPoint's TypeScript paginator fails there at
/// exactly 250 items): that is the end of the listing, not an error.
#[tokio::test]
async fn a_refused_offset_after_the_last_page_is_the_end() {
    // On every version: the hostile server serves groups only on its path.
    for (version, _) in GROUP_PATHS.iter().copied() {
        let h = Hostile::start_for(
            version,
            500,
            Mode { no_total: true, offset_invalid_at_end: true, ..Mode::default() },
        )
        .await;
        let client = builder(&h, 1).rate_limit(None).build().unwrap();
        let ids: Vec<_> = client.list_groups().stream().map_ok(|g| g.id).try_collect().await.unwrap();
        assert!(ids == h.ids(), "every group, in server order: got {} of 500", ids.len());
        let statuses: Vec<_> = h.api_requests().iter().map(|s| s.status).collect();
        assert_eq!(statuses, [200, 200, 400], "the server refused offset 500 once");
        // On the first page it is an error: nothing was listed.
        let err = client.list_groups().offset(900).stream().try_collect::<Vec<_>>().await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err:?}");
    }
}

/// Reproduction: inserts at the front while listing gave duplicate ids.
#[tokio::test]
async fn inserts_while_listing_never_yield_an_id_twice_and_are_reported() {
    // On every version: the hostile server serves groups only on its path.
    for (version, _) in GROUP_PATHS.iter().copied() {
        let h = Hostile::start_for(version, 1000, Mode { insert_per_list: 1, ..Mode::default() }).await;
        let client = builder(&h, 1).rate_limit(None).page_concurrency(1).build().unwrap();
        let mut stream = client.list_groups().limit(100).fail_on_change(true).stream();
        let mut ids = Vec::new();
        let mut end = None;
        while let Some(item) = stream.try_next().await.transpose() {
            match item {
                Ok(g) => ids.push(g.id),
                Err(e) => {
                    end = Some(e);
                    break;
                }
            }
        }
        let unique: HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "an id was yielded twice");
        assert!(ids.len() >= 1000, "every original group was seen: {}", ids.len());
        assert!(matches!(end, Some(Error::ListingChanged { before: 1000, .. })), "{end:?}");
    }
}

/// Reproduction: N waiters each ran the whole retry cycle against a failing
/// token endpoint.
#[tokio::test]
async fn one_failing_token_cycle_serves_every_waiter() {
    let h = Hostile::start(
        0,
        Mode { token_fails: true, token_delay: Duration::from_millis(50), ..Mode::default() },
    )
    .await;
    let client = builder(&h, 3).rate_limit(None).build().unwrap();
    let calls: Vec<_> = (0..20).map(|_| client.get_group("g1")).collect();
    for r in futures::future::join_all(calls).await {
        assert!(matches!(r, Err(Error::Auth { .. })), "{r:?}");
    }
    assert_eq!(h.token_requests().len(), 3, "one cycle of 3 attempts for 20 callers");
    // Remembered briefly: an immediate call does not ask again.
    assert!(client.get_group("g1").await.is_err());
    assert_eq!(h.token_requests().len(), 3);
    assert!(h.api_requests().is_empty());
}

#[tokio::test]
async fn concurrent_calls_share_one_token() {
    let h = Hostile::start(3, Mode { token_delay: Duration::from_millis(100), ..Mode::default() }).await;
    let client = builder(&h, 1).rate_limit(None).build().unwrap();
    let ids = h.ids();
    let calls: Vec<_> = (0..30).map(|i| client.get_group(&ids[i % 3])).collect();
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(h.token_requests().len(), 1);
    assert_eq!(h.api_requests().len(), 30);
}

/// Reproduction: a DELETE whose answer was lost was reported as NotFound.
#[tokio::test]
async fn a_retried_delete_that_finds_the_group_gone_succeeded() {
    // On every version: the hostile server serves groups only on its path.
    for (version, _) in GROUP_PATHS.iter().copied() {
        let h = Hostile::start_for(version, 2, Mode { lose_answers: 1, ..Mode::default() }).await;
        let client = builder(&h, 3).rate_limit(None).build().unwrap();
        let id = h.ids()[0].clone();
        assert_eq!(client.delete_group(&id).await.unwrap(), Deleted::AlreadyGone);
        let deletes: Vec<_> =
            h.api_requests().into_iter().filter(|s| s.method == hyper::Method::DELETE).collect();
        assert_eq!(deletes.iter().map(|s| s.status).collect::<Vec<_>>(), [0, 404], "lost, then 404");
        assert_eq!(h.ids().len(), 1);
        // A first-attempt 404 is still NotFound.
        assert!(client.delete_group(&id).await.unwrap_err().is_not_found());
    }
}

/// Reproduction: a create whose answer was lost read "could not reach the
/// server" although the group existed.
#[tokio::test]
async fn a_create_whose_answer_was_lost_says_so_and_is_not_replayed() {
    // On every version: the hostile server serves groups only on its path.
    for (version, _) in GROUP_PATHS.iter().copied() {
        let h = Hostile::start_for(version, 0, Mode { lose_answers: 1, ..Mode::default() }).await;
        let client = builder(&h, 5).rate_limit(None).build().unwrap();
        let err = client.create_group(&spec("Payroll")).await.unwrap_err();
        assert!(
            matches!(&err, Error::CreateOutcomeUnknown { name, attempts: 1, .. } if name == "Payroll"),
            "{err:?}"
        );
        assert!(err.to_string().contains("may exist"), "{err}");
        assert!(!err.is_retryable());
        assert_eq!(h.api_requests().len(), 1, "sent once");
        assert_eq!(h.names(), ["Payroll"], "and the server did create it");
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let target = Hostile::start(0, Mode::default()).await;
    let h = Hostile::start(
        0,
        Mode { redirect_to: Some(format!("{}/elsewhere", target.base_url())), ..Mode::default() },
    )
    .await;
    let client = builder(&h, 3).rate_limit(None).build().unwrap();
    let err = client.create_group(&spec("x")).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(302));
    assert!(err.to_string().contains("/elsewhere"), "{err}");
    assert!(target.api_requests().is_empty(), "nothing went to the redirect target");
    assert_eq!(h.api_requests().len(), 1);
}

#[tokio::test]
async fn transport_errors_show_their_cause() {
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let client = Client::builder()
        .base_url(format!("http://{closed}"))
        .access_token("t")
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let err = client.get_group("g").await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(err.to_string().to_lowercase().contains("refused"), "{err}");

    // TLS spoken to a plain HTTP server.
    let h = Hostile::start(0, Mode::default()).await;
    let tls = Client::builder()
        .base_url(h.base_url().replace("http://", "https://"))
        .access_token("t")
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let err = tls.get_group("g").await.unwrap_err().to_string();
    assert!(
        !err.ends_with("error sending request") && err.len() > "get could not reach the server".len() + 40,
        "{err}"
    );

    // A token endpoint that is too slow.
    let slow = Hostile::start(0, Mode { token_delay: Duration::from_secs(3), ..Mode::default() }).await;
    let client = builder(&slow, 1).request_timeout(Duration::from_millis(200)).build().unwrap();
    let err = client.get_group("g").await.unwrap_err().to_string();
    assert!(err.contains("timed out"), "{err}");
}

#[tokio::test]
async fn the_issued_token_and_the_secret_never_appear_in_errors_or_debug() {
    let h = Hostile::start(1, Mode { answer_429: 5, ..Mode::default() }).await;
    let client = builder(&h, 2).rate_limit(None).build().unwrap();
    let err = client.get_group("missing").await.unwrap_err();
    for text in [format!("{err} {err:?}"), format!("{client:?}"), format!("{:?}", client.config())] {
        assert!(!text.contains(ISSUED_TOKEN) && !text.contains("hostile-secret"), "{text}");
    }
}

/// A body that never ends is cut off at a bound, not buffered until memory
/// runs out (or the timeout fires).
#[tokio::test]
async fn an_endless_body_is_an_error_not_unbounded_memory() {
    let h = Hostile::start(0, Mode { endless_body: true, ..Mode::default() }).await;
    let client = builder(&h, 3).rate_limit(None).request_timeout(Duration::from_secs(60)).build().unwrap();
    let err = client.list_groups().page().await.unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 4194304, .. }), "{err:?}");
    assert!(err.to_string().contains("larger than the 4 MiB psg reads"), "{err}");
    assert_eq!(h.api_requests().len(), 1, "not retried");

    let h = Hostile::start(0, Mode { huge_body: true, ..Mode::default() }).await;
    let client = builder(&h, 3).rate_limit(None).build().unwrap();
    let err = client.list_groups().page().await.unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { .. }), "a declared length over the bound: {err:?}");

    let h = Hostile::start(0, Mode { endless_token_body: true, ..Mode::default() }).await;
    let client = builder(&h, 1).rate_limit(None).request_timeout(Duration::from_secs(60)).build().unwrap();
    let err = client.get_group("g").await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
}

/// The rate limiter counts API requests only, as its README says: a token
/// request (ISC limits the token endpoint separately) takes no slot, so the
/// first API request of a 1-per-3-s client is not held back by the token
/// fetch before it.
#[tokio::test]
async fn token_requests_take_no_rate_limit_slot() {
    let h = Hostile::start(1, Mode::default()).await;
    let client =
        builder(&h, 1).rate_limit(Some(RateLimit::new(1, Duration::from_secs(3)).unwrap())).build().unwrap();
    client.list_groups().page().await.unwrap();
    let token_at = h.token_requests()[0];
    let api_at = h.api_requests()[0].at;
    assert!(
        api_at - token_at < Duration::from_secs(1),
        "the API request waited {:?} after the token request",
        api_at - token_at
    );
}

/// Reproduction (issue 21, item 10): prefetched pages were only polled while
/// the consumer waited for the next item, so a consumer that works per item
/// (longer than the request timeout) let a prefetched answer sit unread
/// until its timeout fired, and the page was requested again. The consumer's
/// per-item work is the scenario here, not a stand-in for synchronisation.
#[tokio::test]
async fn a_slow_consumer_makes_no_page_be_requested_twice() {
    // On every version: the hostile server serves groups only on its path.
    for (version, _) in GROUP_PATHS.iter().copied() {
        let h = Hostile::start_for(
            version,
            3,
            Mode { later_pages_delay: Duration::from_millis(50), ..Mode::default() },
        )
        .await;
        let client = builder(&h, 3)
            .rate_limit(None)
            .request_timeout(Duration::from_millis(1000))
            .page_concurrency(4)
            .build()
            .unwrap();
        let mut stream = client.list_groups().limit(1).stream();
        let mut ids = Vec::new();
        while let Some(group) = stream.try_next().await.unwrap() {
            ids.push(group.id);
            if ids.len() < 3 {
                tokio::time::sleep(Duration::from_millis(1200)).await; // work on this group
            }
        }
        assert_eq!(ids, h.ids(), "every group once, in order");
        let queries: Vec<String> = h.api_requests().iter().map(|s| s.query.clone()).collect();
        let distinct: HashSet<&String> = queries.iter().collect();
        assert_eq!(distinct.len(), queries.len(), "a page was requested twice: {queries:?}");
    }
}

/// Dropping a stream cancels its prefetches: a page still waiting for a
/// rate-limit slot when the stream is dropped is never sent.
#[tokio::test]
async fn dropping_a_stream_stops_its_prefetches() {
    let h = Hostile::start(40, Mode::default()).await;
    let window = Duration::from_millis(400);
    let client = builder(&h, 1)
        .rate_limit(Some(RateLimit::new(1, window).unwrap()))
        .page_concurrency(2)
        .build()
        .unwrap();
    let mut stream = client.list_groups().limit(10).stream();
    assert!(stream.try_next().await.unwrap().is_some());
    // The first page took the only slot; the prefetches wait for the next.
    drop(stream);
    let before = h.api_requests().len();
    tokio::time::sleep(window * 3).await; // long enough for a surviving prefetch to be sent
    let seen: Vec<String> = h.api_requests().iter().map(|s| s.query.clone()).collect();
    assert_eq!((before, seen.len()), (1, 1), "only the first page was ever sent: {seen:?}");
}
