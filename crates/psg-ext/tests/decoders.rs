//! psg-ext's decoders against bodies generated from the schemas of the
//! fragments in `openapi/` (the same ones the client is generated from):
//! every optional field present or absent, null wherever the schema allows
//! it, unknown values for every enum, both shapes of a policy's dates (the
//! schema's date-time text, or other text, and the examples' epoch
//! milliseconds), any text in strings
//! — and, in half the cases, one field of the wrong JSON type. Served by a
//! local server as the answer to a get or a listing, each body must decode
//! into the values it carries, or fail with `Error::Decode` naming the field
//! that is wrong (the one broken, or an `id` that is absent). Never a panic,
//! never another error.

mod hostile;

use std::collections::BTreeMap;

use hostile::{Canned, Hostile, Mode};
use proptest::prelude::*;
use psg_ext::{Client, Error, RetryPolicy};
use serde_json::{Value, json};

/// A fragment of `openapi/`, as JSON.
fn fragment(file: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi").join(file);
    serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => resolve(doc, doc.pointer(pointer).expect("a $ref the fragment defines")),
        None => schema,
    }
}

fn nullable(doc: &Value, schema: &Value) -> bool {
    let schema = resolve(doc, schema);
    schema.get("nullable") == Some(&Value::Bool(true))
        || schema
            .get("allOf")
            .and_then(Value::as_array)
            .is_some_and(|parts| parts.iter().any(|p| p.get("nullable") == Some(&Value::Bool(true))))
}

/// RFC 3339 date-times with and without fractions, in UTC and with an offset.
fn date_time() -> BoxedStrategy<Value> {
    (0i64..4_102_444_800, 0u32..1000, prop_oneof![Just("Z"), Just("+02:00"), Just("-05:30")], any::<bool>())
        .prop_map(|(secs, millis, zone, fraction)| {
            let t = chrono::DateTime::from_timestamp(secs, millis * 1_000_000).unwrap().naive_utc();
            let text = match fraction {
                true => t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
                false => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
            };
            Value::String(format!("{text}{zone}"))
        })
        .boxed()
}

/// Values `schema` allows (null aside, which [`field`] adds where allowed).
fn value(doc: &Value, schema: &Value, depth: usize) -> BoxedStrategy<Value> {
    let schema = resolve(doc, schema);
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let typed: Vec<&Value> = parts.iter().filter(|p| p.get("nullable").is_none()).collect();
        return value(doc, typed[0], depth);
    }
    if let Some(choices) = schema.get("oneOf").or_else(|| schema.get("anyOf")).and_then(Value::as_array) {
        // A policy's dates (`PolicyTimestamp`): epoch milliseconds or text,
        // and the text is mostly a real date-time, as tenants send it.
        let options: Vec<BoxedStrategy<Value>> = choices
            .iter()
            .map(|c| match resolve(doc, c).get("type").and_then(Value::as_str) {
                Some("string") => prop_oneof![3 => date_time(), 1 => value(doc, c, depth)].boxed(),
                _ => value(doc, c, depth),
            })
            .collect();
        return proptest::strategy::Union::new(options).boxed();
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let known: Vec<Value> = values.iter().filter(|v| !v.is_null()).cloned().collect();
        // SailPoint adds enum values without notice: an unknown one, too
        // (marked, so a decode error can be told to be about it).
        return prop_oneof![proptest::sample::select(known), "NEW_[A-Z_]{1,12}".prop_map(Value::String)]
            .boxed();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("string") if schema.get("format").and_then(Value::as_str) == Some("date-time") => date_time(),
        Some("string") => any::<String>().prop_map(Value::String).boxed(),
        Some("integer") if schema.get("format").and_then(Value::as_str) == Some("int32") => {
            any::<i32>().prop_map(Value::from).boxed()
        }
        Some("integer") => any::<i64>().prop_map(Value::from).boxed(),
        Some("number") => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from).boxed(),
        Some("boolean") => any::<bool>().prop_map(Value::Bool).boxed(),
        Some("array") => {
            let items = value(doc, schema.get("items").unwrap_or(&Value::Null), depth + 1);
            proptest::collection::vec(items, 0..4).prop_map(Value::Array).boxed()
        }
        _ if schema.get("properties").is_some() && depth < 4 => object(doc, schema, depth + 1),
        // A free-form object (`connectorAttributes`).
        _ => proptest::collection::btree_map("[a-z]{1,8}", any::<String>().prop_map(Value::String), 0..3)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
            .boxed(),
    }
}

