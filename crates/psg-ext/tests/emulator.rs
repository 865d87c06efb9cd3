//! psg-ext against the emulator: streams under faults, the rate limiter
//! against a server enforcing the same limit, and secrets kept out of logs.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::demo_client;
use futures::TryStreamExt;
use psg_emulator::{Emulator, FaultSpec, RateLimit as ServerLimit};
use psg_ext::{GroupSpec, RateLimit};

#[tokio::test]
async fn stream_yields_every_group_once_in_order_despite_faults() {
    let emu = Emulator::builder()
        .ephemeral()
        .rate_limit(None)
        .groups(1000)
        .faults("500=0.15,503=0.1,429=0.05,reset=0.05".parse::<FaultSpec>().unwrap(), 42)
        .start()
        .await
        .unwrap();
    let client = demo_client(&emu.base_url(), 12).build().unwrap();
    let groups: Vec<_> = client.list_groups().limit(50).concurrency(4).stream().try_collect().await.unwrap();
    let ids: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
    let expected: Vec<String> = emu.groups().into_iter().map(|g| g.id).collect();
    assert_eq!(ids, expected, "server order, each exactly once");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 1000);
    let faults: u64 = emu.stats().faults.values().sum();
    assert!(faults > 10, "faults were injected: {faults}");
}

/// ISC answers an offset at the end of some lists with `400 "Specified
/// offset is invalid."` (SailPoint's TypeScript paginator fails on exactly
/// 250 groups because of it); the emulator can answer the same, and psg-ext
/// reads it as the end.
#[tokio::test]
async fn a_refused_offset_at_the_end_is_an_empty_page() {
    let emu = Emulator::builder()
        .ephemeral()
        .rate_limit(None)
        .groups(250)
        .refuse_offset_past_end(true)
        .start()
        .await
        .unwrap();
    let client = demo_client(&emu.base_url(), 3).build().unwrap();
    let page = client.list_groups().offset(250).page().await.unwrap();
    assert!(page.items.is_empty() && page.total.is_none(), "{page:?}");
    let list = &emu.stats().requests["GET /beta/password-sync-groups"];
    assert_eq!(list.get(&400), Some(&1), "the emulator refused the offset: {list:?}");
    let all: Vec<_> = client.list_groups().stream().try_collect().await.unwrap();
    assert_eq!(all.len(), 250);
    // Offset 0 of an empty list is an empty page, not a refusal.
    let empty =
        Emulator::builder().ephemeral().rate_limit(None).refuse_offset_past_end(true).start().await.unwrap();
    let page = demo_client(&empty.base_url(), 1).build().unwrap().list_groups().page().await.unwrap();
    assert_eq!(page.total, Some(0));
}

#[tokio::test]
async fn stream_handles_offsets_partial_pages_and_empty_tenants() {
    let emu = Emulator::builder().ephemeral().rate_limit(None).groups(7).start().await.unwrap();
    let client = demo_client(&emu.base_url(), 3).build().unwrap();
    let names: Vec<_> =
        client.list_groups().limit(3).offset(2).stream().map_ok(|g| g.name).try_collect().await.unwrap();
    assert_eq!(names.len(), 5);
    assert_eq!(names[0], "Sync group 00003");
    let empty = Emulator::builder().ephemeral().start().await.unwrap();
    let client = demo_client(&empty.base_url(), 3).build().unwrap();
    assert!(client.list_groups().stream().try_collect::<Vec<_>>().await.unwrap().is_empty());
    let err = client.list_groups().limit(0).stream().try_collect::<Vec<_>>().await.unwrap_err();
    assert!(matches!(err, psg_ext::Error::InvalidInput { field: "limit", .. }));
}

