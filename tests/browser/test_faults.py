"""Tabs that close at the worst moment: during a training run in the lab, right after a
slider move on the dropout page. The server must stay quiet (the serve_app fixture fails
the test on any traceback in its log: asyncio used to print "Task exception was never
retrieved ... WebSocketClosedError" here) and keep serving the other learners.

Freeing the closed sessions and the session lifetime are tested without a browser in
tests/test_sessions.py."""

from __future__ import annotations

from browser_harness import source_data, wait_for, wait_idle

LAB, DROPOUT = "apps/lab.py", "apps/dropout.py"


def test_tabs_closed_mid_training_or_mid_update_leave_no_traceback(serve_app, browser):
    lab, dropout = serve_app(LAB), serve_app(DROPOUT)
    for wait_ms in (400, 900):                 # close while the lab trains and streams its curves
        page = browser.new_page()
        page.goto(lab.url)
        wait_idle(page)
        page.get_by_role("button", name="▶ Start").click()
        page.wait_for_timeout(wait_ms)
        page.close()
    for wait_ms in (0, 30):                    # close while the dropout update is computed or sent
        page = browser.new_page()
        page.goto(dropout.url)
        wait_idle(page)
        page.locator(".noUi-handle").first.press("ArrowRight")
        page.wait_for_timeout(wait_ms)
        page.close()

    # another learner is still served: a move changes the plot
    page = browser.new_page()
    try:
        page.goto(dropout.url)
        wait_idle(page)
        before = source_data(page, "dropout-dropped")["col"]
        for _ in range(4):
            page.locator(".noUi-handle").first.press("ArrowRight")
        wait_for(lambda: source_data(page, "dropout-dropped")["col"] != before, "the dropout grid to update")
        page.wait_for_timeout(1000)            # late errors from the closed tabs reach the log
    finally:
        page.close()
