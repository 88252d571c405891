#!/usr/bin/env python3
"""Cold start and page load: how long until a learner sees a page.

    python benchmarks/cold_start.py [--trials 3] [--loads 5] [--routes dropout,batch_norm,...]

(With a fresh checkout, run `bash scripts/test.sh` once and use `.venv/bin/python`.)

Debian's headless Chromium (Playwright, 1280 × 900) is started first: a learner's
browser is already open. Then, per trial:

* cold: spawn ``deeptricks serve`` (a new Python process: imports, server start) and,
  as soon as it answers ``/liveness``, open the first route in a fresh browser page;
  measured from the spawn to the Bokeh document being idle in the page (the page is
  rendered: every view built and drawn). Also printed: spawn → server answering.
* warm: on the running server, open each route ``--loads`` times in a fresh page
  (a new session each time) and time navigation → document idle.

Medians over the trials / loads; target: the first page in under 3 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import browser_harness as bh  # noqa: E402
from load import Server  # noqa: E402

ROUTES = ("", "dropout", "batch_norm", "layer_norm", "residual", "lab")


def open_and_time(browser, url: str) -> float:
    """ms from navigation to the Bokeh document being idle, in a fresh context."""
    ctx = browser.new_context(viewport=bh.VIEWPORT)
    page = ctx.new_page()
    try:
        t0 = time.perf_counter()
        page.goto(url)
        bh.wait_idle(page, timeout=60_000)
        return (time.perf_counter() - t0) * 1000
    finally:
        ctx.close()


def cold(browser, route: str) -> tuple[float, float]:
    """(spawn -> liveness, spawn -> first page idle), in ms."""
    server = Server()
    try:
        server.start(timeout=120)   # polls /liveness every 50 ms
        t_live = time.perf_counter()
        ms = open_and_time(browser, f"{server.base}/{route}")
        return (t_live - server.t_spawn) * 1000, (t_live - server.t_spawn) * 1000 + ms
    finally:
        server.stop()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=3, help="cold starts (default 3)")
    ap.add_argument("--loads", type=int, default=5, help="warm page loads per route (default 5)")
    ap.add_argument("--routes", default=",".join(r or "index" for r in ROUTES),
                    help="comma-separated routes ('index' = /)")
    ap.add_argument("--first", default="dropout", help="route opened by the cold start (default dropout)")
    args = ap.parse_args(argv)
    routes = ["" if r.strip() == "index" else r.strip() for r in args.routes.split(",") if r.strip()]
    print(f"[cold_start] load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
          file=sys.stderr)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = bh.launch_chromium(pw)
        try:
            first = "" if args.first == "index" else args.first
            colds = [cold(browser, first) for _ in range(args.trials)]
            warm: dict[str, list[float]] = {}
            with Server() as server:
                for r in routes:        # one load each first: the route's modules imported
                    open_and_time(browser, f"{server.base}/{r}")
                for _ in range(args.loads):
                    for r in routes:
                        warm.setdefault(r, []).append(open_and_time(browser, f"{server.base}/{r}"))
                    urllib.request.urlopen(server.base + "/liveness").close()
        finally:
            browser.close()

    live = statistics.median(c[0] for c in colds)
    page = statistics.median(c[1] for c in colds)
    print(f"\ncold start, median of {args.trials} (browser already open):")
    print(f"  spawn `deeptricks serve` -> server answers:        {live:7.0f} ms")
    print(f"  spawn -> first page (/{first}) rendered and idle:  {page:7.0f} ms   "
          f"({'under' if page < 3000 else 'OVER'} the 3 s target; all: "
          f"{', '.join(f'{c[1]:.0f}' for c in colds)})")
    print(f"\nwarm server, navigation -> document idle, median of {args.loads} (min-max):")
    for r in routes:
        v = warm[r]
        print(f"  /{r:<11} {statistics.median(v):7.0f} ms   ({min(v):.0f}-{max(v):.0f})")
    print(f"(load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