#[tokio::test]
async fn crud_round_trip_against_the_emulator() {
    let emu = Emulator::builder().ephemeral().start().await.unwrap();
    let cat = emu.catalog();
    let client = demo_client(&emu.base_url(), 3).build().unwrap();
    let new =
        GroupSpec::new("Finance").password_policy(&cat.password_policy_ids[0]).sources(&cat.source_ids[..2]);
    let created = client.create_group(&new).await.unwrap();
    let id = created.id.clone();
    assert_eq!(client.get_group(&id).await.unwrap(), created);
    let renamed = GroupSpec::from(&created).name("Finance apps");
    assert_eq!(client.update_group(&id, &renamed).await.unwrap().name, "Finance apps");
    client.delete_group(&id).await.unwrap();
    assert!(client.get_group(&id).await.unwrap_err().is_not_found());
    let bad = GroupSpec::new("x").password_policy("unknown").sources(&cat.source_ids[..2]);
    let err = client.create_group(&bad).await.unwrap_err();
    assert!(err.to_string().contains("passwordPolicyId") && err.tracking_id().is_some(), "{err}");
}

#[tokio::test]
async fn the_limiter_keeps_a_sliding_window_server_from_answering_429() {
    let limit = ServerLimit { count: 20, window: Duration::from_millis(500) };
    let emu = Emulator::builder().ephemeral().rate_limit(Some(limit)).start().await.unwrap();
    let cat = emu.catalog();
    let client = demo_client(&emu.base_url(), 1)
        .rate_limit(Some(RateLimit::new(20, Duration::from_millis(500)).unwrap()))
        .build()
        .unwrap();
    let tasks = (0..70).map(|i| {
        let client = client.clone();
        let new = GroupSpec::new(format!("g{i}"))
            .password_policy(&cat.password_policy_ids[0])
            .sources(&cat.source_ids[..2]);
        tokio::spawn(async move { client.create_group(&new).await })
    });
    for t in futures::future::join_all(tasks).await {
        t.unwrap().expect("no create fails: with one attempt, a 429 would surface");
    }
    assert_eq!(emu.stats().rate_limited, 0);
    assert_eq!(emu.groups().len(), 70);
}

#[tokio::test]
async fn sources_and_policies_by_name_against_the_emulator() {
    use psg_ext::{ApiVersion, SourceFilter};
    let emu = Emulator::builder().ephemeral().start().await.unwrap();
    let cat = emu.catalog();
    let client = demo_client(&emu.base_url(), 3).api_version(ApiVersion::V3).build().unwrap();
    let all: Vec<_> = client.list_sources().limit(2).stream().try_collect().await.unwrap();
    assert_eq!(all.len(), cat.sources.len(), "paged through every source");
    let unmanaged =
        all.iter().find(|s| !s.is_password_managed()).expect("the catalog has a source without PASSWORD");
    let managed: Vec<_> = all.iter().filter(|s| s.is_password_managed()).take(2).collect();
    let names = [managed[0].name.as_str(), managed[1].name.as_str(), unmanaged.name.as_str()];
    let found: Vec<_> = client
        .list_sources()
        .filter(SourceFilter::name_in(names).and(SourceFilter::password_managed()))
        .stream()
        .map_ok(|s| s.name)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(!found.contains(&unmanaged.name));
    assert_eq!(client.get_source(&managed[0].id).await.unwrap(), *managed[0]);
    assert!(client.get_source("no-such-source").await.unwrap_err().is_not_found());
    let policies = client.list_password_policies().page().await.unwrap();
    assert_eq!(policies.items.len(), cat.password_policies.len());
    assert_eq!(policies.total, Some(cat.password_policies.len() as u64));
    let p = &policies.items[0];
    assert_eq!(client.get_password_policy(&p.id).await.unwrap(), *p);
    // A group made of names resolved here, through the v3 groups API.
    let spec = GroupSpec::new("By name").password_policy(&p.id).sources([&managed[0].id, &managed[1].id]);
    let created = client.create_group(&spec).await.unwrap();
    assert_eq!(
        client.get_group(&created.id).await.unwrap().source_ids,
        [managed[0].id.clone(), managed[1].id.clone()]
    );
}
