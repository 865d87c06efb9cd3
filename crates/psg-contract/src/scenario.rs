//! The recorded scenario: every exchange that `record` performs, with the
//! server state each needs. Hand-written fixtures (situations no server here
//! can be put in) live only as files.

use serde_json::{Value, json};

use crate::fixture::{ClientKind, Setup, TokenState};

/// One exchange to record.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Fixture name.
    pub name: &'static str,
    /// operationId.
    pub operation: &'static str,
    /// Why it exists, when not obvious.
    pub note: Option<&'static str>,
    /// Server state.
    pub setup: Setup,
    /// HTTP method.
    pub method: &'static str,
    /// Path with placeholders.
    pub path: &'static str,
    /// Query parameters.
    pub query: Vec<(&'static str, &'static str)>,
    /// Body with placeholders.
    pub body: Option<Value>,
    /// Replay through the generated client (psg-ext refuses it locally or
    /// cannot express it, e.g. an unsupported filter).
    pub replay_generated: bool,
}

const SOURCES: &str = "/v3/sources";
const SOURCE: &str = "/v3/sources/{{source:0}}";
const MISSING_SOURCE: &str = "/v3/sources/00000000000000000000000000000404";
const POLICIES: &str = "/v3/password-policies";
const POLICY: &str = "/v3/password-policies/{{policy:0}}";
const MISSING_POLICY: &str = "/v3/password-policies/00000000000000000000000000000404";

const COLLECTION: &str = "/beta/password-sync-groups";
const ITEM: &str = "/beta/password-sync-groups/{{group:0}}";
const MISSING_ITEM: &str = "/beta/password-sync-groups/00000000000000000000000000000404";

fn valid_body(name: &str) -> Value {
    json!({"name": name, "passwordPolicyId": "{{policy:0}}", "sourceIds": ["{{source:0}}", "{{source:1}}"]})
}

fn ex(name: &'static str, operation: &'static str, method: &'static str, path: &'static str) -> Exchange {
    Exchange {
        name,
        operation,
        note: None,
        setup: Setup::default(),
        method,
        path,
        query: Vec::new(),
        body: None,
        replay_generated: false,
    }
}

impl Exchange {
    fn groups(mut self, n: usize) -> Self {
        self.setup.groups = n;
        self
    }
    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    fn query(mut self, q: &[(&'static str, &'static str)]) -> Self {
        self.query = q.to_vec();
        self
    }
    fn client(mut self, c: ClientKind) -> Self {
        self.setup.client = c;
        self
    }
    fn token(mut self, t: TokenState) -> Self {
        self.setup.token = t;
        self
    }
    fn rate_limited(mut self) -> Self {
        self.setup.rate_limited = true;
        self
    }
    fn fault(mut self, status: u16) -> Self {
        self.setup.fault = Some(status);
        self
    }
    fn note(mut self, note: &'static str) -> Self {
        self.note = Some(note);
        self
    }
}

/// Every recorded exchange: Password Sync Groups, then the v3 Sources and
/// Password Policies reads.
pub fn exchanges() -> Vec<Exchange> {
    let mut all = group_exchanges();
    all.extend(source_exchanges());
    all.extend(policy_exchanges());
    all
}

/// The query psg-ext sends for a first page, with `filters` when given.
fn first_page(filters: Option<&'static str>) -> Vec<(&'static str, &'static str)> {
    let mut q = vec![("count", "true"), ("limit", "250"), ("offset", "0")];
    q.extend(filters.map(|f| ("filters", f)));
    q
}

