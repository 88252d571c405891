"""Screenshots of every view (or the ones named) as a course page would frame them.

    python scripts/view_shots.py [NAME/VIEW[?query] ...] [--width 700] [--out assets/views]

Starts ``deeptricks serve``, opens each ``/NAME/VIEW`` in headless Chromium at the given
width, waits until it is drawn, saves ``<out>/<NAME>-<VIEW>.png`` and prints each view's
height (the target: at most 650 px at 700 px wide).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from browser_harness import launch_chromium, wait_idle  # noqa: E402
from deeptricks_server import DeeptricksServer  # noqa: E402


def view_height(page) -> int:
    """The height of the view's content (what an iframe sized to it would be)."""
    return page.evaluate("() => Math.ceil(document.documentElement.scrollHeight)")


def main(argv=None) -> int:
    from playwright.sync_api import sync_playwright

    from deeptricks.explorables.registry import view_routes

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("views", nargs="*", help="NAME/VIEW, optionally with ?query (default: every view)")
    ap.add_argument("--width", type=int, default=700)
    ap.add_argument("--out", default=str(ROOT / "assets" / "views"))
    ap.add_argument("--suffix", default="")
    args = ap.parse_args(argv)
    wanted = args.views or [f"{e.slug}/{v.name}" for e, v in view_routes()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    server = DeeptricksServer((), ()).start()
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": args.width, "height": 400})
            for route in wanted:
                page.goto(f"{server.base_url}/{route}")
                wait_idle(page, timeout=60_000)
                page.wait_for_timeout(300)
                height = view_height(page)
                name = route.split("?")[0].replace("/", "-") + args.suffix
                page.screenshot(path=str(out / f"{name}.png"), full_page=True)
                print(f"{route:40s} {height:5d} px tall at {args.width} px")
            browser.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
