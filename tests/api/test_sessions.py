"""Staff sessions over HTTP: logout, password change and deactivation end sessions; guessing backs off and locks."""
from __future__ import annotations

import re

import sqlalchemy as sa
from sqlmodel import select

from claims.models import AuditEvent, StaffSession
from tests.helpers import field_messages, problem

ADMIN = {"username": "admin", "password": "admin-demo-pass"}


def log_in(client, username: str, password: str) -> dict:
    response = client.post("/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['token']}"}


def test_a_token_is_opaque_random_and_stored_only_as_a_hash(client, db):
    tokens = log_in(client, "reviewer1", "reviewer1-demo-pass")
    assert tokens["token"].startswith("cs_") and tokens["refresh_token"].startswith("cr_")
    assert tokens["expires_in"] == 900 and tokens["roles"] == ["reviewer"]
    # Nothing about the user or their password hash rides in the token: 32 random bytes, base64url.
    assert len(tokens["token"]) == 3 + 43 and "." not in tokens["token"]
    stored = db.exec(select(StaffSession)).all()
    assert len(stored) == 1 and tokens["token"] not in {s.access_hash for s in stored}
    assert client.get("/institutions", headers=bearer(tokens)).status_code == 200


def test_logout_ends_the_session_and_its_refresh_token(client):
    tokens = log_in(client, "reviewer1", "reviewer1-demo-pass")
    other = log_in(client, "reviewer1", "reviewer1-demo-pass")
    assert client.post("/auth/logout", headers=bearer(tokens)).status_code == 204
    problem(client.get("/institutions", headers=bearer(tokens)), 401, "session_revoked")
    problem(client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401,
            "invalid_refresh_token")
    # Only that session: the user's other login still works.
    assert client.get("/institutions", headers=bearer(other)).status_code == 200


def test_refresh_rotates_both_tokens(client):
    tokens = log_in(client, "auditor1", "auditor1-demo-pass")
    renewed = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).get_json()
    assert renewed["token"] != tokens["token"] and renewed["refresh_token"] != tokens["refresh_token"]
    assert client.get("/institutions", headers=bearer(renewed)).status_code == 200
    problem(client.get("/institutions", headers=bearer(tokens)), 401, "invalid_token")
    problem(client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401,
            "invalid_refresh_token")


def test_password_change_ends_every_session_and_the_policy_refuses_weak_passwords(client, db):
    first = log_in(client, "payer1", "payer1-demo-pass")
    second = log_in(client, "payer1", "payer1-demo-pass")
    weak = client.post("/auth/password", headers=bearer(first),
                       json={"current_password": "payer1-demo-pass", "new_password": "password1234"})
    assert "too easy to guess" in field_messages(problem(weak, 422, "weak_password"))["password"]
    short = client.post("/auth/password", headers=bearer(first),
                        json={"current_password": "payer1-demo-pass", "new_password": "Xq7!kd"})
    assert "at least 12 characters" in field_messages(problem(short, 422, "weak_password"))["password"]
    context = client.post("/auth/password", headers=bearer(first),
                          json={"current_password": "payer1-demo-pass", "new_password": "payer1payer1payer1"})
    problem(context, 422, "weak_password")
    wrong = client.post("/auth/password", headers=bearer(first),
                        json={"current_password": "not-my-password", "new_password": "Lantern-Orchid-Falcon-42"})
    problem(wrong, 422, "current_password_wrong")
    changed = client.post("/auth/password", headers=bearer(first),
                          json={"current_password": "payer1-demo-pass", "new_password": "Lantern-Orchid-Falcon-42"})
    assert changed.status_code == 204
    for tokens in (first, second):
        problem(client.get("/institutions", headers=bearer(tokens)), 401, "session_revoked")
    problem(client.post("/auth/token", json={"username": "payer1", "password": "payer1-demo-pass"}), 401,
            "invalid_credentials")
    assert client.get("/institutions", headers=bearer(log_in(client, "payer1", "Lantern-Orchid-Falcon-42"))).status_code == 200
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "password_changed")).one()
    assert event.data == {"sessions_ended": 2}


def test_deactivation_ends_all_sessions_of_the_user_and_refuses_new_logins(client, db):
    admin = bearer(log_in(client, **ADMIN))
    sessions = [log_in(client, "approver1", "approver1-demo-pass") for _ in range(3)]
    users = {u["username"]: u for u in client.get("/users", headers=admin).get_json()}
    approver = users["approver1"]
    assert approver["active"] is True and approver["programs"] == ["*"] and approver["locked"] is False
    assert client.post(f"/users/{approver['id']}/deactivate", headers=admin).status_code == 204
    for tokens in sessions:
        problem(client.get("/institutions", headers=bearer(tokens)), 401, "session_revoked")
        problem(client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401,
                "invalid_refresh_token")
    problem(client.post("/auth/token", json={"username": "approver1", "password": "approver1-demo-pass"}), 401,
            "invalid_credentials")
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "deactivated")).one()
    assert event.data == {"sessions_ended": 3, "admin": "系统管理员"}
    problem(client.post(f"/users/{users['admin']['id']}/deactivate", headers=admin), 409, "self_deactivation")
    assert client.post(f"/users/{approver['id']}/activate", headers=admin).status_code == 204
    log_in(client, "approver1", "approver1-demo-pass")


