//! HTTP for the catalog: `GET /sources[/{id}]` and
//! `GET /password-policies[/{id}]`, in the shapes of SailPoint's v3 spec.
//!
//! A source is a complete `Source` as SailPoint's SDKs decode it (`name`,
//! `owner` and `connector` always present; every seventh source has
//! `owner: null`, which the spec allows). A policy is a `PasswordPolicyV3Dto`
//! whose `dateCreated`/`lastUpdated` are epoch-millisecond integers, as every
//! upstream example is (one policy in five has `lastUpdated` and
//! `firstExpirationReminder` null). Every value is derived from the catalog
//! entry and its position, so answers are deterministic.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::Shared;
use crate::catalog::{Catalog, PolicyEntry, SourceEntry};
use crate::filters;
use crate::routes::{ListQuery, bad_request, error_dto, parse_list_query};

/// 2024-01-01T00:00:00Z in epoch milliseconds: when the catalog "was created".
const EPOCH_MS: i64 = 1_704_067_200_000;
const DAY_MS: i64 = 86_400_000;

fn timestamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The policy governing the `index`th password-managed source.
fn policy_of(catalog: &Catalog, password_index: usize) -> Option<&PolicyEntry> {
    let n = catalog.password_policies.len();
    (n > 0).then(|| &catalog.password_policies[password_index % n])
}

/// A `Source` for the `index`th source of the catalog.
pub(crate) fn source_json(catalog: &Catalog, index: usize, source: &SourceEntry) -> Value {
    let managed = source.is_password_managed();
    let password_index = catalog.source_ids.iter().position(|id| *id == source.id);
    let policies = match password_index.and_then(|i| policy_of(catalog, i)) {
        Some(p) => json!([{"type": "PASSWORD_POLICY", "id": p.id, "name": p.name}]),
        None if managed => json!([]),
        None => Value::Null,
    };
    let owner = if index % 7 == 6 {
        Value::Null
    } else {
        json!({"type": "IDENTITY", "id": "2c9180a46faadee4016fb4e018c20639", "name": "Emulator Admin"})
    };
    let (kind, connector, connection) = if managed {
        ("Web Services", "web-services-angularsc", "direct")
    } else {
        ("DelimitedFile", "delimited-file", "file")
    };
    let created = EPOCH_MS + index as i64 * DAY_MS;
    json!({
        "id": source.id,
        "name": source.name,
        "description": format!("{} (emulated source)", source.name),
        "owner": owner,
        "cluster": null,
        "accountCorrelationConfig": null,
        "accountCorrelationRule": null,
        "managerCorrelationMapping": null,
        "managerCorrelationRule": null,
        "beforeProvisioningRule": null,
        "schemas": [{"type": "CONNECTOR_SCHEMA", "id": format!("{:.24}schema00", source.id), "name": "account"}],
        "passwordPolicies": policies,
        "features": source.features,
        "type": kind,
        "connector": connector,
        "connectorClass": "sailpoint.connector.OpenConnectorAdapter",
        "connectorAttributes": {},
        "deleteThreshold": 10,
        "authoritative": false,
        "managementWorkgroup": null,
        "healthy": true,
        "status": "SOURCE_STATE_HEALTHY",
        "since": timestamp(created + 30 * DAY_MS),
        "connectorId": connector,
        "connectorName": kind,
        "connectionType": connection,
        "connectorImplementationId": connector,
        "created": timestamp(created),
        "modified": timestamp(created + 7 * DAY_MS),
        "credentialProviderEnabled": false,
        "category": null,
    })
}

/// A `PasswordPolicyV3Dto` for the `index`th policy of the catalog.
pub(crate) fn policy_json(catalog: &Catalog, index: usize, policy: &PolicyEntry) -> Value {
    let n = catalog.password_policies.len().max(1);
    let sources: Vec<&String> =
        catalog.source_ids.iter().enumerate().filter(|(i, _)| i % n == index).map(|(_, id)| id).collect();
    let created = EPOCH_MS + index as i64 * DAY_MS;
    let sparse = index % 5 == 4;
    json!({
        "description": if index == 0 { json!("Default Password Policy") } else { Value::Null },
        "id": policy.id,
        "name": policy.name,
        "dateCreated": created,
        "lastUpdated": if sparse { Value::Null } else { json!(created + 3 * DAY_MS) },
        "firstExpirationReminder": if sparse { Value::Null } else { json!(45) },
        "accountIdMinWordLength": -1,
        "accountNameMinWordLength": -1,
        "minAlpha": 1,
        "minCharacterTypes": -1,
        "maxLength": 0,
        "minLength": 8 + 2 * (index % 3) as i64,
        "maxRepeatedChars": -1,
        "minLower": 0,
        "minNumeric": 1,
        "minSpecial": i64::from(index % 2 == 1),
        "minUpper": 0,
        "passwordExpiration": 90,
        "defaultPolicy": index == 0,
        "enablePasswdExpiration": false,
        "requireStrongAuthn": false,
        "requireStrongAuthOffNetwork": false,
        "requireStrongAuthUntrustedGeographies": false,
        "useAccountAttributes": false,
        "useDictionary": false,
        "useIdentityAttributes": false,
        "validateAgainstAccountId": false,
        "validateAgainstAccountName": false,
        "created": null,
        "modified": null,
        "sourceIds": sources,
    })
}

