// Runs the compatibility scenario through SailPoint's official TypeScript SDK
// (npm sailpoint-api-client, beta API). Environment as in python_scenario.py.
// Prints one line per check and `N passed, N failed`.
"use strict";
const { Configuration, PasswordSyncGroupsBetaApi } = require("sailpoint-api-client");

const BASE = process.env.PSG_COMPAT_BASE;
const POLICY = process.env.PSG_COMPAT_POLICY;
const SOURCES = process.env.PSG_COMPAT_SOURCES.split(",");

function api(base = BASE, clientId = "psg-demo", clientSecret = "psg-demo-secret", accessToken) {
  const params = { baseurl: base, clientId, clientSecret, tokenUrl: base + "/oauth/token" };
  if (accessToken) params.accessToken = accessToken;
  const config = new Configuration(params);
  config.retriesConfig = { retries: 0 };
  return new PasswordSyncGroupsBetaApi(config);
}

async function expectStatus(status, call) {
  try {
    await call();
  } catch (e) {
    const got = e.response && e.response.status;
    if (got !== status) throw new Error(`expected ${status}, got ${got}: ${e.message}`);
    return e.response;
  }
  throw new Error(`expected HTTP ${status}, the call succeeded`);
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const state = {};
const checks = [
  ["token round trip", async () => {
    const r = await api().getPasswordSyncGroups();
    assert(r.status === 200, "list after token");
  }],
  ["create", async () => {
    const r = await api().createPasswordSyncGroup({ passwordSyncGroupBeta: { name: "compat", passwordPolicyId: POLICY, sourceIds: SOURCES.slice(0, 2) } });
    assert(r.status === 200 && r.data.id && r.data.name === "compat", JSON.stringify(r.data));
    state.id = r.data.id;
  }],
  ["get", async () => {
    const r = await api().getPasswordSyncGroup({ id: state.id });
    assert(r.data.id === state.id && r.data.passwordPolicyId === POLICY, JSON.stringify(r.data));
  }],
  ["list with count=true and X-Total-Count", async () => {
    for (let i = 0; i < 3; i++) {
      await api().createPasswordSyncGroup({ passwordSyncGroupBeta: { name: `page ${i}`, passwordPolicyId: POLICY, sourceIds: SOURCES.slice(1, 3) } });
    }
    const r = await api().getPasswordSyncGroups({ limit: 2, offset: 1, count: true });
    assert(r.headers["x-total-count"] === "4", `total ${r.headers["x-total-count"]}`);
    assert(JSON.stringify(r.data.map((g) => g.name)) === JSON.stringify(["page 0", "page 1"]), JSON.stringify(r.data));
  }],
  ["update", async () => {
    const r = await api().updatePasswordSyncGroup({ id: state.id, passwordSyncGroupBeta: { name: "renamed", passwordPolicyId: POLICY, sourceIds: SOURCES.slice(2, 4) } });
    assert(r.data.name === "renamed", JSON.stringify(r.data));
  }],
  ["delete", async () => {
    const r = await api().deletePasswordSyncGroup({ id: state.id });
    assert(r.status === 204, `status ${r.status}`);
  }],
  ["404 after delete", () => expectStatus(404, () => api().getPasswordSyncGroup({ id: state.id }))],
  ["400 on one source", () => expectStatus(400, () => api().createPasswordSyncGroup({ passwordSyncGroupBeta: { name: "x", passwordPolicyId: POLICY, sourceIds: SOURCES.slice(0, 1) } }))],
  ["400 on limit above 250", () => expectStatus(400, () => api().getPasswordSyncGroups({ limit: 251 }))],
  ["401 on a bad token", () => expectStatus(401, () => api(BASE, undefined, undefined, "not-a-token").getPasswordSyncGroups())],
  ["403 for a read-only client writing", () => expectStatus(403, () => api(BASE, "psg-reader", "psg-reader-secret").createPasswordSyncGroup({ passwordSyncGroupBeta: { name: "x", passwordPolicyId: POLICY, sourceIds: SOURCES.slice(0, 2) } }))],
  ["429 with Retry-After", async () => {
    const r = await expectStatus(429, () => api(process.env.PSG_COMPAT_429_BASE).getPasswordSyncGroups());
    assert(r.headers["retry-after"], "no Retry-After");
  }],
  ["500", () => expectStatus(500, () => api(process.env.PSG_COMPAT_500_BASE).getPasswordSyncGroups())],
];

(async () => {
  let failed = 0;
  for (const [name, fn] of checks) {
    try {
      await fn();
      console.log(`ok   ${name}`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${name}: ${e.message}`);
    }
  }
  console.log(`${checks.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
