//! Creates, reads, renames and deletes one group.
//!
//! Against the emulator (`cargo run -p psg-emulator` in another terminal),
//! whose first policy and sources are the defaults below:
//!
//! ```sh
//! SAIL_BASE_URL=http://127.0.0.1:8620 SAIL_CLIENT_ID=psg-demo SAIL_CLIENT_SECRET=psg-demo-secret \
//!     cargo run -p psg-ext --example crud
//! ```
//!
//! On a tenant, set `PSG_EXAMPLE_POLICY` and `PSG_EXAMPLE_SOURCES` (two or
//! more comma-separated source ids).

use psg_ext::{Client, GroupSpec};

#[tokio::main]
async fn main() -> Result<(), psg_ext::Error> {
    let policy =
        std::env::var("PSG_EXAMPLE_POLICY").unwrap_or_else(|_| "2c91808d000000000000000000700000".into());
    let sources = std::env::var("PSG_EXAMPLE_SOURCES")
        .unwrap_or_else(|_| "2c918084000000000000000000500000,2c918084000000000000000000500001".into());
    let client = Client::from_env()?;

    let new = GroupSpec::new("psg example").password_policy(policy).sources(sources.split(','));
    let created = client.create_group(&new).await?;
    let id = created.id.clone();
    println!("created {id}");

    let fetched = client.get_group(&id).await?;
    println!("read back: {:?}", fetched.name);

    let renamed = GroupSpec::from(&fetched).name("psg example (renamed)");
    let updated = client.update_group(&id, &renamed).await?;
    println!("renamed to {:?}, modified {:?}", updated.name, updated.modified);

    client.delete_group(&id).await?;
    match client.get_group(&id).await {
        Err(e) if e.is_not_found() => println!("deleted {id}"),
        other => println!("unexpected: {other:?}"),
    }
    Ok(())
}
