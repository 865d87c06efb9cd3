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
    /// Replay through the generated client (psg-ext refuses it locally).
    pub replay_generated: bool,
}

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

/// Every recorded exchange.
pub fn exchanges() -> Vec<Exchange> {
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
