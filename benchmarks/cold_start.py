#!/usr/bin/env python3
"""Cold start and page load: how long until a learner sees a page.

    python benchmarks/cold_start.py [--trials 3] [--loads 5] [--routes dropout,batch_norm,...]

(With a fresh checkout, run `bash scripts/test.sh` once and use `.venv/bin/python`.)

Debian's headless Chromium (Playwright, 1280 × 900) is started first: a learner's
browser is already open. Then, per trial:

* cold: spawn ``deeptricks serve`` (a new Python process: imports, server start) and,
  as soon as it answers ``/liveness``, open the first route in a fresh browser page.
  Measured from the spawn to
  - *first screen*: the Bokeh document idle after its first render (the header, the
    controls and the first section drawn: what a 1280 × 900 window shows), and
  - *whole page*: every section drawn, including those the page sends once the first
    screen is drawn (``ui.layout.after_first_render``).
  Also printed: spawn → server answering.
* warm: on the running server, open each route ``--loads`` times in a fresh page
  (a new session each time) and time navigation → first screen and → whole page.

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


def open_and_time(browser, url: str) -> tuple[float, float]:
    """ms from navigation to (the first screen drawn, the whole page drawn), in a fresh context."""
    ctx = browser.new_context(viewport=bh.VIEWPORT)
    page = ctx.new_page()
    try:
        t0 = time.perf_counter()
        page.goto(url)
        bh.wait_first_render(page, timeout=60_000)
        t1 = time.perf_counter()
        bh.wait_idle(page, timeout=60_000)
        return (t1 - t0) * 1000, (time.perf_counter() - t0) * 1000
    finally:
        ctx.close()


def cold(browser, route: str) -> tuple[float, float, float]:
    """(spawn -> liveness, spawn -> first screen, spawn -> whole page), in ms."""
    server = Server()
    try:
        server.start(timeout=120)   # polls /liveness every 50 ms
        live = (time.perf_counter() - server.t_spawn) * 1000
        first, whole = open_and_time(browser, f"{server.base}/{route}")
        return live, live + first, live + whole
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
            first_route = "" if args.first == "index" else args.first
            colds = [cold(browser, first_route) for _ in range(args.trials)]
            warm: dict[str, list[tuple[float, float]]] = {}
            with Server() as server:
                for r in routes:        # one load each first: the route's modules imported
                    open_and_time(browser, f"{server.base}/{r}")
                for _ in range(args.loads):
                    for r in routes:
                        warm.setdefault(r, []).append(open_and_time(browser, f"{server.base}/{r}"))
                    urllib.request.urlopen(server.base + "/liveness").close()
        finally:
            browser.close()

    live, first, whole = (statistics.median(c[i] for c in colds) for i in range(3))
    print(f"\ncold start, median of {args.trials} (browser already open):")
    print(f"  spawn `deeptricks serve` -> server answers:     {live:7.0f} ms")
    print(f"  spawn -> first screen of /{first_route} drawn:   {first:7.0f} ms   "
          f"({'under' if first < 3000 else 'OVER'} the 3 s target; all: "
          f"{', '.join(f'{c[1]:.0f}' for c in colds)})")
    print(f"  spawn -> whole page drawn:                   {whole:7.0f} ms   "
          f"({'under' if whole < 3000 else 'OVER'} 3 s; all: {', '.join(f'{c[2]:.0f}' for c in colds)})")
    print(f"\nwarm server, navigation -> first screen / whole page drawn, median of {args.loads} "
          "(whole page min-max):")
    for r in routes:
        v = warm[r]
        whole_v = [x[1] for x in v]
        print(f"  /{r:<11} {statistics.median(x[0] for x in v):7.0f} / {statistics.median(whole_v):5.0f} ms   "
              f"({min(whole_v):.0f}-{max(whole_v):.0f})")
    print(f"(load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
