"""One timed loop through SailPoint's official Python SDK.

Usage: python peers.py list|get|create [PACKAGE]   (run by `cargo xtask bench`)
  PACKAGE is `sailpoint.beta` (sailpoint 1.4.2, /beta paths; the default) or
  `sailpoint.password_sync_groups` (sailpoint 2.x, /password-sync-groups/v1,
  methods suffixed `_v1`).
Environment: PSG_BENCH_BASE (emulator root), PSG_BENCH_N (items), PSG_BENCH_ID
(group for `get`), PSG_BENCH_POLICY, PSG_BENCH_SOURCES (comma-separated),
PSG_BENCH_CONCURRENCY (creates in flight).

Prints one JSON object: seconds (the timed loop only; the token and, for list
and get, one warm-up request come first), ok, failed and the HTTP statuses of
the failures. The SDK runs with its defaults (retries included).
"""

import contextlib
import importlib
import io
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

measure = sys.argv[1]
pkg = sys.argv[2] if len(sys.argv) > 2 else "sailpoint.beta"
PasswordSyncGroupsApi = importlib.import_module(pkg + ".api.password_sync_groups_api").PasswordSyncGroupsApi
ApiClient = importlib.import_module(pkg + ".api_client").ApiClient
ApiException = importlib.import_module(pkg + ".exceptions").ApiException
PasswordSyncGroup = importlib.import_module(pkg + ".models.password_sync_group").PasswordSyncGroup
from sailpoint.configuration import Configuration, ConfigurationParams  # noqa: E402

try:
    from sailpoint.paginator import Paginator
except ImportError:  # page by hand, as the SDK's Paginator does
    Paginator = None
n = int(os.environ["PSG_BENCH_N"])
concurrency = int(os.environ.get("PSG_BENCH_CONCURRENCY", "16"))

params = ConfigurationParams()
params.base_url = os.environ["PSG_BENCH_BASE"]
params.client_id = "psg-demo"
params.client_secret = "psg-demo-secret"
config = Configuration(params)  # fetches the token
config.connection_pool_maxsize = max(concurrency, config.connection_pool_maxsize)
api = PasswordSyncGroupsApi(ApiClient(config))


def m(name):
    """The SDK's method: 2.x names carry a `_v1` suffix."""
    return getattr(api, name) if hasattr(api, name) else getattr(api, name + "_v1")


list_groups = m("get_password_sync_groups")
get_group = m("get_password_sync_group")
create_group = m("create_password_sync_group")


def paginate(fn, total, limit):
    if Paginator is not None:
        return Paginator.paginate(fn, total, limit=limit)
    out, offset = [], 0
    while len(out) < total:
        page = fn(offset=offset, limit=limit)
        out.extend(page)
        if len(page) < limit:
            break
        offset += limit
    return out

ok = 0
statuses = {}


def failed(e):
    key = str(e.status) if isinstance(e, ApiException) else type(e).__name__
    statuses[key] = statuses.get(key, 0) + 1


if measure == "list":
    list_groups(limit=1)
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the paginator prints every page
        groups = paginate(list_groups, n, 250)
    seconds = time.perf_counter() - started
    ok = len(groups)
elif measure == "get":
    gid = os.environ["PSG_BENCH_ID"]
    get_group(gid)
    started = time.perf_counter()
    for _ in range(n):
        try:
            get_group(gid)
            ok += 1
        except Exception as e:  # count and go on, as a bulk job would
            failed(e)
    seconds = time.perf_counter() - started
elif measure == "create":
    policy = os.environ["PSG_BENCH_POLICY"]
    sources = os.environ["PSG_BENCH_SOURCES"].split(",")

    def create(i):
        group = PasswordSyncGroup(name=f"bench {i}", password_policy_id=policy, source_ids=sources[:2])
        try:
            create_group(group)
            return None
        except Exception as e:
            return e

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        errors = list(pool.map(create, range(n)))
    seconds = time.perf_counter() - started
    for e in errors:
        if e is None:
            ok += 1
        else:
            failed(e)
else:
    sys.exit(f"unknown measure {measure!r}: use list, get or create")

print(json.dumps({"seconds": seconds, "ok": ok, "failed": sum(statuses.values()), "statuses": statuses}))
