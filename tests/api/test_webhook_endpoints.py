"""Registering webhook endpoints: only https hosts the bureau allows, never a loopback, link-local or private one."""
from __future__ import annotations

import pytest

from tests.helpers import field_messages, problem


def register(client, caller, url: str, events=("claim.*",)):
    return client.post("/webhooks/endpoints", json={"url": url, "events": list(events)}, headers=caller.headers)


def test_a_host_off_the_allow_list_is_refused_with_422_and_nothing_is_stored(client, callers):
    bank_a = callers["BANK_A"]
    body = problem(register(client, bank_a, "https://evil.example.org/hooks"), 422, "webhook_url_refused")
    assert "the host evil.example.org is not on the bureau's allow-list of webhook hosts" in field_messages(body)["url"]
    problem(register(client, bank_a, "ftp://127.0.0.1/hooks"), 422, "webhook_url_refused")
    problem(register(client, bank_a, "http://127.0.0.1:9/hooks", ["claim.exploded"]), 422, "webhook_event_unknown")
    problem(register(client, callers["admin"], "http://127.0.0.1:9/hooks"), 403, "institution_only")
    assert client.get("/webhooks/endpoints", headers=bank_a.headers).get_json() == []


@pytest.mark.parametrize(("url", "reason"), [
    ("https://10.0.0.8/hooks", "resolves to 10.0.0.8, a private or reserved address"),
    ("https://192.168.1.20:8443/hooks", "resolves to 192.168.1.20, a private or reserved address"),
    ("https://169.254.169.254/latest/meta-data", "resolves to 169.254.169.254, a link-local address"),
    ("https://127.0.0.1/hooks", "resolves to 127.0.0.1, a loopback address"),
    ("https://[::1]/hooks", "resolves to ::1, a loopback address"),
    ("https://[::ffff:10.0.0.1]/hooks", "resolves to ::ffff:a00:1, a private or reserved address"),
    ("https://localhost/hooks", "a loopback address"),
    ("http://93.184.216.34/hooks", "the URL must use https"),
    ("https://bank:secret@93.184.216.34/hooks", "may not carry a user name or password"),
])
def test_loopback_link_local_and_private_addresses_are_refused_even_when_every_host_is_allowed(
        app, client, callers, url, reason):
    ext = app.extensions["claims"]
    ext["settings"] = ext["settings"].with_overrides(webhook_allowed_hosts=("*",), webhook_private_addresses=())
    body = problem(register(client, callers["BANK_A"], url), 422, "webhook_url_refused")
    assert reason in field_messages(body)["url"]


def test_a_public_https_address_on_the_allow_list_is_registered_and_its_secret_shown_once(app, client, callers):
    ext = app.extensions["claims"]
    ext["settings"] = ext["settings"].with_overrides(webhook_allowed_hosts=("93.184.216.34",),
                                                     webhook_private_addresses=())
    created = register(client, callers["BANK_A"], "https://93.184.216.34/claims-hooks", ["*"])
    assert created.status_code == 201, created.get_json()
    endpoint = created.get_json()
    assert endpoint["secret"].startswith("whsec_") and endpoint["status"] == "active"
    listed = client.get("/webhooks/endpoints", headers=callers["BANK_A"].headers).get_json()
    assert [e["url"] for e in listed] == ["https://93.184.216.34/claims-hooks"] and "secret" not in listed[0]
    problem(client.patch(f"/webhooks/endpoints/{endpoint['id']}", json={"url": "https://10.0.0.8/x"},
                         headers=callers["BANK_A"].headers), 422, "webhook_url_refused")
    problem(client.get(f"/webhooks/endpoints/{endpoint['id']}", headers=callers["BANK_B"].headers), 404)
    disabled = client.patch(f"/webhooks/endpoints/{endpoint['id']}", json={"status": "disabled"},
                            headers=callers["BANK_A"].headers)
    assert disabled.get_json()["status"] == "disabled"
