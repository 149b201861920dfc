"""Calls the simulator tests make: a draft copied from 2023.1, a simulation run to its end, its items, yuan as fen."""
from __future__ import annotations

import time

PROGRAM = "/programs/sz-sme-pool"


def draft(client, admin, version: str, changes: dict) -> dict:
    """A draft of sz-sme-pool copied from 2023.1 with the changes set."""
    response = client.post(f"{PROGRAM}/drafts/copy", json={"from_version": "2023.1", "version": version,
                                                           "set": changes}, headers=admin.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def simulate(client, caller, version: str) -> dict:
    """Simulate 2025 under the draft and wait until it is done."""
    started = client.post(f"{PROGRAM}/simulations", json={"version": version, "date_from": "2025-01-01",
                                                           "date_to": "2025-12-31"}, headers=caller.headers)
    assert started.status_code == 202, started.get_json()
    url = f"{PROGRAM}/simulations/{started.get_json()['id']}"
    for _ in range(600):
        body = client.get(url, headers=caller.headers).get_json()
        if body["status"] not in ("queued", "running"):
            assert body["status"] == "done", body
            return body
        time.sleep(0.05)
    raise AssertionError("the simulation did not finish")


def items(client, caller, simulation: dict, query: str = "") -> list[dict]:
    """The first 100 items of a simulation (with an extra query string)."""
    response = client.get(f"{PROGRAM}/simulations/{simulation['id']}/items?page_size=100{query}",
                          headers=caller.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def fen(text: str) -> int:
    """A yuan text ("-12.30") as integer fen."""
    sign = -1 if text.startswith("-") else 1
    yuan, cents = text.lstrip("-").split(".")
    return sign * (int(yuan) * 100 + int(cents))
