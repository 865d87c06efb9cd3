//! `cargo xtask record`: runs the scenario against the emulator (default) or
//! a live tenant, and writes fixtures with secrets and volatile values
//! replaced by placeholders.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;

use crate::exchange::{Arranged, arrange_emulator, fetch_token, perform};
use crate::fixture::{
    ClientKind, Fixture, FixtureRequest, Placeholders, RecordedFrom, Setup, TokenState, load_all, to_text,
};
use crate::scenario::{Exchange, exchanges};

/// Where to record.
pub enum Target {
    /// A fresh emulator per exchange.
    Emulator,
    /// A tenant: `SAIL_CLIENT_ID`/`SAIL_CLIENT_SECRET`, and catalog ids from
    /// `PSG_RECORD_POLICIES` and `PSG_RECORD_SOURCES` (comma-separated).
    Tenant {
        /// Tenant root.
        base_url: String,
    },
}

/// Records one exchange into a fixture.
pub async fn record_one(target: &Target, exchange: &Exchange) -> anyhow::Result<Option<Fixture>> {
    let arranged = match target {
        Target::Emulator => arrange_emulator(&exchange.setup).await?,
        Target::Tenant { base_url } => match arrange_tenant(base_url, &exchange.setup).await? {
            Some(a) => a,
            None => return Ok(None),
        },
    };
    let query: BTreeMap<String, String> =
        exchange.query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let captured =
        perform(&arranged, exchange.method, exchange.path, &query, exchange.body.as_ref(), &[]).await?;
    let mut response = captured.response;
    response.body = response.body.map(|b| arranged.placeholders.normalise_value(&b));
    let mut headers = BTreeMap::new();
    if arranged.token.is_some() {
        headers.insert("authorization".to_string(), "Bearer {{token}}".to_string());
    }
    if exchange.body.is_some() {
        headers.insert("content-type".to_string(), "application/json".to_string());
    }
    cleanup(target, &arranged).await;
    Ok(Some(Fixture {
        name: exchange.name.to_string(),
        operation: exchange.operation.to_string(),
        note: exchange.note.map(str::to_string),
        recorded_from: match target {
            Target::Emulator => crate::fixture::RecordedFrom::Emulator,
            Target::Tenant { .. } => crate::fixture::RecordedFrom::Tenant,
        },
        recorded: today(),
        setup: exchange.setup.clone(),
        request: FixtureRequest {
            method: exchange.method.to_string(),
            path: exchange.path.to_string(),
            query,
            headers,
            body: exchange.body.clone(),
        },
        response,
        hand_written: false,
        conformance: None,
        replay_generated: exchange.replay_generated,
    }))
}

async fn arrange_tenant(base_url: &str, setup: &Setup) -> anyhow::Result<Option<Arranged>> {
    // A tenant cannot be made to fail, rate limit or expire on demand.
    if setup.fault.is_some()
        || setup.rate_limited
        || setup.token == TokenState::Expired
        || setup.client != ClientKind::Manage
        || setup.groups > 5
    {
        return Ok(None);
    }
    let var = |k: &str| std::env::var(k).map_err(|_| anyhow::anyhow!("{k} is not set"));
    let list = |k: &str| -> anyhow::Result<Vec<String>> {
        Ok(var(k)?.split(',').map(|s| s.trim().to_string()).collect())
    };
    let http = crate::http_client();
    let token = fetch_token(&http, base_url, &var("SAIL_CLIENT_ID")?, &var("SAIL_CLIENT_SECRET")?).await?;
    let policies = list("PSG_RECORD_POLICIES")?;
    let sources = list("PSG_RECORD_SOURCES")?;
    anyhow::ensure!(
        !policies.is_empty() && sources.len() >= 4,
        "PSG_RECORD_POLICIES needs 1+ ids, PSG_RECORD_SOURCES 4+"
    );
    let mut created = Vec::new();
    for i in 0..setup.groups {
        let body = serde_json::json!({"name": format!("psg-record {i}"), "passwordPolicyId": policies[0], "sourceIds": [sources[0], sources[1]]});
        let g: serde_json::Value = http
            .post(format!("{base_url}/beta/password-sync-groups"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        created.push(g["id"].as_str().unwrap_or_default().to_string());
    }
    let placeholders = Placeholders {
        token: token.clone(),
        groups: created.clone(),
        policies,
        sources,
        ..Placeholders::default()
    };
    let token = (setup.token != TokenState::Missing).then_some(token);
    Ok(Some(Arranged { base_url: base_url.to_string(), token, placeholders, emulator: None, created }))
}

async fn cleanup(target: &Target, arranged: &Arranged) {
    let Target::Tenant { base_url } = target else { return };
    let http = crate::http_client();
    for id in &arranged.created {
        let url = format!("{base_url}/beta/password-sync-groups/{id}");
        let _ = http.delete(url).bearer_auth(&arranged.placeholders.token).send().await;
    }
}

/// How a recording compares with the fixtures already in the directory.
#[derive(Debug, Default)]
pub struct Summary {
    /// Same bytes as before.
    pub unchanged: Vec<String>,
    /// Different bytes.
    pub changed: Vec<String>,
    /// No file before.
    pub added: Vec<String>,
    /// Exchanges the target cannot be put in (live tenants).
    pub skipped: Vec<String>,
    /// Derived fixtures whose example is gone.
    pub removed: Vec<String>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} unchanged, {} changed, {} new, {} skipped, {} removed",
            self.unchanged.len(),
            self.changed.len(),
            self.added.len(),
            self.skipped.len(),
            self.removed.len()
        )?;
        let lists = [
            ("changed", &self.changed),
            ("new", &self.added),
            ("skipped", &self.skipped),
            ("removed", &self.removed),
        ];
        for (label, list) in lists {
            for name in list {
                writeln!(f, "  {label}: {name}")?;
            }
        }
        Ok(())
    }
}

