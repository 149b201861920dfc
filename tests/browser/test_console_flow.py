"""The bureau's console in real headless Chromium: review, reduced approval, payment, and who may do what."""
from __future__ import annotations

from selenium.webdriver.common.by import By

from tests.browser.pages import budget_row, flash, log_in, log_out, offered, press, submitted_claim

PROGRAM = "sz-sme-pool"


def test_reviewer_approver_and_payer_take_a_claim_to_payment_and_the_budget_moves_by_that_amount(
        app, client, callers, db, live_server, browser, screens):
    claim = submitted_claim(app, client, callers, db)
    base, driver = live_server, browser

    log_in(driver, base, "reviewer1")
    paid_before, available_before = budget_row(driver, base, PROGRAM, 2026)
    assert (paid_before, available_before) == (0, 100_000_000_00)  # the 2026 appropriation, nothing used yet

    driver.get(f"{base}/console/")
    tile = driver.find_element(By.CSS_SELECTOR, "[data-count='claim-first_review']")
    assert tile.text == "1"
    screens(driver, "home")
    driver.find_element(By.LINK_TEXT, "代偿·初审").click()
    assert "代偿申请 · 初审队列" in driver.find_element(By.TAG_NAME, "h1").text
    row = driver.find_element(By.XPATH, f"//a[text()='代偿 #{claim['id']}']/ancestor::tr")
    assert "示例科技银行" in row.text and "¥100,000.00" in row.text and "已提交" in row.text
    screens(driver, "queue")
    driver.find_element(By.LINK_TEXT, f"代偿 #{claim['id']}").click()

    # The trace, step by step in Chinese, and the binding cap marked.
    trace = driver.find_element(By.CSS_SELECTOR, "table.trace").text
    for text in ("损失基数 ¥1,500,000.00", "基础补偿比例 0.30", "上浮：国家高新技术企业", "补偿比例上限 0.40",
                 "按比例计算金额 ¥600,000.00", "合作机构年度上限（当年备案本金比例） ¥100,000.00", "此项封顶",
                 "核定金额 ¥100,000.00"):
        assert text in trace, (text, trace)
    bound = driver.find_element(By.CSS_SELECTOR, "tr.trace-bound").text
    assert "贷款备案当年的备案本金 ¥2,000,000.00 × 0.05，向下取整到分" in bound
    # Both documents preview inline: the photo as it is, the PDF's first page drawn as an image (560 px wide).
    previews = [driver.find_element(By.CSS_SELECTOR, f".preview img[alt^='{name}']") for name in ("代偿申请表.pdf", "催收照片.png")]
    driver.execute_script("arguments[0].scrollIntoView()", previews[-1])
    widths = [driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", p) for p in previews]
    assert widths == [560, 240]
    assert "代偿申请表" in driver.find_element(By.CSS_SELECTOR, ".previews").text
    driver.execute_script("window.scrollTo(0, 0)")
    screens(driver, "claim")

    assert offered(driver) == ["start_review", "return", "reject"]
    press(driver, "start_review")
    assert "已开始初审" in flash(driver)
    assert offered(driver) == ["pass", "return", "reject"]
    press(driver, "pass")
    assert "初审通过" in flash(driver)
    assert offered(driver) == []  # reviewer1 has no role in second review
    log_out(driver)

    log_in(driver, base, "approver1")
    driver.find_element(By.LINK_TEXT, "代偿·复审").click()
    driver.find_element(By.LINK_TEXT, f"代偿 #{claim['id']}").click()
    assert offered(driver) == ["approve", "reject"]
    press(driver, "approve", amount="88,888.88", reason="核减：抵押物处置款尚未到账部分不予补偿")
    assert "复审已批准" in flash(driver)
    assert "批准金额 ¥88,888.88" in driver.find_element(By.CSS_SELECTOR, "section.amount").text
    history = driver.find_element(By.CSS_SELECTOR, "ol.history").text
    assert "复审员 王芳：复审批准（复审中 → 已批准待拨付） ¥88,888.88" in history
    assert "理由：核减：抵押物处置款尚未到账部分不予补偿" in history
    log_out(driver)

    log_in(driver, base, "payer1")
    driver.find_element(By.LINK_TEXT, "代偿·拨付").click()
    driver.find_element(By.LINK_TEXT, f"代偿 #{claim['id']}").click()
    assert offered(driver) == ["pay"]
    press(driver, "pay")
    assert "已拨付" in flash(driver)
    paid_after, available_after = budget_row(driver, base, PROGRAM, 2026)
    assert paid_after - paid_before == 88_888_88
    assert available_before - available_after == 88_888_88
    text = driver.find_element(By.CSS_SELECTOR, "table.budget").text
    assert "¥88,888.88" in text and "¥99,911,111.12" in text
    screens(driver, "program")