def test_ten_wrong_passwords_lock_the_account_audited_and_an_admin_unlocks_it(client, db):
    for attempt in range(1, 10):
        problem(client.post("/auth/token", json={"username": "auditor1", "password": f"guess-{attempt}"}), 401,
                "invalid_credentials")
    problem(client.post("/auth/token", json={"username": "auditor1", "password": "guess-10"}), 423,
            "account_locked")
    # Locked: the right password no longer opens it (the attack of the report: 30 wrong, then the right one).
    problem(client.post("/auth/token", json={"username": "auditor1", "password": "auditor1-demo-pass"}), 423,
            "account_locked")
    failed = db.exec(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
    assert [e.data["failures"] for e in failed] == list(range(1, 11))
    assert {e.data["address"] for e in failed} == {"127.0.0.1"}
    locked = db.exec(select(AuditEvent).where(AuditEvent.action == "locked")).one()
    assert locked.data == {"username": "auditor1", "failures": 10}
    admin = bearer(log_in(client, **ADMIN))
    users = {u["username"]: u for u in client.get("/users", headers=admin).get_json()}
    assert users["auditor1"]["locked"] is True
    assert client.post(f"/users/{users['auditor1']['id']}/unlock", headers=admin).status_code == 204
    db.commit()  # a fresh snapshot: the unlock was written after this session last read
    unlocked = db.exec(select(AuditEvent).where(AuditEvent.action == "unlocked")).one()
    assert unlocked.actor == f"user:{users['admin']['id']}" and unlocked.data["admin"] == "系统管理员"
    log_in(client, "auditor1", "auditor1-demo-pass")


def test_failed_logins_back_off_exponentially_per_user_and_per_address(app, client, db):
    ext = app.extensions["claims"]
    ext["settings"] = ext["settings"].with_overrides(login_backoff_base_seconds=30.0, address_backoff_after=5)
    for attempt in range(3):
        problem(client.post("/auth/token", json={"username": "reviewer2", "password": f"nope-{attempt}"}), 401)
    # The fourth try comes too soon: 30 s * 2^(3 - 3), even with the right password.
    wait = problem(client.post("/auth/token", json={"username": "reviewer2", "password": "reviewer2-demo-pass"}),
                   429, "login_backoff")
    waited = int(re.search(r"retry in (\d+) s", wait["detail"]).group(1))
    assert 25 <= waited <= 30  # 30 s from the third failure, less the time since
    # Retry-After is at least the back-off (flask-limiter raises it to its own window's reset when later).
    assert int(client.post("/auth/token", json={"username": "reviewer2", "password": "x"}).headers["Retry-After"]) >= 29
    # A minute later (failures moved back in time) the window has passed and the right password works.
    db.execute(sa.text("UPDATE login_throttle SET last_failure_at = :t WHERE key = 'user:reviewer2'"),
               {"t": "2000-01-01 00:00:00"})
    db.commit()
    log_in(client, "reviewer2", "reviewer2-demo-pass")
    # Spraying many usernames from one address: that address backs off too, whoever it tries.
    for name in ("u1", "u2"):
        problem(client.post("/auth/token", json={"username": name, "password": "x"}), 401)
    problem(client.post("/auth/token", json={"username": "u3", "password": "x"}), 429, "login_backoff")
    problem(client.post("/auth/token", json=ADMIN, environ_base={"REMOTE_ADDR": "127.0.0.1"}), 429, "login_backoff")
    log_in_elsewhere = client.post("/auth/token", json=ADMIN, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert log_in_elsewhere.status_code == 200


def test_staff_created_through_the_api_meet_the_policy_and_get_program_grants(client, db):
    admin = bearer(log_in(client, **ADMIN))
    body = {"username": "zhou9", "display_name": "初审员 周九", "roles": ["reviewer"], "programs": ["sz-sme-pool"]}
    problem(client.post("/users", headers=admin, json={**body, "password": "zhou9zhou9zhou9"}), 422, "weak_password")
    problem(client.post("/users", headers=admin, json={**body, "password": "Lantern-Orchid-Falcon-42",
                                                        "programs": ["no-such-program"]}), 422, "invalid_programs")
    created = client.post("/users", headers=admin, json={**body, "password": "Lantern-Orchid-Falcon-42"})
    assert created.status_code == 201 and created.get_json()["programs"] == ["sz-sme-pool"]
    user_id = created.get_json()["id"]
    granted = client.put(f"/users/{user_id}/programs", headers=admin, json={"programs": ["sz-sme-pool", "sz-tech-fee"]})
    assert granted.get_json() == {"programs": ["sz-sme-pool", "sz-tech-fee"]}
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "programs_granted")).one()
    assert event.data == {"before": ["sz-sme-pool"], "after": ["sz-sme-pool", "sz-tech-fee"], "admin": "系统管理员"}
