// One timed loop through SailPoint's official TypeScript SDK
// (npm sailpoint-api-client, PasswordSyncGroupsBetaApi).
// Usage: node peers.js list|get|create   (run by `cargo xtask bench`; the
// package is found through NODE_PATH). Environment and output as in peers.py.
// The SDK runs with its defaults (retries included).
"use strict";
const { Configuration, PasswordSyncGroupsBetaApi, Paginator } = require("sailpoint-api-client");

const measure = process.argv[2];
const env = process.env;
const n = Number(env.PSG_BENCH_N);
const concurrency = Number(env.PSG_BENCH_CONCURRENCY || "16");
const base = env.PSG_BENCH_BASE;
const api = new PasswordSyncGroupsBetaApi(
  new Configuration({ baseurl: base, clientId: "psg-demo", clientSecret: "psg-demo-secret", tokenUrl: base + "/oauth/token" }),
);

let ok = 0;
const statuses = {};
function failed(e) {
  const key = e && e.response ? String(e.response.status) : (e && e.code) || "error";
  statuses[key] = (statuses[key] || 0) + 1;
}

async function timed(loop) {
  const started = process.hrtime.bigint();
  await loop();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main() {
  let seconds;
  if (measure === "list") {
    await api.getPasswordSyncGroups({ limit: 1 });
    const log = console.log;
    console.log = () => {}; // the paginator logs every page
    try {
      seconds = await timed(async () => {
        const r = await Paginator.paginate(api, api.getPasswordSyncGroups, { limit: n }, 250);
        ok = r.data.length;
      });
    } finally {
      console.log = log;
    }
  } else if (measure === "get") {
    const id = env.PSG_BENCH_ID;
    await api.getPasswordSyncGroup({ id });
    seconds = await timed(async () => {
      for (let i = 0; i < n; i++) {
        try {
          await api.getPasswordSyncGroup({ id });
          ok += 1;
        } catch (e) {
          failed(e);
        }
      }
    });
  } else if (measure === "create") {
    const policy = env.PSG_BENCH_POLICY;
    const sources = env.PSG_BENCH_SOURCES.split(",").slice(0, 2);
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        try {
          await api.createPasswordSyncGroup({ passwordSyncGroupBeta: { name: `bench ${i}`, passwordPolicyId: policy, sourceIds: sources } });
          ok += 1;
        } catch (e) {
          failed(e);
        }
      }
    };
    seconds = await timed(() => Promise.all(Array.from({ length: concurrency }, worker)));
  } else {
    throw new Error(`unknown measure ${measure}: use list, get or create`);
  }
  const failedCount = Object.values(statuses).reduce((a, b) => a + b, 0);
  process.stdout.write(JSON.stringify({ seconds, ok, failed: failedCount, statuses }) + "\n");
}

main().catch((e) => {
  process.stderr.write(`error: ${e && e.message}\n`);
  process.exit(1);
});