/// `GET /v3/sources[/{id}]`, as psg-ext sends them.
fn source_exchanges() -> Vec<Exchange> {
    let list = |name, filters| ex(name, "listSources", "GET", SOURCES).query(&first_page(filters));
    let get = |name, path| ex(name, "getSource", "GET", path);
    vec![
        list("sources_list_200_count", None)
            .note("every source: password-managed ones, two without PASSWORD, one with owner null"),
        list("sources_list_200_filter_name_in", Some(r#"name in ("Active Directory", "Corporate LDAP")"#)),
        list(
            "sources_list_200_filter_password_feature",
            Some(r#"name in ("Active Directory", "Workday HR") and features ca ("PASSWORD")"#),
        )
        .note("Workday HR exists but has no PASSWORD feature, so only Active Directory matches"),
        Exchange {
            replay_generated: true,
            ..list("sources_list_400_bad_filter", Some(r#"name ew "LDAP""#)).note(
                "ew is not an operator ISC supports on name; psg-ext's typed filter builder cannot \
                 produce it, so this is replayed with the generated client",
            )
        },
        list("sources_list_401_expired_token", None).token(TokenState::Expired),
        list("sources_list_403_no_scope", None).client(ClientKind::NoScope),
        list("sources_list_429_rate_limited", None).rate_limited(),
        list("sources_list_500", None).fault(500),
        get("sources_get_200", SOURCE),
        get("sources_get_401_no_token", SOURCE).token(TokenState::Missing),
        get("sources_get_403_no_scope", SOURCE).client(ClientKind::NoScope),
        get("sources_get_404", MISSING_SOURCE),
        get("sources_get_429_rate_limited", SOURCE).rate_limited(),
        get("sources_get_500", SOURCE).fault(500),
    ]
}

/// `GET /v3/password-policies[/{id}]`, as psg-ext sends them.
fn policy_exchanges() -> Vec<Exchange> {
    let list = |name| ex(name, "listPasswordPolicies", "GET", POLICIES).query(&first_page(None));
    let get = |name, path| ex(name, "getPasswordPolicyById", "GET", path);
    vec![
        list("policies_list_200_count")
            .note("the fifth policy has lastUpdated and firstExpirationReminder null"),
        Exchange {
            replay_generated: true,
            ..ex("policies_list_400_limit_too_large", "listPasswordPolicies", "GET", POLICIES)
                .query(&[("count", "true"), ("limit", "251"), ("offset", "0")])
                .note("psg-ext refuses limit 251 before sending; replayed with the generated client")
        },
        list("policies_list_401_expired_token").token(TokenState::Expired),
        list("policies_list_403_no_scope").client(ClientKind::NoScope),
        list("policies_list_429_rate_limited").rate_limited(),
        list("policies_list_500").fault(500),
        get("policies_get_200", POLICY),
        get("policies_get_401_no_token", POLICY).token(TokenState::Missing),
        get("policies_get_403_no_scope", POLICY).client(ClientKind::NoScope),
        get("policies_get_404", MISSING_POLICY),
        get("policies_get_429_rate_limited", POLICY).rate_limited(),
        get("policies_get_500", POLICY).fault(500),
    ]
}

/// `/beta/password-sync-groups[/{id}]`.
fn group_exchanges() -> Vec<Exchange> {
    let list = |name| ex(name, "getPasswordSyncGroups", "GET", COLLECTION);
    let create = |name| ex(name, "createPasswordSyncGroup", "POST", COLLECTION);
    let get = |name, path| ex(name, "getPasswordSyncGroup", "GET", path);
    let put = |name, path| ex(name, "updatePasswordSyncGroup", "PUT", path);
    let delete = |name, path| ex(name, "deletePasswordSyncGroup", "DELETE", path);
    let count = [("count", "true"), ("limit", "250"), ("offset", "0")];
    vec![
        create("create_200").body(valid_body("Finance applications")),
        create("create_400_unknown_policy")
            .body(json!({"name": "Bad policy", "passwordPolicyId": "no-such-policy", "sourceIds": ["{{source:0}}", "{{source:1}}"]}))
            .note("passes local checks, refused by the server"),
        create("create_401_no_token").body(valid_body("x")).token(TokenState::Missing),
        create("create_403_read_only_client").body(valid_body("x")).client(ClientKind::Read),
        create("create_429_rate_limited").body(valid_body("x")).rate_limited(),
        create("create_500").body(valid_body("x")).fault(500),
        list("list_200_count").groups(3).query(&count),
        list("list_200_offset_past_end").groups(3).query(&[("count", "true"), ("limit", "250"), ("offset", "10")]),
        list("list_200_limit_0").groups(3).query(&[("count", "true"), ("limit", "0"), ("offset", "0")]),
        list("list_200_full_page").groups(251).query(&count).note("a full page of 250 with 251 groups in all"),
        Exchange { replay_generated: true, ..list("list_400_limit_too_large").query(&[("count", "true"), ("limit", "251"), ("offset", "0")]) }
            .note("psg-ext refuses limit 251 before sending; replayed with the generated client"),
        list("list_401_expired_token").query(&count).token(TokenState::Expired),
        list("list_403_no_scope").query(&count).client(ClientKind::NoScope),
        list("list_429_rate_limited").query(&count).rate_limited(),
        list("list_500").query(&count).fault(500),
        get("get_200", ITEM).groups(1),
        get("get_401_no_token", ITEM).groups(1).token(TokenState::Missing),
        get("get_403_no_scope", ITEM).groups(1).client(ClientKind::NoScope),
        get("get_404", MISSING_ITEM),
        get("get_429_rate_limited", ITEM).groups(1).rate_limited(),
        get("get_500", ITEM).groups(1).fault(500),
        put("update_200", ITEM).groups(1).body(json!({"name": "Renamed", "passwordPolicyId": "{{policy:1}}", "sourceIds": ["{{source:2}}", "{{source:3}}"]})),
        put("update_400_unknown_source", ITEM)
            .groups(1)
            .body(json!({"name": "Renamed", "passwordPolicyId": "{{policy:0}}", "sourceIds": ["{{source:0}}", "not-a-source"]})),
        put("update_401_expired_token", ITEM).groups(1).body(valid_body("x")).token(TokenState::Expired),
        put("update_403_read_only_client", ITEM).groups(1).body(valid_body("x")).client(ClientKind::Read),
        put("update_404", MISSING_ITEM).body(valid_body("x")),
        put("update_429_rate_limited", ITEM).groups(1).body(valid_body("x")).rate_limited(),
        put("update_500", ITEM).groups(1).body(valid_body("x")).fault(500),
        delete("delete_204", ITEM).groups(1),
        delete("delete_401_no_token", ITEM).groups(1).token(TokenState::Missing),
        delete("delete_403_read_only_client", ITEM).groups(1).client(ClientKind::Read),
        delete("delete_404", MISSING_ITEM),
        delete("delete_429_rate_limited", ITEM).groups(1).rate_limited(),
        delete("delete_500", ITEM).groups(1).fault(500),
    ]
}
