//! Prints every password sync group, streaming pages concurrently.
//!
//! Against the emulator (`cargo run -p psg-emulator` in another terminal):
//!
//! ```sh
//! SAIL_BASE_URL=http://127.0.0.1:8620 SAIL_CLIENT_ID=psg-demo SAIL_CLIENT_SECRET=psg-demo-secret \
//!     cargo run -p psg-ext --example list_all
//! ```

use futures::TryStreamExt;

#[tokio::main]
async fn main() -> Result<(), psg_ext::Error> {
    let client = psg_ext::Client::from_env()?;
    let mut groups = client.list_groups().stream();
    let mut n = 0;
    while let Some(group) = groups.try_next().await? {
        n += 1;
        println!(
            "{}  {}  policy {}  sources {}",
            group.id,
            group.name,
            group.password_policy_id,
            group.source_ids.join(",")
        );
    }
    eprintln!("{n} group(s)");
    Ok(())
}
