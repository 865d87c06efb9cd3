//! `psg demo`: a guided tour of every everyday job against an emulator
//! started in this process. No tenant, no credentials, no network.

use std::io::Write;

use psg_emulator::Emulator;
use psg_ext::{Client, GroupSpec};

use crate::apply;
use crate::cli::{ApplyArgs, GlobalArgs, OutputFormat, PlanArgs};
use crate::context::Context;
use crate::failure::Failure;
use crate::output;

fn step(out: &mut impl Write, n: u32, title: &str) -> std::io::Result<()> {
    writeln!(out, "\n== {n}. {title}")
}

/// Runs the tour, writing to `out`.
pub async fn run(global: &GlobalArgs, out: &mut impl Write) -> Result<(), Failure> {
    let emulator = Emulator::builder()
        .ephemeral()
        .start()
        .await
        .map_err(|e| Failure::api(format!("cannot start the embedded emulator: {e}")))?;
    let catalog = emulator.catalog();
    let (policies, sources) = (&catalog.password_policy_ids, &catalog.source_ids);
    writeln!(
        out,
        "psg demo: a tour against an embedded emulator at {} (no tenant, no credentials).",
        emulator.base_url()
    )?;
    writeln!(
        out,
        "It knows {} password-managed sources and {} password policies.",
        sources.len(),
        policies.len()
    )?;

    let client = Client::builder()
        .base_url(emulator.base_url())
        .client_credentials("psg-demo", "psg-demo-secret")
        .build()?;
    let ctx = Context {
        global: GlobalArgs { no_progress: true, output: None, ..global.clone() },
        format: OutputFormat::Table,
    };

    step(
        out,
        1,
        "Create two groups   (psg groups create --name ... --policy ... --source ... --source ...)",
    )?;
    let finance = client
        .create_group(
            &GroupSpec::new("Finance applications").password_policy(&policies[0]).sources(&sources[..2]),
        )
        .await?;
    let hr = client
        .create_group(&GroupSpec::new("HR systems").password_policy(&policies[1]).sources(&sources[2..4]))
        .await?;
    let both = [finance.clone(), hr.clone()];
    output::print_groups(out, OutputFormat::Table, &both, &crate::names::labels(&client, &both).await)?;

    step(out, 2, "A bad group is refused before anything is sent")?;
    let err = client
        .create_group(&GroupSpec::new("Lonely").password_policy(&policies[0]).source(&sources[0]))
        .await
        .unwrap_err();
    writeln!(out, "error: {err}")?;

    step(out, 3, "List them           (psg groups list)")?;
    let page = client.list_groups().page().await?;
    output::print_groups(
        out,
        OutputFormat::Table,
        &page.items,
        &crate::names::labels(&client, &page.items).await,
    )?;
    writeln!(out, "{} group(s); X-Total-Count says {}", page.items.len(), page.total.unwrap_or_default())?;

    let finance_id = finance.id.clone();
    step(out, 4, "Get one             (psg groups get ID -o yaml)")?;
    output::print_group(out, OutputFormat::Yaml, &client.get_group(&finance_id).await?, &Default::default())?;

    step(out, 5, "Update it           (psg groups update ID --name ... --source ...)")?;
    let mut change = GroupSpec::from(&finance).name("Finance and payroll");
    change.source_ids.push(sources[4].clone());
    let updated = client.update_group(&finance_id, &change).await?;
    output::print_group(
        out,
        OutputFormat::Table,
        &updated,
        &crate::names::labels(&client, std::slice::from_ref(&updated)).await,
    )?;

    step(out, 6, "Export desired state (psg export --file groups.yaml)")?;
    let dir = std::env::temp_dir().join(format!("psg-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("groups.yaml");
    apply::export(&client, Some(&file), false, &mut Vec::new()).await?;
    let exported = std::fs::read_to_string(&file)?;
    write!(out, "{exported}")?;

    step(
        out,
        7,
        "Edit the file, plan and apply (psg plan -f groups.yaml --prune; psg apply -f groups.yaml --prune --yes)",
    )?;
    let edited = format!(
        "groups:\n  - name: Engineering tools\n    passwordPolicyId: {}\n    sourceIds: [{}, {}]\n  - name: HR systems\n    passwordPolicyId: {}\n    sourceIds: [{}, {}, {}]\n",
        policies[2], sources[0], sources[3], policies[1], sources[2], sources[3], sources[1]
    );
    std::fs::write(&file, &edited)?;
    write!(out, "{edited}")?;
    let args = PlanArgs { file: file.clone(), prune: true, detailed_exitcode: false, out: None };
    writeln!(out, "-- plan")?;
    apply::run_plan(&ctx, &client, &args, out).await?;
    writeln!(out, "-- apply")?;
    let apply_args = ApplyArgs {
        file: Some(file.clone()),
        prune: true,
        plan: None,
        yes: true,
        allow_delete_all: false,
        max_deletes: None,
        detailed_exitcode: false,
        rounds: crate::gitops::execute::DEFAULT_ROUNDS,
    };
    apply::run_apply(&ctx, &client, &apply_args, out).await?;
    writeln!(out, "-- plan again")?;
    apply::run_plan(&ctx, &client, &args, out).await?;

    step(
        out,
        8,
        "Promote to another tenant by name (psg export --portable; psg --profile prod apply -f portable.yaml)",
    )?;
    let prod = Emulator::builder()
        .ephemeral()
        .id_seed(7)
        .start()
        .await
        .map_err(|e| Failure::api(format!("cannot start the second embedded emulator: {e}")))?;
    writeln!(
        out,
        "A second emulator, \"prod\", at {}: same source and policy names, different ids ({} here, {} there).",
        prod.base_url(),
        sources[0],
        prod.catalog().source_ids[0]
    )?;
    let portable = dir.join("portable.yaml");
    apply::export(&client, Some(&portable), true, &mut Vec::new()).await?;
    write!(out, "{}", std::fs::read_to_string(&portable)?)?;
    let prod_client = Client::builder()
        .base_url(prod.base_url())
        .client_credentials("psg-demo", "psg-demo-secret")
        .build()?;
    let promote = ApplyArgs {
        file: Some(portable.clone()),
        prune: false,
        plan: None,
        yes: true,
        allow_delete_all: false,
        max_deletes: None,
        detailed_exitcode: false,
        rounds: crate::gitops::execute::DEFAULT_ROUNDS,
    };
    writeln!(out, "-- apply to prod")?;
    apply::run_apply(&ctx, &prod_client, &promote, out).await?;
    writeln!(out, "-- plan against prod again")?;
    let prod_plan = PlanArgs { file: portable.clone(), prune: false, detailed_exitcode: false, out: None };
    apply::run_plan(&ctx, &prod_client, &prod_plan, out).await?;
    prod.shutdown().await;

    step(out, 9, "Delete everything   (psg groups delete ID... --yes)")?;
    for group in client.list_groups().page().await?.items {
        client.delete_group(&group.id).await?;
        writeln!(out, "deleted {}", group.id)?;
    }
    let stats = emulator.stats();
    let requests: u64 = stats.requests.values().flat_map(|by_status| by_status.values()).sum();
    writeln!(
        out,
        "\nDone: {requests} HTTP requests, {} token(s), {} rate-limited, {} group(s) left.",
        stats.tokens_issued,
        stats.rate_limited,
        emulator.groups().len()
    )?;
    writeln!(
        out,
        "Next: point psg at a tenant with SAIL_BASE_URL, SAIL_CLIENT_ID and SAIL_CLIENT_SECRET, then run `psg groups list`."
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    emulator.shutdown().await;
    Ok(())
}
