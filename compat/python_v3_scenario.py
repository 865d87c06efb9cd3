"""Runs the v3 compatibility scenario through SailPoint's official Python SDK.

Usage: python python_v3_scenario.py
  Uses `sailpoint.v3` (sailpoint 1.x): password policies, sources and password
  sync groups under /v3.
Environment (set by `cargo xtask compat`): PSG_COMPAT_BASE, PSG_COMPAT_500_BASE.
The expected names and ids come from the emulator's GET /__emulator/catalog.
Prints one line per check and `N passed, N failed`.
"""

import json
import os
import sys
import traceback
import urllib.request

from sailpoint.configuration import Configuration, ConfigurationParams
from sailpoint.v3.api.password_policies_api import PasswordPoliciesApi
from sailpoint.v3.api.password_sync_groups_api import PasswordSyncGroupsApi
from sailpoint.v3.api.sources_api import SourcesApi
from sailpoint.v3.api_client import ApiClient
from sailpoint.v3.exceptions import ApiException
from sailpoint.v3.models.password_sync_group import PasswordSyncGroup

BASE = os.environ["PSG_COMPAT_BASE"]
with urllib.request.urlopen(BASE + "/__emulator/catalog") as answer:
    CATALOG = json.load(answer)
SOURCES = CATALOG["sourceIds"]
POLICY = CATALOG["passwordPolicyIds"][0]


def client(base=BASE, client_id="psg-demo", secret="psg-demo-secret"):
    params = ConfigurationParams()
    params.base_url = base
    params.client_id = client_id
    params.client_secret = secret
    config = Configuration(params)
    config.retries = 0
    return ApiClient(config)


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
    except ApiException as e:
        assert e.status == status, f"expected {status}, got {e.status}"
        return
    raise AssertionError(f"expected HTTP {status}, the call succeeded")


@check("password policies: list")
def _():
    policies = PasswordPoliciesApi(client()).list_password_policies()
    expected = [p["name"] for p in CATALOG["passwordPolicies"]]
    assert [p.name for p in policies] == expected, [p.name for p in policies]
    assert all(p.date_created is not None for p in policies), "dateCreated decoded"


@check("password policies: get by id")
def _():
    p = PasswordPoliciesApi(client()).get_password_policy_by_id(POLICY)
    assert p.id == POLICY and p.name == CATALOG["passwordPolicies"][0]["name"], p


@check("sources: list all with count=true")
def _():
    r = SourcesApi(client()).list_sources_with_http_info(count=True)
    assert r.status_code == 200
    total = {k.lower(): v for k, v in r.headers.items()}["x-total-count"]
    assert int(total) == len(CATALOG["sources"]) == len(r.data), (total, len(r.data))
    assert any(s.owner is None for s in r.data), "a source without owner decodes"


@check("sources: list with name eq")
def _():
    name = CATALOG["sources"][0]["name"]
    found = SourcesApi(client()).list_sources(filters=f'name eq "{name}"')
    assert [s.name for s in found] == [name], found
    assert "PASSWORD" in found[0].features


@check("sources: list with name in")
def _():
    names = [CATALOG["sources"][1]["name"], CATALOG["sources"][-1]["name"]]
    quoted = ", ".join(f'"{n}"' for n in names)
    found = SourcesApi(client()).list_sources(filters=f"name in ({quoted})", sorters="name")
    assert [s.name for s in found] == sorted(names), [s.name for s in found]
    assert any("PASSWORD" not in (s.features or []) for s in found), "one source is not password-managed"


@check("sources: list with features ca and a page")
def _():
    found = SourcesApi(client()).list_sources(filters='features ca ("PASSWORD")', limit=2, offset=1)
    assert [s.id for s in found] == SOURCES[1:3], [s.id for s in found]


@check("sources: 400 on an unsupported filter")
def _():
    # `or` is part of ISC's filter grammar; a field the sources list does not filter on is not.
    expect_status(400, lambda: SourcesApi(client()).list_sources(filters='description eq "a"'))


@check("sources: get")
def _():
    s = SourcesApi(client()).get_source(SOURCES[0])
    assert s.id == SOURCES[0] and s.name == CATALOG["sources"][0]["name"] and s.connector, s


@check("sources: 404 for an unknown id")
def _():
    expect_status(404, lambda: SourcesApi(client()).get_source("no-such-source"))


@check("v3 groups: create")
def _():
    g = PasswordSyncGroupsApi(client()).create_password_sync_group(
        PasswordSyncGroup(name="compat v3", password_policy_id=POLICY, source_ids=SOURCES[:2]))
    assert g.id and g.name == "compat v3" and list(g.source_ids) == SOURCES[:2], g
    state["id"] = g.id


@check("v3 groups: get")
def _():
    g = PasswordSyncGroupsApi(client()).get_password_sync_group(state["id"])
    assert g.id == state["id"] and g.password_policy_id == POLICY


@check("v3 groups: list with count=true")
def _():
    r = PasswordSyncGroupsApi(client()).get_password_sync_groups_with_http_info(count=True)
    total = {k.lower(): v for k, v in r.headers.items()}["x-total-count"]
    assert int(total) == 1 and [g.id for g in r.data] == [state["id"]], (total, r.data)


@check("v3 groups: update")
def _():
    g = PasswordSyncGroupsApi(client()).update_password_sync_group(
        state["id"], PasswordSyncGroup(name="compat v3 renamed", password_policy_id=POLICY, source_ids=SOURCES[2:4]))
    assert g.name == "compat v3 renamed" and list(g.source_ids) == SOURCES[2:4], g


@check("v3 groups: 400 for a source without PASSWORD")
def _():
    other = next(s["id"] for s in CATALOG["sources"] if "PASSWORD" not in s["features"])
    expect_status(400, lambda: PasswordSyncGroupsApi(client()).create_password_sync_group(
        PasswordSyncGroup(name="x", password_policy_id=POLICY, source_ids=[SOURCES[0], other])))


@check("v3 groups: delete, then 404")
def _():
    api = PasswordSyncGroupsApi(client())
    r = api.delete_password_sync_group_with_http_info(state["id"])
    assert r.status_code == 204
    expect_status(404, lambda: api.get_password_sync_group(state["id"]))


@check("500 on sources and policies")
def _():
    failing = client(base=os.environ["PSG_COMPAT_500_BASE"])
    expect_status(500, lambda: SourcesApi(failing).list_sources())
    expect_status(500, lambda: PasswordPoliciesApi(failing).list_password_policies())


failed = 0
for name, error in results:
    if error is None:
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {error}")
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
