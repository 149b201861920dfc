"""Who may not do what in the console: the next stage by the same person, a post without CSRF, a bank's key."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from sqlmodel import select

from claims.auth import SYSTEM
from claims.models import Claim
from claims.services import users
from tests.browser.pages import PASSWORDS, log_in, log_out, offered, press, submitted_claim, wait_replaced

FORGE = """
const [url, fields] = arguments;
const form = document.createElement('form');
form.method = 'post'; form.action = url;
for (const [name, value] of Object.entries(fields)) {
  const input = document.createElement('input'); input.type = 'hidden'; input.name = name; input.value = value;
  form.appendChild(input);
}
document.body.appendChild(form); form.submit();
"""


def _forge(driver, base, claim_id, *, with_csrf: bool, **fields):
    """Post a hand-made form from the browser (the session cookie goes with it), as a forged request would."""
    token = driver.find_element(By.NAME, "csrf_token").get_attribute("value")
    version = driver.find_element(By.CSS_SELECTOR, "h1[data-version]").get_attribute("data-version")
    data = {"version": version, **fields}
    if with_csrf:
        data["csrf_token"] = token
    page = driver.find_element(By.TAG_NAME, "html")
    driver.execute_script(FORGE, f"{base}/console/claims/{claim_id}/act", data)
    wait_replaced(driver, page, 10)


def _status(db, claim_id: int) -> str:
    db.commit()  # a fresh snapshot: see what the requests wrote
    return db.exec(select(Claim.status).where(Claim.id == claim_id)).one()


def test_the_same_person_cannot_take_the_next_stage_and_forged_or_tokenless_posts_are_refused(
        app, client, callers, db, live_server, browser):
    claim = submitted_claim(app, client, callers, db)
    base, driver = live_server, browser
    with app.app_context():
        session = app.extensions["claims"]["sessions"]()
        users.create_user(session, principal=SYSTEM, s=app.extensions["claims"]["settings"], programs=["*"],
                          known_programs=set(), username="dual1", display_name="初审复审员 周一",
                          password=PASSWORDS["dual1"], roles=["reviewer", "approver"])
        session.close()

    # dual1 holds both roles: after passing first review, approving is not offered (four eyes) ...
    log_in(driver, base, "dual1")
    driver.get(f"{base}/console/claims/{claim['id']}")
    press(driver, "start_review")
    press(driver, "pass")
    assert _status(db, claim["id"]) == "second_review"
    assert offered(driver) == []
    # ... and a forged approval post with a valid token is refused in plain Chinese with its code.
    _forge(driver, base, claim["id"], with_csrf=True, action="approve", reason="")
    alert = driver.find_element(By.CSS_SELECTOR, ".refusal-box").text
    assert "四眼原则" in alert and "four_eyes" in alert
    assert _status(db, claim["id"]) == "second_review"
    log_out(driver)

    # A reviewer without the approver role: nothing offered, a forged post refused for the role.
    log_in(driver, base, "reviewer1")
    driver.get(f"{base}/console/claims/{claim['id']}")
    assert offered(driver) == []
    _forge(driver, base, claim["id"], with_csrf=True, action="approve")
    alert = driver.find_element(By.CSS_SELECTOR, ".refusal-box").text
    assert "您的角色不能执行此操作" in alert and "role_not_allowed" in alert

    # A form posted without its CSRF token is refused before anything runs.
    driver.get(f"{base}/console/claims/{claim['id']}")
    _forge(driver, base, claim["id"], with_csrf=False, action="reject", reason="伪造的请求")
    page = driver.find_element(By.TAG_NAME, "main").text
    assert "表单已失效" in page and "csrf_failed" in page
    assert _status(db, claim["id"]) == "second_review"
    log_out(driver)

    # Approver1 (a different person) may approve: the forms are there for them.
    log_in(driver, base, "approver1")
    driver.get(f"{base}/console/claims/{claim['id']}")
    assert offered(driver) == ["approve", "reject"]
