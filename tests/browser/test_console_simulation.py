"""A what-if simulation started from the console in real headless Chromium: the form, the progress, the totals."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from selenium.webdriver.support.wait import WebDriverWait

from tests.api.simulation_history import seed_history
from tests.browser.pages import flash, log_in, submit_and_wait


def test_an_auditor_starts_a_simulation_of_a_draft_and_reads_its_totals_when_it_is_done(
        app, client, callers, db, live_server, browser, screens):
    seed_history(db)
    drafted = client.post("/programs/sz-sme-pool/drafts/copy", json={
        "from_version": "2023.1", "version": "2028.12", "set": {"compensation.uplifts[0].add": "0.15"}},
        headers=callers["admin"].headers)
    assert drafted.status_code == 201, drafted.get_json()
    base, driver = live_server, browser

    log_in(driver, base, "auditor1")
    driver.get(f"{base}/console/programs/sz-sme-pool")
    driver.find_element(By.LINK_TEXT, "政策模拟：用草案重算历史").click()
    form = driver.find_element(By.ID, "start-simulation")
    Select(form.find_element(By.NAME, "version")).select_by_visible_text("2028.12")
    for name, day in (("date_from", "2025-01-01"), ("date_to", "2025-12-31")):
        # A date input takes its value in the browser's locale when typed; set it as the form will send it.
        driver.execute_script("arguments[0].value = arguments[1]", form.find_element(By.NAME, name), day)
    assert form.find_element(By.NAME, "claims").is_selected()
    screens(driver, "simulation-form")
    submit_and_wait(driver, form.find_element(By.XPATH, ".//button[text()='开始模拟']"))
    assert "已开始：草案 2028.12，2025-01-01 至 2025-12-31" in flash(driver)

    # The page reloads itself every 3 s while the simulation runs.
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-status='done']"))
    assert driver.find_element(By.CSS_SELECTOR, "[data-status='done']").text.startswith("已完成：9 / 9")
    computed = driver.find_element(By.CSS_SELECTOR, "tr[data-total='computed']").text
    assert computed == "计算金额 2950000.00 3050000.00 100000.00"
    screens(driver, "simulation-done")
