"""The console's pages through the Flask test client: sessions, stale pages, refusals, queues, operations."""
from __future__ import annotations

import re
from datetime import date

from sqlmodel import select

from claims.models import Admission, Claim, Institution
from tests.browser.pages import PASSWORDS, pin_today, submitted_claim
from tests.helpers import attach_required

_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def login(client, username: str):
    """Log in through the form; returns a CSRF token valid for this session."""
    page = client.get("/console/login")
    token = _TOKEN.search(page.get_data(as_text=True)).group(1)
    response = client.post("/console/login", data={"csrf_token": token, "username": username,
                                                   "password": PASSWORDS.get(username, f"{username}-demo-pass")})
    assert response.status_code == 302 and response.headers["Location"] == "/console/", response.get_data(as_text=True)
    # Logging in starts a new session (no fixation), so the forms after it carry a new token.
    home = client.get("/console/")
    return response, _TOKEN.search(home.get_data(as_text=True)).group(1)


def text(response) -> str:
    """The page's visible text, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def act(client, token, claim_id, action, version, **fields):
    return client.post(f"/console/claims/{claim_id}/act", data={"csrf_token": token, "action": action,
                                                                "version": version, **fields})


def test_the_session_cookie_is_http_only_same_site_lax_and_scoped_to_the_console(client):
    response, _ = login(client, "reviewer1")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # the test server is plain http on loopback


def test_the_cookie_is_secure_outside_development_and_tests(app):
    from claims.console.session import configure_cookie

    for env, secure in (("production", True), ("development", False), ("test", False)):
        configure_cookie(app, app.extensions["claims"]["settings"].with_overrides(env=env))
        assert app.config["SESSION_COOKIE_SECURE"] is secure
    configure_cookie(app, app.extensions["claims"]["settings"])


def test_a_wrong_password_is_told_in_chinese_and_opens_nothing(client):
    page = client.get("/console/login")
    token = _TOKEN.search(page.get_data(as_text=True)).group(1)
    response = client.post("/console/login", data={"csrf_token": token, "username": "reviewer1", "password": "nope"})
    assert response.status_code == 401
    assert "用户名或密码错误" in text(response) and "invalid_credentials" in text(response)
    assert client.get("/console/").status_code == 302


def test_a_banks_api_key_opens_no_console_page(app, client, callers, db):
    claim = submitted_claim(app, client, callers, db)
    bank = callers["BANK_A"]
    for path in ("/console/", f"/console/claims/{claim['id']}", "/console/claims/queue/first_review",
                 "/console/programs/sz-sme-pool", "/console/statements", "/console/audit"):
        response = client.get(path, headers=bank.headers)
        assert response.status_code == 302 and response.headers["Location"].startswith("/console/login"), path
        staff = client.get(path, headers=callers["reviewer1"].headers)  # a bearer token is no console session either
        assert staff.status_code == 302, path
    posted = client.post(f"/console/claims/{claim['id']}/act", headers=bank.headers,
                         data={"action": "start_review", "version": claim["version"]})
    assert posted.status_code == 302
    assert _status(db, claim["id"]) == "submitted"


def _status(db, claim_id: int) -> str:
    db.commit()
    return db.exec(select(Claim.status).where(Claim.id == claim_id)).one()


def test_a_stale_page_says_what_changed_instead_of_failing(app, client, callers, db):
    claim = submitted_claim(app, client, callers, db)
    _, token = login(client, "reviewer1")
    opened = client.get(f"/console/claims/{claim['id']}")
    assert opened.headers["ETag"] == f'"{claim["version"]}"'
    # Meanwhile another reviewer starts the review through the API.
    moved = client.post(f"/claims/{claim['id']}/transitions", json={"action": "start_review"},
                        headers=callers["reviewer2"].with_(**{"If-Match": f'"{claim["version"]}"'}))
    assert moved.status_code == 200
    stale = act(client, token, claim["id"], "start_review", claim["version"], seen_status="submitted",
                seen_amount="10000000", seen_decisions="1")
    assert stale.status_code == 409
    body = text(stale)
    assert "此页已过期" in body and "您打开时：状态「已提交」，核定金额 ¥100,000.00" in body
    assert "现在：状态「初审中」" in body and "初审员 李强：开始初审（已提交 → 初审中）" in body
    assert _status(db, claim["id"]) == "first_review"


def test_refusals_show_in_chinese_with_their_code_and_change_nothing(app, client, callers, db):
    claim = submitted_claim(app, client, callers, db)
    _, token = login(client, "reviewer1")
    returned = act(client, token, claim["id"], "return", claim["version"], reason="")
    assert returned.status_code == 422 and "此操作需要填写理由" in text(returned) and "reason_required" in text(returned)
    started = act(client, token, claim["id"], "start_review", claim["version"])
    assert started.status_code == 303
    passed = act(client, token, claim["id"], "pass", claim["version"] + 1)
    assert passed.status_code == 303
    client.post("/console/logout", data={"csrf_token": token})
    _, token = login(client, "approver1")
    version = claim["version"] + 2
    above = act(client, token, claim["id"], "approve", version, amount="100000.01")
    assert above.status_code == 422 and "批准金额不得高于系统核定金额" in text(above) and "amount_above_computed" in text(above)
    reduced = act(client, token, claim["id"], "approve", version, amount="90000.00")
    assert reduced.status_code == 422 and "reason_required" in text(reduced)
    malformed = act(client, token, claim["id"], "approve", version, amount="12.345")
    assert malformed.status_code == 422 and "amount_invalid" in text(malformed)
    assert _status(db, claim["id"]) == "second_review"
    full = act(client, token, claim["id"], "approve", version)
    assert full.status_code == 303
    db.commit()
    assert db.exec(select(Claim.approved_fen).where(Claim.id == claim["id"])).one() == 100_000_00


def test_the_queue_filters_sorts_and_pages_and_marks_overdue_in_working_days(app, client, callers, db):
    claim = submitted_claim(app, client, callers, db)  # due 2026-10-13 (5 working days after 2026-09-30 + holiday)
    login(client, "reviewer1")
    queue = client.get("/console/claims/queue/first_review")
    assert f"代偿 #{claim['id']}" in text(queue) and "超期" not in text(queue).replace("仅超期", "")
    pin_today(app, date(2026, 10, 16))
    late = text(client.get("/console/claims/queue/first_review?overdue=1"))
    assert f"代偿 #{claim['id']}" in late and "超期 3 个工作日" in late
    bank_b = db.exec(select(Institution).where(Institution.code == "BANK_B")).one()
    assert f"代偿 #{claim['id']}" not in text(client.get(f"/console/claims/queue/first_review?bank={bank_b.id}"))
    assert f"代偿 #{claim['id']}" not in text(client.get("/console/claims/queue/first_review?state=first_review"))
    assert f"代偿 #{claim['id']}" not in text(client.get("/console/claims/queue/first_review?program=sz-tech-fee"))
    home = text(client.get("/console/"))
    assert "初审 1 其中超期 1" in home
    assert "第 1 / 1 页" in late
    assert client.get("/console/claims/queue/nowhere").status_code == 404


def test_the_overview_counts_only_what_the_person_may_see(app, client, callers, db):
    submitted_claim(app, client, callers, db)  # a Shenzhen pool claim waiting at first review
    _, token = login(client, "reviewer1")
    assert 'data-count="claim-first_review">1<' in client.get("/console/").get_data(as_text=True)
    client.post("/console/logout", data={"csrf_token": token})
    login(client, "reviewer_nb")  # granted the Ningbo program only
    assert 'data-count="claim-first_review">0<' in client.get("/console/").get_data(as_text=True)


def test_the_admin_lifts_a_breaker_with_a_reason_and_deferred_claims_resume(app, client, callers, db):
    bank_b = db.exec(select(Institution).where(Institution.code == "BANK_B")).one()
    admission = db.exec(select(Admission).where(Admission.institution_id == bank_b.id,
                                                Admission.program_code == "sz-sme-pool")).one()
    admission.status, admission.reason = "claims_deferred", "熔断测试"
    db.add(admission)
    db.commit()
    _, token = login(client, "reviewer1")
    page = text(client.get("/console/programs/sz-sme-pool"))
    assert "熔断：暂缓受理代偿" in page and "解除熔断" not in page  # only an admin lifts
    refused = client.post("/console/programs/sz-sme-pool/lift", data={"csrf_token": token, "institution_id": bank_b.id,
                                                                      "reason": "复核后恢复"})
    assert refused.status_code == 403 and "role_required" in text(refused)
    client.post("/console/logout", data={"csrf_token": token})
    _, token = login(client, "admin")
    empty = client.post("/console/programs/sz-sme-pool/lift", data={"csrf_token": token, "institution_id": bank_b.id,
                                                                    "reason": ""})
    assert empty.status_code == 422 and "reason_required" in text(empty)
    lifted = client.post("/console/programs/sz-sme-pool/lift", data={"csrf_token": token, "institution_id": bank_b.id,
                                                                     "reason": "机构已提交整改报告，复核后恢复"})
    assert lifted.status_code == 303
    page = text(client.get("/console/programs/sz-sme-pool"))
    assert "熔断已解除" in page and "解除熔断：机构" in page and "机构已提交整改报告" in page
    db.commit()
    assert db.exec(select(Admission.status).where(Admission.id == admission.id)).one() == "active"


def test_jobs_statements_and_audit_pages(app, client, callers, db):
    from reports.periods import parse_period
    from tests.integration.statement_history import build_history

    build_history(app, client, callers, db, parse_period("2026Q3"))
    db.commit()
    claim = {"id": db.exec(select(Claim.id).order_by(Claim.id)).first()}
    _, token = login(client, "reviewer1")
    assert client.get("/console/jobs").status_code == 403
    refused = client.post("/console/jobs/budget_snapshot/run", data={"csrf_token": token})
    assert refused.status_code == 403
    assert client.get("/console/audit").status_code == 403
    client.post("/console/logout", data={"csrf_token": token})
    _, token = login(client, "admin")
    pin_today(app, date(2026, 10, 9))  # 2026Q3 has closed
    ran = client.post("/console/jobs/period_statements/run", data={"csrf_token": token, "period": "2026Q3"})
    assert ran.status_code == 303, text(ran)
    jobs = text(client.get("/console/jobs"))
    assert "出具上一期结算单" in jobs and "完成" in jobs
    statements = client.get("/console/statements")
    ids = re.findall(r"/console/statements/(\d+)\.pdf", statements.get_data(as_text=True))
    assert ids, text(statements)
    pdf = client.get(f"/console/statements/{ids[0]}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and len(pdf.headers["Digest-SHA256"]) == 64
    verified = text(client.get(f"/console/statements/{ids[0]}/verify"))
    assert "文件完好" in verified and "内容仍然正确" in verified
    chain = text(client.get("/console/audit?verify=1"))
    assert re.search(r"审计链完整：已校验 \d+ 条事件", chain)
    events = text(client.get(f"/console/audit?entity=claim&entity_id={claim['id']}"))
    assert "登记申请" in events and "提交" in events and "拨付" in events


def test_a_subsidy_application_is_reviewed_in_the_console_with_its_trace(app, client, callers, db):
    from tests.api.test_subsidies import first_loan_interest_application, step

    bank_a = callers["BANK_A"]
    firm, application = first_loan_interest_application(app, client, callers, db)
    application = step(client, bank_a, attach_required(client, bank_a.headers, application, "applications"), "submit")
    _, token = login(client, "reviewer1")
    queue = text(client.get("/console/applications/queue/first_review"))
    assert f"贴息 #{application['id']}" in queue and "¥17,419.67" in queue and firm.name in queue
    page = text(client.get(f"/console/applications/{application['id']}"))
    assert "补贴/奖励申请 #" in page and "核定金额 ¥17,419.67" in page and "申报基数 ¥30,163.93" in page
    for row in ("档次：首贷户 0.70 适用。满足：首贷户", "LPR 0.0345，利率上限 0.0495；实付利息 × 1.000000 （期间占比） × "
                "0.825000 （利率上限折算） × 比例 0.70", "单户企业本计划年度上限 ¥1,000,000.00", "核定金额 ¥17,419.67 无限额封顶"):
        assert row in page, row
    for action, version in (("start_review", application["version"]), ("pass", application["version"] + 1)):
        moved = client.post(f"/console/applications/{application['id']}/act",
                            data={"csrf_token": token, "action": action, "version": version})
        assert moved.status_code == 303, text(moved)
    after = text(client.get(f"/console/applications/{application['id']}"))
    assert "复审中" in after and "初审员 张敏： 初审通过 （初审中 → 复审中）" in after


def _claims_in_second_review(app, client, callers, db, outstanding: list[str]) -> list[dict]:
    """Bank A registers one 2,000,000.00 loan per claim in January 2026, and takes a claim on each to second review."""
    from tests.api.test_claim_lifecycle import firm_on_no_list, register

    bank, reviewer = callers["BANK_A"], callers["reviewer1"]
    firms = firm_on_no_list(db)
    pin_today(app, date(2026, 2, 1))
    loans = [register(client, bank, contract_no=f"AC-2026-{i}", enterprise_uscc=firms[i].uscc, principal="2000000.00",
                      disbursed_on="2026-01-20", maturity_on="2027-01-19") for i in range(len(outstanding))]
    pin_today(app, date(2026, 9, 30))
    result = []
    for loan, amount in zip(loans, outstanding, strict=True):
        client.post(f"/loans/{loan['id']}/status", headers=bank.with_(**{"If-Match": '"1"'}),
                    json={"status": "non_performing", "as_of": "2026-09-30", "days_overdue": 120})
        claim = client.post("/claims", headers=bank.headers, json={
            "loan_id": loan["id"], "default_on": "2026-06-01", "outstanding_principal": amount, "days_overdue": 120,
            "classification": "substandard"}).get_json()
        claim = attach_required(client, bank.headers, client.get(f"/claims/{claim['id']}", headers=bank.headers).get_json())
        for who, action in ((bank, "submit"), (reviewer, "start_review"), (reviewer, "pass")):
            response = client.post(f"/claims/{claim['id']}/transitions", json={"action": action},
                                   headers=who.with_(**{"If-Match": f'"{claim["version"]}"'}))
            assert response.status_code == 200, response.get_json()
            claim = response.get_json()
        result.append(claim)
    return result


def test_a_changed_amount_is_shown_with_the_new_figure_prefilled_and_approved_once_confirmed(app, client, callers, db):
    # Cap: 5 % of the 4,000,000.00 bank A registered = 200,000.00. Gross: 30 % of each outstanding principal.
    first, second = _claims_in_second_review(app, client, callers, db, ["500000.00", "1000000.00"])
    assert (first["computed_amount"], second["computed_amount"]) == ("150000.00", "200000.00")
    approved = client.post(f"/claims/{first['id']}/transitions", json={"action": "approve"},
                           headers=callers["approver2"].with_(**{"If-Match": f'"{first["version"]}"'}))
    assert approved.status_code == 200, approved.get_json()
    _, token = login(client, "approver1")
    changed = act(client, token, second["id"], "approve", second["version"])
    assert changed.status_code == 409
    body = text(changed)
    assert "核定金额已变化" in body and "amount_changed" in body
    assert "现在的核定金额：¥50,000.00" in body and "您看到的金额：¥200,000.00" in body
    assert 'name="amount" inputmode="decimal" placeholder="¥200,000.00" value="50000.00"' in changed.get_data(as_text=True)
    assert _status(db, second["id"]) == "second_review"
    assert "确认按重新计算的核定金额 ¥50,000.00 批准（原显示 ¥200,000.00）" in body
    # The engine still counts 50,000.00 against the stored 200,000.00 as a reduction: the prefilled reason says why.
    confirmed = act(client, token, second["id"], "approve", second["version"], amount="50000.00",
                    reason="确认按重新计算的核定金额 ¥50,000.00 批准（原显示 ¥200,000.00）")
    assert confirmed.status_code == 303, text(confirmed)
    db.commit()
    assert db.exec(select(Claim.approved_fen).where(Claim.id == second["id"])).one() == 50_000_00


def test_separation_of_duties_hides_the_payment_from_its_approver_and_refuses_a_forged_one(app, client, callers, db):
    from claims.auth import SYSTEM
    from claims.services import users

    (claim,) = _claims_in_second_review(app, client, callers, db, ["500000.00"])
    users.create_user(db, principal=SYSTEM, s=app.extensions["claims"]["settings"], programs=["*"],
                      known_programs=set(), username="dual2", display_name="复审拨付员 吴二",
                      password="dual2-demo-pass", roles=["approver", "payer"])
    _, token = login(client, "dual2")
    assert act(client, token, claim["id"], "approve", claim["version"]).status_code == 303
    page = client.get(f"/console/claims/{claim['id']}")
    assert 'class="act act-pay"' not in page.get_data(as_text=True)
    forged = act(client, token, claim["id"], "pay", claim["version"] + 1)
    assert forged.status_code == 403
    assert "职责分离" in text(forged) and "separation_of_duties" in text(forged)
    assert _status(db, claim["id"]) == "approved"
