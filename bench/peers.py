"""One timed loop through SailPoint's official Python SDK (sailpoint 1.4.2, `sailpoint.beta`).

Usage: python peers.py list|get|create   (run by `cargo xtask bench`)
Environment: PSG_BENCH_BASE (emulator root), PSG_BENCH_N (items), PSG_BENCH_ID
(group for `get`), PSG_BENCH_POLICY, PSG_BENCH_SOURCES (comma-separated),
PSG_BENCH_CONCURRENCY (creates in flight).

Prints one JSON object: seconds (the timed loop only; the token and, for list
and get, one warm-up request come first), ok, failed and the HTTP statuses of
the failures. The SDK runs with its defaults (retries included).
"""

import contextlib
import io
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from sailpoint.beta.api.password_sync_groups_api import PasswordSyncGroupsApi
from sailpoint.beta.api_client import ApiClient
from sailpoint.beta.exceptions import ApiException
from sailpoint.beta.models.password_sync_group import PasswordSyncGroup
from sailpoint.configuration import Configuration, ConfigurationParams
from sailpoint.paginator import Paginator

measure = sys.argv[1]
n = int(os.environ["PSG_BENCH_N"])
concurrency = int(os.environ.get("PSG_BENCH_CONCURRENCY", "16"))

params = ConfigurationParams()
params.base_url = os.environ["PSG_BENCH_BASE"]
params.client_id = "psg-demo"
params.client_secret = "psg-demo-secret"
config = Configuration(params)  # fetches the token
config.connection_pool_maxsize = max(concurrency, config.connection_pool_maxsize)
api = PasswordSyncGroupsApi(ApiClient(config))

ok = 0
statuses = {}


def failed(e):
    key = str(e.status) if isinstance(e, ApiException) else type(e).__name__
    statuses[key] = statuses.get(key, 0) + 1


if measure == "list":
    api.get_password_sync_groups(limit=1)
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the paginator prints every page
        groups = Paginator.paginate(api.get_password_sync_groups, n, limit=250)
    seconds = time.perf_counter() - started
    ok = len(groups)
elif measure == "get":
    gid = os.environ["PSG_BENCH_ID"]
    api.get_password_sync_group(gid)
    started = time.perf_counter()
    for _ in range(n):
        try:
            api.get_password_sync_group(gid)
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
            api.create_password_sync_group(group)
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