/// A field's value: absent (`None`), null where the schema allows it, or a value.
fn field(doc: &Value, schema: &Value, required: bool, depth: usize) -> BoxedStrategy<Option<Value>> {
    let present = value(doc, schema, depth).prop_map(Some);
    match (required, nullable(doc, schema)) {
        (true, false) => present.boxed(),
        (true, true) => prop_oneof![3 => present, 1 => Just(Some(Value::Null))].boxed(),
        (false, false) => prop_oneof![3 => present, 1 => Just(None)].boxed(),
        (false, true) => prop_oneof![3 => present, 1 => Just(None), 1 => Just(Some(Value::Null))].boxed(),
    }
}

fn object(doc: &Value, schema: &Value, depth: usize) -> BoxedStrategy<Value> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let properties = schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let fields: Vec<BoxedStrategy<(String, Option<Value>)>> = properties
        .iter()
        .map(|(name, s)| {
            let name = name.clone();
            field(doc, s, required.contains(&name.as_str()), depth)
                .prop_map(move |v| (name.clone(), v))
                .boxed()
        })
        .collect();
    fields
        .prop_map(|fields| Value::Object(fields.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect()))
        .boxed()
}

/// A value of another JSON type than any `schema` allows.
fn wrong_kind(doc: &Value, schema: &Value) -> Option<Value> {
    let schema = resolve(doc, schema);
    if schema.get("oneOf").is_some() {
        // Both an integer and a string are allowed: a list is neither.
        return Some(json!([]));
    }
    let schema = match schema.get("allOf").and_then(Value::as_array) {
        Some(parts) => resolve(doc, &parts[0]),
        None => schema,
    };
    match (schema.get("type").and_then(Value::as_str), schema.get("properties")) {
        (Some("string"), _) => Some(json!(7)),
        (Some("integer" | "number"), _) => Some(json!("7")),
        (Some("boolean"), _) => Some(json!("yes")),
        (Some("array"), _) => Some(json!("not a list")),
        (Some("object"), _) | (None, Some(_)) => Some(json!(["not an object"])),
        _ => None,
    }
}

/// One generated body and what was done to it.
#[derive(Debug, Clone)]
struct Case {
    value: Value,
    /// The field given a value of the wrong type, if any.
    broken: Option<String>,
}

