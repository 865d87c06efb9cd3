//! Compile-time checks: the client, its errors, every future it returns and
//! every stream can move to another task (`tokio::spawn`, a multi-threaded
//! runtime). A change that made one of them `!Send` (an `Rc`, a `RefCell`
//! or a non-`Send` guard held across an `.await`) stops this file compiling.

use futures::StreamExt;
use psg_ext::{Client, Error, GroupSpec, ListGroups, ListPasswordPolicies, ListSources, Page};

fn send_static<T: Send + 'static>(_: &T) {}
fn send_sync_static<T: Send + Sync + 'static>() {}

/// Never run: it only has to type-check. Every future is wrapped the way a
/// caller spawns it (owning a clone of the client and its arguments), so
/// the check is the one `tokio::spawn` makes.
#[allow(dead_code, clippy::diverging_sub_expression)]
fn everything_public_is_send_and_static(client: Client) {
    send_sync_static::<Client>();
    send_sync_static::<Error>();
    send_sync_static::<GroupSpec>();
    send_sync_static::<Page>();
    send_sync_static::<ListGroups>();
    send_sync_static::<ListSources>();
    send_sync_static::<ListPasswordPolicies>();

    let spec = GroupSpec::new("n").password_policy("p").sources(["a", "b"]);
    let c = client.clone();
    let s = spec.clone();
    send_static(&async move { c.create_group(&s).await });
    let c = client.clone();
    send_static(&async move { c.get_group("id").await });
    let c = client.clone();
    let s = spec.clone();
    send_static(&async move { c.update_group("id", &s).await });
    let c = client.clone();
    send_static(&async move { c.delete_group("id").await });
    let c = client.clone();
    send_static(&async move { c.get_source("id").await });
    let c = client.clone();
    send_static(&async move { c.get_password_policy("id").await });
    let c = client.clone();
    send_static(&async move { c.access_token().await });

    // The builders' own futures and streams own everything they need.
    send_static(&client.list_groups().page());
    send_static(&client.list_sources().page());
    send_static(&client.list_password_policies().page());
    send_static(&client.list_groups().stream());
    send_static(&client.list_sources().stream());
    send_static(&client.list_password_policies().stream());
    let mut stream = client.list_groups().stream();
    send_static(&async move { stream.next().await });
}

#[test]
fn the_checks_above_compile() {
    // The assertions are the compilation itself; this keeps the file a test
    // target that `cargo test` builds.
    let _ = everything_public_is_send_and_static as fn(Client);
}
