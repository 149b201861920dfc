"""What the browser tests do on console pages, in the words of the page (links, buttons, fields)."""
from __future__ import annotations

import io
from datetime import date

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait
from sqlmodel import select

from claims.models import Enterprise, ListMembership
from tests.browser.evidence import chinese_pdf, png

PASSWORDS = {"reviewer1": "reviewer1-demo-pass", "approver1": "approver1-demo-pass", "payer1": "payer1-demo-pass",
             "auditor1": "auditor1-demo-pass", "admin": "admin-demo-pass", "dual1": "dual1-demo-pass-1",
             "reviewer_nb": "reviewer-nb-demo-pass"}


def log_in(driver, base: str, username: str) -> None:
    """Open the log-in page and log in; lands on the home page."""
    driver.get(f"{base}/console/login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORDS[username])
    submit_and_wait(driver, driver.find_element(By.NAME, "login"))
    assert driver.current_url.rstrip("/").endswith("/console"), driver.page_source[:500]


def log_out(driver) -> None:
    """Press 退出."""
    submit_and_wait(driver, driver.find_element(By.XPATH, "//button[text()='退出']"))
    assert "/console/login" in driver.current_url


def submit_and_wait(driver, button) -> None:
    """Press a submit button and wait until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    button.click()
    wait_replaced(driver, page)


def wait_replaced(driver, page, timeout: float = 15) -> None:
    """Wait until `page` (an old document's html element) has left the document."""
    def replaced(_driver) -> bool:
        try:
            page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            # Chrome answers a node caught mid-navigation with this instead of a stale reference.
            if "does not belong to the document" in str(e):
                return True
            raise
        return False
    WebDriverWait(driver, timeout).until(replaced)


def press(driver, action: str, **fields) -> None:
    """Fill an action form's fields and press its button."""
    form = driver.find_element(By.CSS_SELECTOR, f"form.act-{action}")
    for name, value in fields.items():
        form.find_element(By.NAME, name).send_keys(value)
    submit_and_wait(driver, form.find_element(By.CSS_SELECTOR, "button[name=do]"))


def offered(driver) -> list[str]:
    """The actions the page offers as buttons."""
    return [b.get_attribute("value") for b in driver.find_elements(By.CSS_SELECTOR, "form.act button[name=do]")]


def flash(driver) -> str:
    """The confirmation shown after an action."""
    return driver.find_element(By.CSS_SELECTOR, ".flash").text


def budget_row(driver, base: str, program: str, year: int) -> tuple[int, int]:
    """(paid fen, available fen) of a program-year as the program page shows them."""
    driver.get(f"{base}/console/programs/{program}")
    row = driver.find_element(By.CSS_SELECTOR, f"table.budget tr[data-year='{year}']")
    paid = int(row.find_element(By.CSS_SELECTOR, "[data-paid]").get_attribute("data-paid"))
    available = int(row.find_element(By.CSS_SELECTOR, "[data-available]").get_attribute("data-available"))
    return paid, available


def pin_today(app, day: date) -> None:
    """Set the business date the application sees."""
    app.extensions["claims"]["today"] = day


def submitted_claim(app, client, callers, db) -> dict:
    """Bank A registers a loan to a 专精特新 firm, reports it non-performing, files, uploads a PDF and a PNG, submits.

    Ratio 30 % + 10 pp (listed) = 40 % of 1,500,000.00 = 600,000.00; the institution-year cap of 5 % of the
    2,000,000.00 bank A registered in 2026 (100,000.00) binds.
    """
    bank = callers["BANK_A"]
    pin_today(app, date(2026, 2, 1))
    firm = next(e for e, m in db.exec(select(Enterprise, ListMembership).join(
        ListMembership, ListMembership.enterprise_id == Enterprise.id).where(ListMembership.category == "specialized"))
        if m.valid_from <= date(2026, 1, 20) and (m.valid_to is None or date(2026, 1, 20) <= m.valid_to))
    loan = client.post("/loans", headers=bank.headers, json={
        "program": "sz-sme-pool", "security_type": "unsecured", "annual_rate": "0.0435", "contract_no": "UI-2026-001",
        "enterprise_uscc": firm.uscc, "principal": "2000000.00", "disbursed_on": "2026-01-20",
        "maturity_on": "2027-01-19"})
    assert loan.status_code == 201, loan.get_json()
    pin_today(app, date(2026, 9, 30))
    loan_id = loan.get_json()["id"]
    assert client.post(f"/loans/{loan_id}/status", headers=bank.with_(**{"If-Match": loan.headers["ETag"]}), json={
        "status": "non_performing", "as_of": "2026-09-30", "days_overdue": 120}).status_code == 200
    filed = client.post("/claims", headers=bank.headers, json={
        "loan_id": loan_id, "default_on": "2026-06-01", "outstanding_principal": "1500000.00", "days_overdue": 120,
        "classification": "substandard"})
    assert filed.status_code == 201, filed.get_json()
    claim = filed.get_json()
    assert claim["computed_amount"] == "100000.00"
    for kind, content, name in (("claim_form", chinese_pdf(["代偿申请表", "借款企业：" + firm.name, "申请代偿本金 1,500,000.00 元"]),
                                 "代偿申请表.pdf"), ("collection_statement", png(), "催收照片.png")):
        uploaded = client.post(f"/claims/{claim['id']}/documents", headers=bank.headers, content_type="multipart/form-data",
                               data={"kind": kind, "file": (io.BytesIO(content), name)})
        assert uploaded.status_code == 201, uploaded.get_json()
    from tests.helpers import attach_required

    claim = attach_required(client, bank.headers, client.get(f"/claims/{claim['id']}", headers=bank.headers).get_json())
    submitted = client.post(f"/claims/{claim['id']}/transitions", json={"action": "submit"},
                            headers=bank.with_(**{"If-Match": f'"{claim["version"]}"'}))
    assert submitted.status_code == 200, submitted.get_json()
    return submitted.get_json()
