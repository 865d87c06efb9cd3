// Uses the `beforeAll` of psg-emulator's README (copied to isc.js by
// `cargo xtask compat`): the emulator it starts answers a token request and
// a group listing.
import { expect, test } from "vitest";
import { isc } from "./isc.js";

test("the beforeAll serves a working emulator", async () => {
  const form = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: isc.clientId,
    client_secret: isc.clientSecret,
  });
  const token = await fetch(`${isc.baseUrl}/oauth/token`, { method: "POST", body: form });
  expect(token.status).toBe(200);
  const { access_token } = await token.json();
  const groups = await fetch(`${isc.baseUrl}/beta/password-sync-groups`, {
    headers: { Authorization: `Bearer ${access_token}` },
  });
  expect(groups.status).toBe(200);
  expect(await groups.json()).toEqual([]);
});
