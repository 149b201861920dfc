"""A rule version approved through the API is live at once in another worker process, with no restart."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from sqlmodel import select

from claims.models import RuleVersion
from tests.api.test_claim_lifecycle import firm_on_no_list
from tests.helpers import problem

ROOT = Path(__file__).resolve().parents[2]
WORKER = """
import sys
from datetime import date
from pathlib import Path
from werkzeug.serving import make_server
from claims.app import create_app
from claims.settings import load_settings

url, data_dir, today_file = sys.argv[1:4]
app = create_app(load_settings("test").with_overrides(database_url=url, data_dir=Path(data_dir)))
app.extensions["claims"]["today"] = lambda: date.fromisoformat(Path(today_file).read_text().strip())
server = make_server("127.0.0.1", 0, app)
print(server.server_port, flush=True)
server.serve_forever()
"""


class Worker:
    """A second server process on the same database, answering HTTP on a free port."""

    def __init__(self, database_url: str, tmp_path: Path):
        self.today_file = tmp_path / "today"
        self.today_file.write_text("2029-01-15")
        self.process = subprocess.Popen([sys.executable, "-c", WORKER, database_url, str(tmp_path / "worker"),
                                         str(self.today_file)], cwd=ROOT, stdout=subprocess.PIPE,
                                        env={**os.environ, "CLAIMS_ENV": "test"})
        self.port = int(self.process.stdout.readline())

    def call(self, method: str, path: str, headers: dict, body: dict | None = None) -> tuple[int, dict]:
        """Send one JSON request; (status, JSON answer)."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={**headers, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def stop(self) -> None:
        """End the worker process this test started."""
        self.process.terminate()
        self.process.wait(timeout=30)


def _next_version() -> str:
    # The shipped file's worked examples are dated inside 2023.1, so the derived version leaves them out.
    shipped = (ROOT / "config/programs/sz-sme-pool/2023.1.toml").read_text(encoding="utf-8").split(
        "# Worked examples")[0]
    changed = (shipped.replace('version = "2023.1"', 'version = "2028.11"')
               .replace("effective_from = 2023-11-01", "effective_from = 2028-11-01")
               .replace("effective_to = 2028-10-31", "effective_to = 2033-10-31")
               .replace('base_ratio = "0.30"', 'base_ratio = "0.35"')
               .replace('per_institution_year_share_of_registered = "0.05"',
                        'per_institution_year_share_of_registered = "0.50"'))
    assert changed.count("2028.11") == 1 and '"0.35"' in changed
    return changed


def test_a_version_approved_in_one_worker_is_used_by_the_next_loan_and_claim_in_another(
        app, client, callers, db, database_url, tmp_path):
    bank_a, admin, admin2 = callers["BANK_A"], callers["admin"], callers["admin2"]
    firms = firm_on_no_list(db)
    worker = Worker(database_url, tmp_path)
    try:
        def loan(contract: str, firm, disbursed: str) -> tuple[int, dict]:
            return worker.call("POST", "/loans", bank_a.headers, {
                "program": "sz-sme-pool", "contract_no": contract, "enterprise_uscc": firm.uscc,
                "principal": "2000000.00", "disbursed_on": disbursed, "maturity_on": "2030-01-09",
                "annual_rate": "0.0435"})

        # The worker is warm: it has served a registration under 2023.1 (parsed and cached it).
        status, earlier = loan("LIVE-2028-10", firms[0], "2028-10-20")
        assert status == 201, earlier
        status, refused = loan("LIVE-2029-01", firms[1], "2029-01-10")
        assert (status, refused["code"]) == (422, "loan_ineligible")
        assert "2023.1 (in force 2023-11-01 to 2028-10-31) is chosen by the disbursement date, which is " \
               "2029-01-10" in refused["reasons"][0]["message"]

        # Maker: admin proposes 2028.11 in this process. Until a second admin approves, the worker refuses.
        proposed = client.post("/programs/sz-sme-pool/versions?reason=2029 raise", data=_next_version().encode(),
                               headers=admin.with_(**{"Content-Type": "application/toml"}))
        assert proposed.status_code == 201, proposed.get_json()
        assert proposed.get_json()["status"] == "proposed"
        status, waiting = loan("LIVE-2029-01", firms[1], "2029-01-10")
        assert status == 422 and "2028.11 (in force 2028-11-01 to 2033-10-31) is chosen by the disbursement " \
                                  "date, which is 2029-01-10; it awaits a second admin's approval" in \
            waiting["reasons"][0]["message"], waiting
        change = proposed.get_json()["pending_change_id"]
        problem(client.post(f"/rule-changes/{change}/approve", json={}, headers=admin.headers), 403,
                "separation_of_duties")
        # Checker: a second admin approves, here; the very next requests in the other process use it.
        approved = client.post(f"/rule-changes/{change}/approve", json={"note": "核对无误"}, headers=admin2.headers)
        assert approved.status_code == 200, approved.get_json()

        status, registered = loan("LIVE-2029-01", firms[1], "2029-01-10")
        assert status == 201, registered
        db.commit()
        new_id = db.exec(select(RuleVersion.id).where(RuleVersion.version == "2028.11")).one()
        assert registered["rule_version_id"] == new_id != earlier["rule_version_id"]

        worker.today_file.write_text("2029-09-30")
        status, _ = worker.call("POST", f"/loans/{registered['id']}/status", {**bank_a.headers, "If-Match": '"1"'}, {
            "status": "non_performing", "as_of": "2029-09-30", "days_overdue": 120})
        assert status == 200
        status, claim = worker.call("POST", "/claims", bank_a.headers, {
            "loan_id": registered["id"], "default_on": "2029-06-01", "outstanding_principal": "1000000.00",
            "days_overdue": 120, "classification": "substandard"})
        assert status == 201, claim
        # 2028.11's base ratio 35 % (2023.1: 30 %): 1,000,000.00 x 0.35 = 350,000.00, under every cap.
        assert (claim["ratio"], claim["computed_amount"]) == ("0.35", "350000.00")
        assert claim["trace"][0]["value"] == "sz-sme-pool@2028.11"
        assert worker.process.poll() is None  # the same process throughout: no restart
    finally:
        worker.stop()
