"""Runs the compatibility scenario through SailPoint's official Python SDK.

Usage: python python_scenario.py PACKAGE
  PACKAGE is `sailpoint.beta` (sailpoint 1.x, /beta paths) or
  `sailpoint.password_sync_groups` (sailpoint 2.x, /password-sync-groups/v1).
Environment (set by `cargo xtask compat`): PSG_COMPAT_BASE, PSG_COMPAT_429_BASE,
PSG_COMPAT_500_BASE, PSG_COMPAT_POLICY, PSG_COMPAT_SOURCES (comma-separated).
Prints one line per check and `N passed, N failed`.
"""

import importlib
import os
import sys
import traceback

pkg = sys.argv[1]
api_mod = importlib.import_module(pkg + ".api.password_sync_groups_api")
client_mod = importlib.import_module(pkg + ".api_client")
model_mod = importlib.import_module(pkg + ".models.password_sync_group")
exc_mod = importlib.import_module(pkg + ".exceptions")
from sailpoint.configuration import Configuration, ConfigurationParams  # noqa: E402

BASE = os.environ["PSG_COMPAT_BASE"]
POLICY = os.environ["PSG_COMPAT_POLICY"]
SOURCES = os.environ["PSG_COMPAT_SOURCES"].split(",")
Model = model_mod.PasswordSyncGroup


def api(base=BASE, client_id="psg-demo", secret="psg-demo-secret", token=None):
    params = ConfigurationParams()
    params.base_url = base
    params.client_id = client_id
    params.client_secret = secret
    params.access_token = token
    config = Configuration(params)
    config.retries = 0
    return api_mod.PasswordSyncGroupsApi(client_mod.ApiClient(config)), config


def m(a, name):
    """The SDK's method: 2.x names carry a `_v1` suffix (`..._with_http_info` too)."""
    if hasattr(a, name):
        return getattr(a, name)
    if name.endswith("_with_http_info"):
        return getattr(a, name[: -len("_with_http_info")] + "_v1_with_http_info")
    return getattr(a, name + "_v1")


results = []
state = {}


def check(name):
    def run(fn):
        try:
            fn()
            results.append((name, None))
        except Exception as e:  # report every failure, keep going
            results.append((name, f"{type(e).__name__}: {e}".splitlines()[0] + "\n" + traceback.format_exc(limit=2)))
        return fn
    return run


def expect_status(status, call):
    try:
        call()
    except exc_mod.ApiException as e:
        assert e.status == status, f"expected {status}, got {e.status}"
        return
    raise AssertionError(f"expected HTTP {status}, the call succeeded")


@check("token round trip")
def _():
    _, config = api()
    assert config.access_token, "no token"


@check("create")
def _():
    a, _ = api()
    g = m(a, "create_password_sync_group")(Model(name="compat", password_policy_id=POLICY, source_ids=SOURCES[:2]))
    assert g.id and g.name == "compat" and list(g.source_ids) == SOURCES[:2], g
    assert g.created is not None and g.modified is not None
    state["id"] = g.id


@check("get")
def _():
    a, _ = api()
    g = m(a, "get_password_sync_group")(state["id"])
    assert g.id == state["id"] and g.password_policy_id == POLICY


@check("list with count=true and X-Total-Count")
def _():
    a, _ = api()
    for i in range(3):
        m(a, "create_password_sync_group")(Model(name=f"page {i}", password_policy_id=POLICY, source_ids=SOURCES[1:3]))
    r = m(a, "get_password_sync_groups_with_http_info")(limit=2, offset=1, count=True)
    assert r.status_code == 200
    total = {k.lower(): v for k, v in r.headers.items()}["x-total-count"]
    assert int(total) == 4, total
    assert [g.name for g in r.data] == ["page 0", "page 1"], r.data


@check("update")
def _():
    a, _ = api()
    g = m(a, "update_password_sync_group")(state["id"], Model(name="renamed", password_policy_id=POLICY, source_ids=SOURCES[2:4]))
    assert g.name == "renamed" and list(g.source_ids) == SOURCES[2:4]


@check("delete")
def _():
    a, _ = api()
    r = m(a, "delete_password_sync_group_with_http_info")(state["id"])
    assert r.status_code == 204


@check("404 after delete")
def _():
    a, _ = api()
    expect_status(404, lambda: m(a, "get_password_sync_group")(state["id"]))


@check("400 on one source")
def _():
    a, _ = api()
    expect_status(400, lambda: m(a, "create_password_sync_group")(Model(name="x", password_policy_id=POLICY, source_ids=SOURCES[:1])))


@check("400 on limit above 250")
def _():
    a, _ = api()
    # The SDK validates limit itself on some versions; send it raw then.
    try:
        expect_status(400, lambda: m(a, "get_password_sync_groups")(limit=251))
    except (ValueError, TypeError) as e:  # pydantic refused it client-side
        if "251" not in str(e) and "250" not in str(e) and "less than" not in str(e):
            raise


@check("401 on a bad token")
def _():
    a, _ = api(token="not-a-token")
    expect_status(401, lambda: m(a, "get_password_sync_groups")())


@check("403 for a read-only client writing")
def _():
    a, _ = api(client_id="psg-reader", secret="psg-reader-secret")
    m(a, "get_password_sync_groups")()
    expect_status(403, lambda: m(a, "create_password_sync_group")(Model(name="x", password_policy_id=POLICY, source_ids=SOURCES[:2])))


@check("429 with Retry-After")
def _():
    a, _ = api(base=os.environ["PSG_COMPAT_429_BASE"])
    expect_status(429, lambda: m(a, "get_password_sync_groups")())


@check("500")
def _():
    a, _ = api(base=os.environ["PSG_COMPAT_500_BASE"])
    expect_status(500, lambda: m(a, "get_password_sync_groups")())


failed = 0
for name, error in results:
    if error is None:
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {error}")
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