/// How `sorters` orders sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sorter {
    Name,
    NameDesc,
    Id,
    IdDesc,
}

fn parse_sorters(raw: &str) -> Result<Vec<Sorter>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "name" => Ok(Sorter::Name),
            "-name" => Ok(Sorter::NameDesc),
            "id" => Ok(Sorter::Id),
            "-id" => Ok(Sorter::IdDesc),
            other => {
                Err(format!("The query parameter 'sorters' supports name, -name, id and -id, not '{other}'."))
            }
        })
        .collect()
}

/// One page of `items` with `X-Total-Count` when asked.
fn page(items: Vec<Value>, q: &ListQuery) -> Response {
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(q.offset).take(q.limit).collect();
    let mut response = Json(page).into_response();
    if q.count {
        response.headers_mut().insert("X-Total-Count", HeaderValue::from(total));
    }
    response
}

fn filter_error(text: &str, e: &filters::FilterError) -> Response {
    error_dto(
        StatusCode::BAD_REQUEST,
        "400.1.3 Illegal value",
        &[format!("Illegal value \"{text}\" for field \"filters\": {e}.")],
    )
}

/// `GET /sources`: `filters`, `sorters`, `limit`, `offset`, `count`.
pub(crate) async fn list_sources(State(s): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let q = match parse_list_query(raw.as_deref()) {
        Ok(q) => q,
        Err(errors) => return bad_request(&errors),
    };
    let filter = match q.filters.as_deref().map(filters::parse).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => return filter_error(q.filters.as_deref().unwrap_or_default(), &e),
    };
    let sorters = match parse_sorters(q.sorters.as_deref().unwrap_or_default()) {
        Ok(s) => s,
        Err(text) => return bad_request(&[text]),
    };
    let catalog = &s.catalog;
    let mut matching: Vec<(usize, &SourceEntry)> =
        catalog.sources.iter().enumerate().filter(|(_, src)| filter.matches(src)).collect();
    for sorter in sorters.iter().rev() {
        match sorter {
            Sorter::Name => matching.sort_by(|a, b| a.1.name.cmp(&b.1.name)),
            Sorter::NameDesc => matching.sort_by(|a, b| b.1.name.cmp(&a.1.name)),
            Sorter::Id => matching.sort_by(|a, b| a.1.id.cmp(&b.1.id)),
            Sorter::IdDesc => matching.sort_by(|a, b| b.1.id.cmp(&a.1.id)),
        }
    }
    page(matching.into_iter().map(|(i, src)| source_json(catalog, i, src)).collect(), &q)
}

/// `GET /sources/{id}`.
pub(crate) async fn get_source(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match s.catalog.sources.iter().enumerate().find(|(_, src)| src.id == id) {
        Some((i, src)) => Json(source_json(&s.catalog, i, src)).into_response(),
        None => error_dto(StatusCode::NOT_FOUND, "404 Not found", &[format!("No source has the id '{id}'.")]),
    }
}

/// `GET /password-policies`: `limit`, `offset`, `count`.
pub(crate) async fn list_policies(State(s): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let q = match parse_list_query(raw.as_deref()) {
        Ok(q) => q,
        Err(errors) => return bad_request(&errors),
    };
    let catalog = &s.catalog;
    page(catalog.password_policies.iter().enumerate().map(|(i, p)| policy_json(catalog, i, p)).collect(), &q)
}

/// `GET /password-policies/{id}`.
pub(crate) async fn get_policy(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match s.catalog.password_policies.iter().enumerate().find(|(_, p)| p.id == id) {
        Some((i, p)) => Json(policy_json(&s.catalog, i, p)).into_response(),
        None => error_dto(
            StatusCode::NOT_FOUND,
            "404 Not found",
            &[format!("No password policy has the id '{id}'.")],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorters_accept_name_and_id_only() {
        assert_eq!(parse_sorters("name").unwrap(), vec![Sorter::Name]);
        assert_eq!(parse_sorters("-name,id").unwrap(), vec![Sorter::NameDesc, Sorter::Id]);
        assert_eq!(parse_sorters("").unwrap(), vec![]);
        assert!(parse_sorters("created").unwrap_err().contains("'created'"));
    }

    #[test]
    fn shapes_carry_what_the_sdk_requires() {
        let c = Catalog::new(5, 5);
        for (i, src) in c.sources.iter().enumerate() {
            let v = source_json(&c, i, src);
            for field in ["id", "name", "owner", "connector", "features"] {
                assert!(v.get(field).is_some(), "{field} in {v}");
            }
            assert_eq!(v["owner"].is_null(), i == 6);
        }
        let p = policy_json(&c, 0, &c.password_policies[0]);
        assert!(p["dateCreated"].is_i64() && p["lastUpdated"].is_i64(), "{p}");
        assert!(policy_json(&c, 4, &c.password_policies[4])["lastUpdated"].is_null());
        assert_eq!(p["sourceIds"], json!([c.source_ids[0]]));
    }
}
