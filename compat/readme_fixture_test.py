"""Uses the `isc` fixture of psg-emulator's README (copied to conftest.py by
`cargo xtask compat`): the emulator it starts answers a token request and a
group listing."""

import json
import urllib.parse
import urllib.request


def test_the_fixture_serves_a_working_emulator(isc):
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": isc["client_id"],
            "client_secret": isc["client_secret"],
        }
    ).encode()
    with urllib.request.urlopen(f"{isc['base_url']}/oauth/token", data=form) as r:
        token = json.load(r)["access_token"]
    request = urllib.request.Request(
        f"{isc['base_url']}/beta/password-sync-groups",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request) as r:
        assert r.status == 200
        assert json.load(r) == []
