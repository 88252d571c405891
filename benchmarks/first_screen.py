#!/usr/bin/env python3
"""What a learner sees before scrolling: words of prose on each page's first screen.

    python benchmarks/first_screen.py [--width 1280 --height 800] [--apps dropout,batch_norm,...]

(With a fresh checkout, run `bash scripts/test.sh` once and use `.venv/bin/python`.)

Serves the pages with `panel serve`, opens each in Debian's headless Chromium at the given
viewport (default 1280 × 800) and counts the words of every text node drawn inside the
viewport (Panel's shadow roots included; text drawn on Bokeh's canvases, such as titles and
axis labels, is not prose and not counted), split into the step card and the rest. It also
prints where the step card, the page's first figure and its main control sit (top and bottom
in px) so the "all three without scrolling" target can be read off.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import browser_harness as bh  # noqa: E402

WORDS_JS = r"""
(height) => {
  const out = { card: 0, rest: 0 };
  function walk(root, inCard) {
    for (const node of root.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) {
        const text = node.textContent.trim();
        if (!text) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        const r = range.getBoundingClientRect();
        if (r.width === 0 || r.bottom <= 0 || r.top >= height) continue;
        const style = getComputedStyle(node.parentElement);
        if (style.visibility === "hidden" || style.display === "none") continue;
        if (node.parentElement.closest("[aria-live]")) continue;          // the screen reader's copy
        out[inCard ? "card" : "rest"] += text.split(/\s+/).filter(w => /[A-Za-z0-9]/.test(w)).length;
      } else if (node.nodeType === Node.ELEMENT_NODE) {
        if (["SCRIPT", "STYLE", "TEMPLATE"].includes(node.tagName)) continue;
        const card = inCard || node.matches("section.card");
        if (node.shadowRoot) walk(node.shadowRoot, card);
        walk(node, card);
      }
    }
  }
  walk(document.body, false);
  return out;
}
"""

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=800)
    ap.add_argument("--apps", default=",".join(bh.FIRST_SCREEN))
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    slugs = args.apps.split(",")
    server = bh.serve([f"apps/{s}.py" for s in slugs])
    try:
        with sync_playwright() as pw:
            chromium = bh.launch_chromium(pw)
            page = chromium.new_page(viewport={"width": args.width, "height": args.height})
            print(f"first screen at {args.width} × {args.height}: words of prose (step card + rest), "
                  f"and where the card, the first figure and the main control sit (top–bottom, px)")
            for slug in slugs:
                page.goto(server.urls[slug])
                bh.wait_idle(page)
                page.wait_for_timeout(800)
                words = page.evaluate(WORDS_JS, args.height)
                boxes = bh.first_screen_boxes(page, slug)
                where = "  ".join(f"{k} {v[0]}–{v[1]}" if v else f"{k} n/a" for k, v in boxes.items())
                print(f"  {slug:<11} {words['card'] + words['rest']:4d} words ({words['card']} card + "
                      f"{words['rest']} rest)   {where}", flush=True)
            chromium.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
