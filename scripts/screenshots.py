"""Take screenshots of the explorables in headless Chromium.

    python scripts/screenshots.py [APP ...] [--out assets] [--width 1280] [--phone]

Serves the given app files (default: every apps/*.py) with `panel serve`,
opens each route, waits for Bokeh to finish rendering and saves
``<out>/<app>.png`` (and ``<out>/<app>-phone.png`` at 390 px with --phone).
A ``?query`` may follow an app name: ``dropout?p=0.9``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from browser_harness import launch_chromium, serve, wait_idle  # noqa: E402


def make_thumbnail(shot: Path, out: Path) -> None:
    """The top 1280x800 of a screenshot, shrunk to 480x300, as the index page's card image."""
    from PIL import Image

    with Image.open(shot) as im:
        top = im.crop((0, 0, min(im.width, 1280), min(im.height, 800)))
        top.thumbnail((480, 300), Image.LANCZOS)
        out.parent.mkdir(parents=True, exist_ok=True)
        top.convert("RGB").quantize(colors=96, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    print(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("apps", nargs="*", help="app names under apps/ (default: all), optionally with ?query")
    ap.add_argument("--out", default=str(ROOT / "assets"))
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--phone", action="store_true", help="also take a 390-px-wide screenshot")
    ap.add_argument("--suffix", default="", help="added to the file name before .png")
    ap.add_argument("--viewport-only", action="store_true", help="only the first screen, not the full page")
    ap.add_argument("--thumbs", action="store_true",
                    help="also write 480x300 thumbnails of each page's top to src/deeptricks/assets/thumbs/")
    args = ap.parse_args()

    specs = args.apps or sorted(p.stem for p in (ROOT / "apps").glob("*.py"))
    names = [s.split("?")[0] for s in specs]
    files = sorted({str(ROOT / "apps" / f"{n}.py") for n in names})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    server = serve(files)
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            sizes = [(args.width, args.height, "")] + ([(390, 844, "-phone")] if args.phone else [])
            for spec, name in zip(specs, names):
                query = spec[len(name):]
                for w, h, tag in sizes:
                    page = browser.new_page(viewport={"width": w, "height": h})
                    page.goto(f"{server.base_url}/{name}{query}")
                    wait_idle(page)
                    time.sleep(1.0)
                    path = out / f"{name}{args.suffix}{tag}.png"
                    page.screenshot(path=str(path), full_page=not args.viewport_only)
                    print(path)
                    if args.thumbs and not tag and not query:
                        make_thumbnail(path, ROOT / "src" / "deeptricks" / "assets" / "thumbs" / f"{name}.png")
                    page.close()
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
