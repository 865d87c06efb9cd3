//! The API's domain rules for a group body, as the beta spec documents them.

use serde_json::Value;

use crate::state::{Catalog, Group, GroupInput};

/// A rule violation: the field and a sentence that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The offending field (`name`, `passwordPolicyId`, `sourceIds`, `id`,
    /// `created`, `modified`, or `body`).
    pub field: &'static str,
    /// Human-readable text naming the field.
    pub text: String,
}

fn violation(field: &'static str, text: impl Into<String>) -> Violation {
    Violation { field, text: text.into() }
}

/// Checks a create or replace body. The read-only `id`, `created` and
/// `modified` are not used, but are type-checked as ISC checks them (clients
/// send them back, sometimes as null): `id` a string, the dates RFC 3339
/// date-times, each also allowed null. Unknown fields are ignored.
pub fn validate_group(body: &[u8], catalog: &Catalog) -> Result<GroupInput, Vec<Violation>> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| vec![violation("body", format!("The request body is not valid JSON: {e}."))])?;
    let Some(obj) = value.as_object() else {
        return Err(vec![violation("body", "The request body must be a JSON object.")]);
    };
    let mut errors = read_only_violations(obj);
    let name = match obj.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Value::String(_)) => {
            errors.push(violation("name", "The field 'name' must not be empty."));
            None
        }
        None | Some(Value::Null) => {
            errors.push(violation("name", "The field 'name' is required."));
            None
        }
        Some(_) => {
            errors.push(violation("name", "The field 'name' must be a string."));
            None
        }
    };
    let policy = match obj.get("passwordPolicyId") {
        Some(Value::String(s)) if catalog.policy(s).is_some() => Some(s.clone()),
        Some(Value::String(s)) => {
            errors.push(violation(
                "passwordPolicyId",
                format!("The field 'passwordPolicyId' names an unknown password policy '{s}'."),
            ));
            None
        }
        None | Some(Value::Null) => {
            errors.push(violation("passwordPolicyId", "The field 'passwordPolicyId' is required."));
            None
        }
        Some(_) => {
            errors.push(violation("passwordPolicyId", "The field 'passwordPolicyId' must be a string."));
            None
        }
    };
    let sources = match obj.get("sourceIds") {
        Some(Value::Array(items)) => {
            let mut ids: Vec<String> = Vec::new();
            let mut ok = true;
            for item in items {
                match item {
                    Value::String(s) if catalog.source(s).is_none() => {
                        errors.push(violation(
                            "sourceIds",
                            format!(
                                "The field 'sourceIds' names an unknown or not password-managed source '{s}'."
                            ),
                        ));
                        ok = false;
                    }
                    Value::String(s) if !catalog.source(s).is_some_and(|e| e.is_password_managed()) => {
                        let name = catalog.source(s).map(|e| e.name.as_str()).unwrap_or_default();
                        errors.push(violation(
                            "sourceIds",
                            format!(
                                "The field 'sourceIds' names source '{name}' (id {s}), which does not have the PASSWORD feature: only password-managed sources can be in a password sync group."
                            ),
                        ));
                        ok = false;
                    }
                    Value::String(s) if ids.contains(s) => {
                        errors.push(violation(
                            "sourceIds",
                            format!("The field 'sourceIds' lists source '{s}' twice."),
                        ));
                        ok = false;
                    }
                    Value::String(s) => ids.push(s.clone()),
                    _ => {
                        errors.push(violation(
                            "sourceIds",
                            "The field 'sourceIds' must be an array of strings.",
                        ));
                        ok = false;
                    }
                }
            }
            if ok && ids.len() < 2 {
                errors.push(violation(
                    "sourceIds",
                    "The field 'sourceIds' must list at least two distinct password-managed sources.",
                ));
                ok = false;
            }
            ok.then_some(ids)
        }
        None | Some(Value::Null) => {
            errors.push(violation(
                "sourceIds",
                "The field 'sourceIds' is required and must list at least two sources.",
            ));
            None
        }
        Some(_) => {
            errors.push(violation("sourceIds", "The field 'sourceIds' must be an array of strings."));
            None
        }
    };
    match (name, policy, sources) {
        (Some(name), Some(password_policy_id), Some(source_ids)) if errors.is_empty() => {
            Ok(GroupInput { name, password_policy_id, source_ids })
        }
        _ => Err(errors),
    }
}

