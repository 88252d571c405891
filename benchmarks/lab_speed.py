#!/usr/bin/env python3
"""Training speed of the lab with the page open and updating.

    python benchmarks/lab_speed.py [--mode both|browser|inprocess] [--trials 3] [--seconds 6]
                                   [--query "preset=ensemble"]

(With a fresh checkout, run `bash scripts/test.sh` once and use `.venv/bin/python`.)

The network is the lab's default: 6 blocks × 32 units, ReLU, batch norm, dropout 0.1, Adam,
batch 64, two moons (or whatever ``--query`` sets, e.g. ``preset=dropout``).

browser:    serves apps/lab.py with `panel serve`, opens it in Debian's headless Chromium
            (Playwright, 1280 × 900) and, per trial: reloads the page, presses Start and
            measures inside the page the time from the click to the first change of the
            decision-boundary image (``start → boundary``: the server trained its first
            batch of steps, drew the boundary and the browser received it); then lets it
            train for ``--seconds`` and reads the step counter the page shows at the start
            and end of that window (``steps/s``) and counts how often the boundary image and
            the loss curve changed in the browser (``updates/s``), the frames the browser
            drew in that window (``frames/s``, requestAnimationFrame callbacks), and then the
            time from a click on the guided path's "Next →" to the card showing the next step
            while the net still trains (``click → answer``: what a learner waits for while the
            page is busy; the live updates are paced to the browser, see deeptricks.ui.pacing).
            Server and browser share the machine's cores, as they would for a learner running
            both locally.
inprocess:  the page object without a server or browser: Start, then the periodic callback
            is imitated (a tick every 100 ms, each tick training within its time budget and
            pushing one update to the Bokeh models); Bokeh serialization and the network are
            left out, so this is the ceiling the browser number approaches.

Prints the median (and min–max) over the trials.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT / "src"))

IMAGE = "lab-boundary-a-image"
LOSS = "lab-loss-train-source"
TITLE = "lab-boundary-a-title"

PROBE_JS = """
([image, loss]) => {
  const doc = Bokeh.documents[0];
  const img = doc.get_model_by_name(image), curve = doc.get_model_by_name(loss);
  const P = {t_click: null, t_first: null, images: [], curves: []};
  img.properties.data.change.connect(() => {
    const t = performance.now();
    P.images.push(t);
    if (P.t_click != null && P.t_first == null) P.t_first = t;
  });
  curve.streaming.connect(() => P.curves.push(performance.now()));
  window.addEventListener("click", () => { if (P.t_click == null) P.t_click = performance.now(); }, true);
  P.frames = 0;
  const frame = () => { P.frames++; requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  window.__labProbe = P;
}
"""


def _median(xs):
    return statistics.median(xs) if xs else float("nan")


def _fmt(name, xs, unit, digits=0):
    if not xs:
        return f"{name:<34} n/a"
    return (f"{name:<34} median {_median(xs):8.{digits}f} {unit}   "
            f"(min {min(xs):.{digits}f}, max {max(xs):.{digits}f}, n={len(xs)})")


def _step_from_title(page) -> int | None:
    import browser_harness as bh
    text = bh.model_prop(page, TITLE, "text") or ""
    m = re.search(r"step ([\d,]+)", text)
    return int(m.group(1).replace(",", "")) if m else None


def _click_answer(page) -> float | None:
    """Milliseconds from a mouse click on the step card's "Next →" to the card showing the next
    step (polled every 10 ms), then back again; None when the page shows no step card."""
    card = page.locator("section.card")
    if not card.count() or not card.locator(".pos").inner_text().startswith("Step "):
        return None
    before = card.locator(".pos").inner_text()
    box = card.get_by_role("button", name="Next →").bounding_box()
    t0 = time.perf_counter()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    while card.locator(".pos").inner_text() == before and time.perf_counter() - t0 < 60:
        time.sleep(0.01)
    ms = 1000 * (time.perf_counter() - t0)
    card.get_by_role("button", name="← Back").click()
    return ms


def browser(trials: int, seconds: float, query: str) -> dict:
    import browser_harness as bh
    from playwright.sync_api import sync_playwright

    out = {"first_ms": [], "steps_s": [], "updates_s": [], "curve_updates_s": [], "frames_s": [],
           "answer_ms": []}
    server = bh.serve(["apps/lab.py"])
    try:
        with sync_playwright() as pw:
            chromium = bh.launch_chromium(pw)
            page = chromium.new_page(viewport=bh.VIEWPORT)
            url = server.url + (f"?{query}" if query else "")
            for k in range(trials):
                page.goto(url)
                bh.wait_idle(page)
                page.wait_for_timeout(500)
                page.evaluate(PROBE_JS, [IMAGE, LOSS])
                page.get_by_role("button", name="▶ Start").click()
                page.wait_for_function("() => window.__labProbe.t_first != null", timeout=30_000)
                first = page.evaluate("() => window.__labProbe.t_first - window.__labProbe.t_click")
                page.wait_for_timeout(1000)                 # settle into the steady state
                t0, s0 = time.perf_counter(), _step_from_title(page)
                counts = "() => [window.__labProbe.images.length, window.__labProbe.curves.length, " \
                         "window.__labProbe.frames]"
                n0 = page.evaluate(counts)
                page.wait_for_timeout(int(seconds * 1000))
                t1, s1 = time.perf_counter(), _step_from_title(page)
                n1 = page.evaluate(counts)
                answer = _click_answer(page)
                page.get_by_role("button", name="Pause", exact=True).click()
                page.wait_for_timeout(500)                  # let the last update arrive
                dt = t1 - t0
                out["first_ms"].append(first)
                out["steps_s"].append((s1 - s0) / dt)
                out["updates_s"].append((n1[0] - n0[0]) / dt)
                out["curve_updates_s"].append((n1[1] - n0[1]) / dt)
                out["frames_s"].append((n1[2] - n0[2]) / dt)
                if answer is not None:
                    out["answer_ms"].append(answer)
                print(f"  browser trial {k + 1}: start→boundary {first:.0f} ms, {(s1 - s0) / dt:.0f} steps/s, "
                      f"boundary {(n1[0] - n0[0]) / dt:.1f}/s, loss curve {(n1[1] - n0[1]) / dt:.1f}/s, "
                      f"{(n1[2] - n0[2]) / dt:.1f} frames/s, click → answer "
                      f"{'n/a' if answer is None else f'{answer:.0f} ms'}", flush=True)
            chromium.close()
        errors = server.errors_since(0)
        if errors:
            print("server logged errors:\n" + errors[-3000:])
            raise SystemExit(1)
    finally:
        server.stop()
    return out


def inprocess(trials: int, seconds: float, query: str) -> dict:
    import urllib.parse

    from deeptricks.explorables.lab import TICK_MS, LabPage, LabState
    from deeptricks.ui import coerce_query

    out = {"first_ms": [], "steps_s": [], "tick_ms": []}
    for k in range(trials):
        state = LabState()
        if query:
            from deeptricks.explorables.lab import URL_PARAMS
            raw = urllib.parse.parse_qs(query)
            if "preset" in raw:
                state.apply_preset(raw["preset"][-1])
            values, _ = coerce_query(state, raw, URL_PARAMS)
            state.param.update(**values)
        page = LabPage(state)
        page.layout()
        t_click = time.perf_counter()
        page.start()                                  # trains a first batch and draws
        first = (page.first_boundary_at or time.perf_counter()) - t_click
        ticks = []
        t_next = time.perf_counter() + TICK_MS / 1000
        t0, s0 = time.perf_counter(), page.session.step_count
        while time.perf_counter() - t0 < seconds:
            time.sleep(max(0.0, t_next - time.perf_counter()))
            t_next += TICK_MS / 1000
            a = time.perf_counter()
            page._tick()
            ticks.append(time.perf_counter() - a)
        dt = time.perf_counter() - t0
        rate = (page.session.step_count - s0) / dt
        out["first_ms"].append(first * 1000)
        out["steps_s"].append(rate)
        out["tick_ms"].append(1000 * _median(ticks))
        print(f"  in-process trial {k + 1}: start→boundary {first * 1000:.0f} ms, {rate:.0f} steps/s, "
              f"median tick {1000 * _median(ticks):.0f} ms", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=("both", "browser", "inprocess"), default="both")
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=6.0, help="length of the measured training window")
    ap.add_argument("--query", default="", help="URL query of the configuration, e.g. 'preset=dropout'")
    args = ap.parse_args()
    what = args.query or "the default lab net (6 × 32, batch norm, dropout 0.1, batch 64)"
    print(f"lab speed: {what}; {args.trials} trials of {args.seconds:g} s")
    if args.mode in ("both", "inprocess"):
        r = inprocess(args.trials, args.seconds, args.query)
        print("in-process (page object, no server or browser):")
        print(_fmt("  training steps per second", r["steps_s"], "steps/s"))
        print(_fmt("  Start → first boundary computed", r["first_ms"], "ms"))
        print(_fmt("  tick (train + update)", r["tick_ms"], "ms"))
    if args.mode in ("both", "browser"):
        r = browser(args.trials, args.seconds, args.query)
        print("browser (panel serve + headless Chromium on the same machine):")
        print(_fmt("  training steps per second", r["steps_s"], "steps/s"))
        print(_fmt("  Start click → boundary changed", r["first_ms"], "ms"))
        print(_fmt("  boundary updates per second", r["updates_s"], "/s", 1))
        print(_fmt("  loss-curve updates per second", r["curve_updates_s"], "/s", 1))
        print(_fmt("  frames drawn per second", r["frames_s"], "/s", 1))
        print(_fmt("  click on Next → card answers", r["answer_ms"], "ms"))


if __name__ == "__main__":
    main()
