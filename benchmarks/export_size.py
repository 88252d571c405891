"""Sizes of the serverless export, and how fast an exported page opens with the network cut.

    python benchmarks/export_size.py                       # every page, into a temporary folder
    python benchmarks/export_size.py --only dropout --out /tmp/offline --screenshots assets

For each page it prints: the grid's states, the tables they are stored in, the file's size
(raw and gzipped, as a web server would send it), what the inline JavaScript and the stored
states take of it, the time the export took, and the time headless Chromium takes to render
the file from disk with every request blocked (median of --loads). ``--screenshots DIR``
saves DIR/export-<page>.png of each page, full length, taken the same way.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from deeptricks import export as ex  # noqa: E402


def script_bytes(html: str) -> int:
    """Bytes of inline JavaScript (every <script> but the document's JSON)."""
    total = 0
    for m in re.finditer(r"<script([^>]*)>(.*?)</script>", html, re.S):
        if "application/json" not in m.group(1):
            total += len(m.group(2).encode())
    return total


def load_times(paths: list[Path], loads: int, shots: Path | None) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    import browser_harness as bh

    out = {}
    with sync_playwright() as pw:
        browser = bh.launch_chromium(pw)
        for path in paths:
            url = path.resolve().as_uri()
            times = []
            for i in range(loads):
                ctx = browser.new_context(viewport=bh.VIEWPORT)
                blocked = []
                ctx.route("**/*", lambda r: r.continue_() if r.request.url == url
                          else (blocked.append(r.request.url), r.abort()))
                page = ctx.new_page()
                t0 = time.perf_counter()
                page.goto(url)
                bh.wait_idle(page, timeout=120_000)
                times.append(time.perf_counter() - t0)
                if blocked:
                    print(f"  {path.name}: requests blocked: {blocked}")
                if shots is not None and i == 0:
                    shots.mkdir(parents=True, exist_ok=True)
                    page.wait_for_timeout(500)
                    page.screenshot(path=str(shots / f"export-{path.stem}.png"), full_page=True)
                ctx.close()
            out[path.stem] = statistics.median(times)
        browser.close()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=None, help="folder to export into (default: a temporary one)")
    ap.add_argument("--only", action="append", default=[], help="export only this page (repeatable)")
    ap.add_argument("--loads", type=int, default=3, help="page loads timed per file (0: none)")
    ap.add_argument("--screenshots", type=Path, default=None, help="save export-<page>.png here")
    args = ap.parse_args(argv)

    out = args.out or Path(tempfile.mkdtemp(prefix="deeptricks-export-"))
    names = args.only or [s.slug for s in ex.SPECS]
    rows = []
    for name in names:
        t0 = time.perf_counter()
        path, f = ex.export_page(ex.spec_for(name), out)
        took = time.perf_counter() - t0
        html = path.read_text(encoding="utf-8")
        rows.append((path, f, took, script_bytes(html)))
        print(f"exported {path} in {took:.1f} s", flush=True)
    loads = load_times([r[0] for r in rows], args.loads, args.screenshots) if args.loads else {}

    print(f"\nbudget: {ex.PAGE_BUDGET / 1e6:.1f} MB per page\n")
    print("| page | states (grid points) | tables | file | gzipped | inline JS | stored states | export | opens in |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path, f, took, js in rows:
        opened = f"{loads[path.stem]:.2f} s" if path.stem in loads else "-"
        flag = "" if f["bytes"] <= ex.PAGE_BUDGET else " (over budget)"
        print(f"| {path.stem} | {f['states']} | {len(f['tables'])} ({f['patches']} patches) "
              f"| {f['bytes'] / 1e6:.2f} MB{flag} | {f['gzip_bytes'] / 1e6:.2f} MB | {js / 1e6:.2f} MB "
              f"| {f['state_bytes'] / 1e6:.2f} MB | {took:.0f} s | {opened} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