/// Type errors in the read-only fields of a body, in field order.
fn read_only_violations(obj: &serde_json::Map<String, Value>) -> Vec<Violation> {
    let mut errors = Vec::new();
    match obj.get("id") {
        None | Some(Value::Null | Value::String(_)) => {}
        Some(_) => errors.push(violation("id", "The field 'id' must be a string.")),
    }
    for field in ["created", "modified"] {
        match obj.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => {}
            Some(other) => errors.push(violation(
                field,
                format!(
                    "The field '{field}' must be a date-time such as 2024-01-31T12:00:00Z (RFC 3339), not {}.",
                    shorten(other)
                ),
            )),
        }
    }
    errors
}

/// A JSON value for an error text, cut to 60 characters.
fn shorten(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// With `--exclusive-sources`: every source of `input` must be free, that is
/// held by no group other than `except` (the group being updated). Each taken
/// source is one violation naming the group that holds it, by name and id.
pub fn check_exclusive(
    groups: &[Group],
    input: &GroupInput,
    except: Option<&str>,
) -> Result<(), Vec<Violation>> {
    let errors: Vec<Violation> = input
        .source_ids
        .iter()
        .filter_map(|source| {
            let holder = groups.iter().find(|g| Some(g.id.as_str()) != except && g.source_ids.contains(source))?;
            Some(violation(
                "sourceIds",
                format!(
                    "The field 'sourceIds' names source '{source}', which already belongs to the password sync group '{}' (id {}); a source may belong to only one group.",
                    holder.name, holder.id
                ),
            ))
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat() -> Catalog {
        Catalog::new(3, 1)
    }

    fn body(v: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn valid_body_ignores_volatile_and_unknown_fields() {
        let c = cat();
        let b = body(
            serde_json::json!({"id": null, "created": null, "modified": "2024-01-31T12:00:00.000Z", "extra": 1, "name": "n",
            "passwordPolicyId": c.password_policy_ids[0], "sourceIds": [c.source_ids[0], c.source_ids[1]]}),
        );
        let g = validate_group(&b, &c).unwrap();
        assert_eq!(g.name, "n");
    }

    #[test]
    fn exclusive_sources_name_the_holder_and_ignore_the_group_itself() {
        let g = |id: &str, name: &str, sources: &[&str]| Group {
            id: id.into(),
            name: name.into(),
            password_policy_id: "p".into(),
            source_ids: sources.iter().map(|s| s.to_string()).collect(),
            created: String::new(),
            modified: String::new(),
        };
        let groups = [g("id1", "Finance", &["a", "b"]), g("id2", "HR", &["c", "d"])];
        let input = |sources: &[&str]| GroupInput {
            name: "n".into(),
            password_policy_id: "p".into(),
            source_ids: sources.iter().map(|s| s.to_string()).collect(),
        };
        assert!(check_exclusive(&groups, &input(&["e", "f"]), None).is_ok());
        let errs = check_exclusive(&groups, &input(&["b", "c"]), None).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(errs[0].text.contains("'Finance' (id id1)") && errs[0].text.contains("'b'"), "{errs:?}");
        assert!(errs[1].text.contains("'HR' (id id2)"), "{errs:?}");
        assert!(check_exclusive(&groups, &input(&["a", "b"]), Some("id1")).is_ok());
        assert!(check_exclusive(&groups, &input(&["a", "c"]), Some("id1")).is_err());
    }

    #[test]
    fn each_violation_names_its_field() {
        let c = cat();
        let cases = [
            (
                serde_json::json!({"name": "", "passwordPolicyId": c.password_policy_ids[0], "sourceIds": [c.source_ids[0], c.source_ids[1]]}),
                "name",
            ),
            (
                serde_json::json!({"name": "n", "passwordPolicyId": "nope", "sourceIds": [c.source_ids[0], c.source_ids[1]]}),
                "passwordPolicyId",
            ),
            (
                serde_json::json!({"name": "n", "passwordPolicyId": c.password_policy_ids[0], "sourceIds": [c.source_ids[0]]}),
                "sourceIds",
            ),
            (
                serde_json::json!({"name": "n", "passwordPolicyId": c.password_policy_ids[0], "sourceIds": [c.source_ids[0], c.source_ids[0]]}),
                "sourceIds",
            ),
            (
                serde_json::json!({"name": "n", "passwordPolicyId": c.password_policy_ids[0], "sourceIds": "x"}),
                "sourceIds",
            ),
            (
                serde_json::json!({"name": 5, "passwordPolicyId": c.password_policy_ids[0], "sourceIds": [c.source_ids[0], c.source_ids[1]]}),
                "name",
            ),
        ];
        for (b, field) in cases {
            let errs = validate_group(&body(b.clone()), &c).unwrap_err();
            assert_eq!(errs.len(), 1, "{b}: {errs:?}");
            assert_eq!(errs[0].field, field);
            assert!(errs[0].text.contains(field), "{}", errs[0].text);
        }
        let hr = c.sources.iter().find(|s| !s.is_password_managed()).unwrap();
        let errs = validate_group(
            &body(serde_json::json!({"name": "n", "passwordPolicyId": c.password_policy_ids[0], "sourceIds": [c.source_ids[0], hr.id]})),
            &c,
        )
        .unwrap_err();
        assert!(errs[0].text.contains(&hr.name) && errs[0].text.contains("PASSWORD"), "{errs:?}");
        assert_eq!(validate_group(b"{oops", &c).unwrap_err()[0].field, "body");
        assert_eq!(validate_group(b"[]", &c).unwrap_err()[0].field, "body");
        assert_eq!(validate_group(b"{}", &c).unwrap_err().len(), 3);
    }

    #[test]
    fn read_only_fields_are_type_checked_like_isc() {
        let c = cat();
        let valid = || {
            serde_json::json!({"name": "n", "passwordPolicyId": c.password_policy_ids[0],
                "sourceIds": [c.source_ids[0], c.source_ids[1]]})
        };
        let with = |field: &str, value: serde_json::Value| {
            let mut b = valid();
            b[field] = value;
            body(b)
        };
        for (field, bad) in [
            ("modified", serde_json::json!("AAA")),
            ("modified", serde_json::json!(1700000000000_i64)),
            ("created", serde_json::json!("2024-13-01T00:00:00Z")),
            ("created", serde_json::json!({"at": "2024-01-01T00:00:00Z"})),
            ("id", serde_json::json!(7)),
            ("id", serde_json::json!(["a"])),
        ] {
            let errs = validate_group(&with(field, bad.clone()), &c).unwrap_err();
            assert_eq!(errs.len(), 1, "{field}={bad}: {errs:?}");
            assert_eq!(errs[0].field, field);
            assert!(errs[0].text.contains(&format!("'{field}'")), "{}", errs[0].text);
        }
        for (field, good) in [
            ("modified", serde_json::json!("2024-01-31T12:00:00Z")),
            ("modified", serde_json::json!("2024-01-31T12:00:00.123+02:00")),
            ("created", serde_json::Value::Null),
            ("id", serde_json::json!("2c9180835d2e5168015d32f890ca1581")),
        ] {
            assert!(validate_group(&with(field, good.clone()), &c).is_ok(), "{field}={good}");
        }
        let long = "x".repeat(500);
        let errs = validate_group(&with("modified", serde_json::json!(long)), &c).unwrap_err();
        assert!(errs[0].text.chars().count() < 200, "{}", errs[0].text);
    }
}