/// Records every exchange into `out`, leaving hand-written fixtures alone.
pub async fn record_all(target: &Target, out: &Path) -> anyhow::Result<Summary> {
    std::fs::create_dir_all(out)?;
    let existing = load_all(out).unwrap_or_default();
    let mut summary = Summary::default();
    for exchange in exchanges() {
        if existing.iter().any(|f| f.name == exchange.name && f.hand_written) {
            continue;
        }
        let Some(fixture) = record_one(target, &exchange).await? else {
            summary.skipped.push(exchange.name.to_string());
            continue;
        };
        save(fixture, &existing, out, &mut summary)?;
    }
    Ok(summary)
}

/// Writes the fixtures derived from the reference specs in `references`
/// ([`crate::upstream`]) into `out`, and removes derived fixtures that no
/// longer come from any example.
pub fn record_upstream(references: &Path, out: &Path) -> anyhow::Result<Summary> {
    std::fs::create_dir_all(out)?;
    let existing = load_all(out).unwrap_or_default();
    let derived = crate::upstream::derive_all(references, &today())?;
    let mut summary = Summary::default();
    for old in existing.iter().filter(|f| f.recorded_from == RecordedFrom::UpstreamExample) {
        if !derived.iter().any(|f| f.name == old.name) {
            let path = out.join(format!("{}.json", old.name));
            std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
            summary.removed.push(old.name.clone());
        }
    }
    for fixture in derived {
        save(fixture, &existing, out, &mut summary)?;
    }
    Ok(summary)
}

/// Saves one fixture into `out` (atomically), keeping the day an unchanged
/// one was first recorded, and notes what happened in `summary`.
fn save(mut fixture: Fixture, existing: &[Fixture], out: &Path, summary: &mut Summary) -> anyhow::Result<()> {
    if let Some(old) = existing.iter().find(|f| f.name == fixture.name) {
        let mut same_day = fixture.clone();
        same_day.recorded = old.recorded.clone();
        if same_day == *old {
            fixture = same_day;
        }
    }
    let text = to_text(&fixture);
    crate::guard::check_no_secrets(&fixture.name, &text)?;
    let path = out.join(format!("{}.json", fixture.name));
    let write = |text: &str| {
        psg_fs::write_atomic(&path, text.as_bytes())
            .with_context(|| format!("cannot write {} (left unchanged)", path.display()))
    };
    match std::fs::read_to_string(&path) {
        Ok(old) if old == text => summary.unchanged.push(fixture.name),
        Ok(_) => {
            write(&text)?;
            summary.changed.push(fixture.name);
        }
        Err(_) => {
            write(&text)?;
            summary.added.push(fixture.name);
        }
    }
    Ok(())
}

/// Today's date (UTC) as `YYYY-MM-DD`.
fn today() -> String {
    let secs =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