/// Bodies of `schema_name` in `file`, half of them with one field broken.
fn cases(file: &'static str, schema_name: &'static str) -> BoxedStrategy<Case> {
    let doc = fragment(file);
    let schema = doc["components"]["schemas"][schema_name].clone();
    let properties: BTreeMap<String, Value> =
        schema["properties"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let breakable: Vec<(String, Value)> =
        properties.iter().filter_map(|(k, s)| wrong_kind(&doc, s).map(|w| (k.clone(), w))).collect();
    object(&doc, &schema, 0)
        .prop_flat_map(move |value| {
            let breakable = breakable.clone();
            (Just(value), proptest::option::of(proptest::sample::select(breakable)))
        })
        .prop_map(|(mut value, broken)| {
            let broken = broken.map(|(field, wrong)| {
                value.as_object_mut().unwrap().insert(field.clone(), wrong);
                field
            });
            Case { value, broken }
        })
        .boxed()
}

/// What a case must decode to: the field whose decode error is expected, if any.
fn expected_failure(case: &Case) -> Option<String> {
    if let Some(field) = &case.broken {
        return Some(field.clone());
    }
    match case.value.get("id") {
        Some(Value::String(id)) if !id.is_empty() => None,
        _ => Some("id".into()),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn client(h: &Hostile) -> Client {
    Client::builder()
        .base_url(h.base_url())
        .access_token("decoder-test-token")
        .retry_policy(RetryPolicy::never())
        .rate_limit(None)
        .build()
        .unwrap()
}

/// The answer `bodies` gets as a get (one body) or a listing (all of them).
fn serve(h: &Hostile, body: &Value) {
    let text = serde_json::to_string(body).unwrap();
    h.set(|m| m.canned = vec![Canned::new(200, "application/json", text)]);
}

/// The field path a decode error names (`` at `[1].owner.type` ``), if any.
fn named_path(message: &str) -> Option<&str> {
    let start = message.find(" at `")? + " at `".len();
    Some(&message[start..start + message[start..].find('`')?])
}

/// The value at a path as serde_path_to_error writes it (`schemas[0].type`).
fn value_at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = v;
    for part in path.split('.') {
        let (key, indexes) = part.split_once('[').map_or((part, ""), |(k, rest)| (k, rest));
        if !key.is_empty() {
            node = node.get(key)?;
        }
        for index in indexes.split('[').filter(|i| !i.is_empty()) {
            node = node.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(node)
}

/// `result` is what `case` (at `prefix` of the body: `""`, or `[1].` for
/// the second item of a page) promises: the values it carries, or a decode
/// error naming the broken field (or the absent `id`). A field holding an
/// enum value that did not exist when the fragment was written may be named
/// instead: refusing it is allowed, as long as the error says where.
fn check<T: std::fmt::Debug>(result: Result<T, Error>, case: &Case, prefix: &str) -> Option<T> {
    let expected = expected_failure(case);
    match result {
        Ok(v) => {
            assert!(expected.is_none(), "decoded although {expected:?} is wrong: {v:?} from {}", case.value);
            Some(v)
        }
        Err(Error::Decode { message, .. }) => {
            let path = named_path(&message);
            let relative = path.and_then(|p| p.strip_prefix(prefix));
            let names_expected = expected.as_ref().is_some_and(|field| match relative {
                Some(rest) => {
                    rest == field
                        || rest.starts_with(&format!("{field}."))
                        || rest.starts_with(&format!("{field}["))
                }
                None => field == "id" && message.contains("`id`"),
            });
            let new_enum_value = relative
                .and_then(|rest| value_at(&case.value, rest))
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with("NEW_"));
            assert!(
                names_expected || new_enum_value,
                "expected {expected:?}; the decode error names {path:?}: {message}"
            );
            None
        }
        Err(other) => panic!("expected a value or a decode error, got {other:?} for {}", case.value),
    }
}

fn string(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn groups_decode_or_name_the_field(case in cases("password-sync-groups.yaml", "PasswordSyncGroup")) {
        runtime().block_on(async {
            let h = Hostile::start(0, Mode::default()).await;
            let c = client(&h);
            serve(&h, &case.value);
            if let Some(g) = check(c.get_group("g1").await, &case, "") {
                prop_assert_eq!(Some(g.id.clone()), string(&case.value, "id"));
                prop_assert_eq!(g.name.clone(), string(&case.value, "name").unwrap_or_default());
                prop_assert_eq!(g.source_ids.clone(), strings(&case.value, "sourceIds"));
                prop_assert_eq!(g.missing_fields().contains(&"name"), case.value.get("name").is_none_or(Value::is_null));
            }
            // The same body as the second item of a page.
            let page = json!([{"id": "g0", "name": "first"}, case.value.clone()]);
            serve(&h, &page);
            let items = check(c.list_groups().page().await.map(|p| p.items), &case, "[1].");
            if let Some(items) = items {
                prop_assert_eq!(items.len(), 2);
                prop_assert_eq!(&items[1].name, &string(&case.value, "name").unwrap_or_default());
            }
            Ok(())
        })?;
    }

    #[test]
    fn sources_decode_or_name_the_field(case in cases("sources.yaml", "Source")) {
        runtime().block_on(async {
            let h = Hostile::start(0, Mode::default()).await;
            let c = client(&h);
            serve(&h, &case.value);
            if let Some(s) = check(c.get_source("s1").await, &case, "") {
                prop_assert_eq!(Some(s.id.clone()), string(&case.value, "id"));
                prop_assert_eq!(Some(s.name.clone()), string(&case.value, "name"));
                prop_assert_eq!(s.features.clone(), strings(&case.value, "features"));
                prop_assert_eq!(s.is_password_managed(), strings(&case.value, "features").iter().any(|f| f == "PASSWORD"));
            }
            serve(&h, &json!([{"id": "s0", "name": "first", "owner": null, "connector": "x"}, case.value.clone()]));
            if let Some(items) = check(c.list_sources().page().await.map(|p| p.items), &case, "[1].") {
                prop_assert_eq!(items.len(), 2);
            }
            Ok(())
        })?;
    }

    #[test]
    fn policies_decode_both_date_shapes_or_name_the_field(case in cases("password-policies.yaml", "PasswordPolicyV3Dto")) {
        runtime().block_on(async {
            let h = Hostile::start(0, Mode::default()).await;
            let c = client(&h);
            serve(&h, &case.value);
            if let Some(p) = check(c.get_password_policy("p1").await, &case, "") {
                prop_assert_eq!(Some(p.id.clone()), string(&case.value, "id"));
                prop_assert_eq!(p.source_ids.clone(), strings(&case.value, "sourceIds"));
                let expected = match case.value.get("lastUpdated") {
                    Some(Value::Number(n)) => n.as_i64(),
                    Some(Value::String(text)) => chrono::DateTime::parse_from_rfc3339(text).ok().map(|d| d.timestamp_millis()).or_else(|| text.trim().parse().ok()),
                    _ => None,
                };
                prop_assert_eq!(p.last_updated_ms, expected);
            }
            serve(&h, &json!([{"id": "p0", "name": "first"}, case.value.clone()]));
            if let Some(items) = check(c.list_password_policies().page().await.map(|p| p.items), &case, "[1].") {
                prop_assert_eq!(items.len(), 2);
            }
            Ok(())
        })?;
    }
}

/// The generator reaches what it promises: absent and null fields, unknown
/// enum values, both date shapes, broken fields.
#[test]
fn the_generator_covers_what_it_promises() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (groups, sources, policies) = (
        cases("password-sync-groups.yaml", "PasswordSyncGroup"),
        cases("sources.yaml", "Source"),
        cases("password-policies.yaml", "PasswordPolicyV3Dto"),
    );
    let mut seen = BTreeMap::<&str, usize>::new();
    for _ in 0..300 {
        let g = groups.new_tree(&mut runner).unwrap().current();
        let s = sources.new_tree(&mut runner).unwrap().current();
        let p = policies.new_tree(&mut runner).unwrap().current();
        let mut note = |what: &'static str, yes: bool| *seen.entry(what).or_default() += usize::from(yes);
        note("group without name", g.value.get("name").is_none());
        note("group with created null", g.value.get("created") == Some(&Value::Null));
        note("group broken", g.broken.is_some());
        note("source owner null", s.value.get("owner") == Some(&Value::Null));
        let owner_type = s.value.pointer("/owner/type").and_then(Value::as_str);
        note("source owner type unknown", owner_type.is_some_and(|t| t != "IDENTITY"));
        let last_updated = p.value.get("lastUpdated");
        note("policy lastUpdated as number", last_updated.is_some_and(Value::is_i64));
        let text = last_updated.and_then(Value::as_str);
        let parses = |t: &str| chrono::DateTime::parse_from_rfc3339(t).is_ok();
        note("policy lastUpdated as a date-time", text.is_some_and(parses));
        note("policy lastUpdated as other text", text.is_some_and(|t| !parses(t)));
        note("no break", p.broken.is_none());
    }
    let mut missing: Vec<&str> = seen.iter().filter(|(_, n)| **n == 0).map(|(k, _)| *k).collect();
    missing.sort_unstable();
    assert!(missing.is_empty(), "never generated: {missing:?} ({seen:?})");
}
