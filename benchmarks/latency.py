#!/usr/bin/env python3
"""Slider-to-repaint latency of the explainers, against a bare-Panel floor.

    python benchmarks/latency.py [--moves 30] [--apps floor,dropout,batch_norm] [--procs 1]

(With a fresh checkout, run `bash scripts/test.sh` once and use `.venv/bin/python`.)

For each app in APPS it starts a server (the floor with `panel serve`, the explorables
with `deeptricks serve`, as deployed), opens the page in Debian's
headless Chromium (Playwright), then `--moves` times presses an arrow key on the
slider's noUiSlider handle (one press = one step; the direction flips at an end)
and measures, inside the page, from the keydown to

  * data:  the watched ColumnDataSource's `data` changed (server round trip done);
  * paint: the PlotView drawing that source emitted `repainted` after the change
           (BokehJS's canvas paint finished);
  * frame: the next requestAnimationFrame after that paint (the painted frame was
           handed to the compositor) -- the number reported as "latency".

Between moves it waits until the source has been quiet for 150 ms, so a late update
cannot be booked to the next move. It then does a drag check: a continuous real
mouse drag along the slider, release, wait until quiet, record the slider value and
the plotted data; nudge the slider one step away and back with the keyboard (a fresh
single update at the same value) and require identical data: a stale update that
won after the drag would show up as a difference. Medians/p95 are printed side by
side with the floor app as the baseline (ratio to the floor). Exit code 1 when a
measured app fails (errors, timeouts or a failed drag check); missing app files are
skipped with a message.

--procs N runs N client processes (each its own Chromium and Bokeh session) against
the same server at the same time: latency under N concurrent users. The drag check
runs in client 0.

--jump: instead of one arrow-key step, each move clicks the slider's track at a random
place (seeded), so the value jumps anywhere on its range, as a click on the track, a
typed link or a course page's view asks for; timed from the pointerdown. It waits
--settle seconds (default 20) after the page loads before measuring, the time a server
has been up before a class arrives, in which it computes the main controls' whole range
for the default settings when --range-warmup is given (``Prefetcher(ranges=...)``,
DEEPTRICKS_RANGE_WARMUP=1); run with and without it for the side-by-side.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import statistics
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import browser_harness as bh  # noqa: E402


@dataclass(frozen=True)
class AppSpec:
    """How to drive one app.

    file:   app file, relative to the repo root (served with `panel serve`), or
            "deeptricks:<route>": that page of `deeptricks serve`, the way the
            explorables are deployed (the server also freezes its start-up objects
            out of the garbage collector's way, which `panel serve` cannot).
    slider: which noUiSlider to move: "title:<widget name>" (the Bokeh Slider whose
            title is that, i.e. a Panel slider's `name`) or a Playwright selector of
            the handle (".noUi-handle" = the first slider on the page).
    source: `name` of the ColumnDataSource that must change after a move.
    """

    file: str
    slider: str
    source: str

    @property
    def route(self) -> str | None:
        return self.file.split(":", 1)[1] if self.file.startswith("deeptricks:") else None

    def exists(self) -> bool:
        return self.route is not None or (ROOT / self.file).is_file()

    def serve(self):
        """The running server (a context manager) and the URL of the page."""
        if self.route is None:
            server = bh.serve(self.file)
            return server, server.url
        from deeptricks_server import DeeptricksServer

        server = DeeptricksServer((), ()).start()
        return server, f"{server.base_url}/{self.route}"


# Pluggable: add the explainers here as they land (key -> how to drive it). An entry
# whose file does not exist yet is skipped with a message.
APPS: dict[str, AppSpec] = {
    "floor": AppSpec("benchmarks/apps/floor.py", "title:shift", "floor_hist"),
    # the watched source is one of the last a page update sets (all are sent in one batch)
    "dropout": AppSpec("deeptricks:dropout", "title:Dropout rate p", "dropout-hist-train-source"),
    # the weight-scale slider recomputes all three nets (the most expensive control)
    "batch_norm": AppSpec("deeptricks:batch_norm", "title:Weight scale (init gain)", "bn-right-values-source"),
    "layer_norm": AppSpec("deeptricks:layer_norm", "title:Batch size", "ln-shrink-bn-source"),
    "residual": AppSpec("deeptricks:residual", "title:Depth (blocks)", "residual-grad-residual-source"),
}
BASELINE = "floor"

MOVE_TIMEOUT_MS = 10_000
QUIET_MS = 150
WARMUP_MOVES = 3

# Instruments the page: counts changes of the watched source and paints of the plots
# drawing it, and times each keyboard move (see the module docstring).
JS_PROBE = """
(name) => {
  const doc = Bokeh.documents[0];
  const src = doc.get_model_by_name(name);
  if (src == null) throw new Error(`no Bokeh model named '${name}'`);
  if (src.data === undefined) throw new Error(`model '${name}' (${src.type}) is not a data source`);
  const rviews = [...Bokeh.index.query((v) => v.model != null && v.model.data_source === src)];
  const pviews = [...new Set(rviews.map((v) => v.plot_view).filter((v) => v != null))];
  if (pviews.length == 0) throw new Error(`no plot on the page draws source '${name}'`);
  const P = {seq: 0, armed: false, t_input: 0, t_change: null, t_paint: null,
             n_changes: 0, n_paints: 0, t_last_change: -1e9, t_up: null, results: {}, waiters: []};
  P.arm = (t) => { P.seq += 1; P.armed = true; P.t_input = t; P.t_change = null; P.t_paint = null; };
  const on_change = () => {
    const t = performance.now();
    P.n_changes += 1; P.t_last_change = t;
    if (P.armed && P.t_change == null) P.t_change = t;
  };
  src.properties.data.change.connect(on_change);
  src.streaming.connect(on_change);
  src.patching.connect(on_change);
  const on_paint = () => {
    const t = performance.now();
    P.n_paints += 1;
    if (!(P.armed && P.t_change != null && P.t_paint == null)) return;
    P.t_paint = t;
    const seq = P.seq;
    requestAnimationFrame(() => {
      if (seq !== P.seq) return;
      const t_frame = performance.now();
      P.results[seq] = {seq, data: P.t_change - P.t_input, paint: P.t_paint - P.t_input,
                        frame: t_frame - P.t_input};
      P.armed = false;
      P.waiters = P.waiters.filter((w) => !w());
    });
  };
  for (const pv of pviews) pv.repainted.connect(on_paint);
  window.addEventListener("keydown", (e) => {
    if (e.key.startsWith("Arrow") || e.key.startsWith("Page") || e.key == "Home" || e.key == "End")
      P.arm(performance.now());
  }, true);
  window.addEventListener("pointerup", () => { P.t_up = performance.now(); }, true);
  window.addEventListener("pointerdown", () => { if (P.jump) P.arm(performance.now()); }, true);
  P.wait = (seq, timeout) => new Promise((resolve) => {
    const check = () => { const r = P.results[seq]; if (r) resolve(r); return r != null; };
    if (check()) return;
    const timer = setTimeout(() => { P.armed = false; resolve(null); }, timeout);
    P.waiters.push(() => { if (check()) { clearTimeout(timer); return true; } return false; });
  });
  // resolves once the source has not changed for `ms` (and no move is in flight), or at timeout
  P.quiet = (ms, timeout) => new Promise((resolve) => {
    const t0 = performance.now();
    const tick = () => {
      const now = performance.now();
      if (now - Math.max(P.t_last_change, P.t_input) >= ms) resolve(true);
      else if (now - t0 > timeout) resolve(false);
      else setTimeout(tick, 10);
    };
    tick();
  });
  window.__dtProbe = P;
  return pviews.length;
}
"""

JS_FIND_HANDLE_BY_TITLE = """
(title) => {
  for (const m of Bokeh.documents[0].all_models) {
    let t; try { t = m.title; } catch (e) { continue; }
    if (t !== title || !("step" in m.properties)) continue;
    const view = Bokeh.index.find_one(m);
    if (view == null) continue;
    const root = view.shadow_el ?? view.el.shadowRoot ?? view.el;
    const h = root.querySelector(".noUi-handle");
    if (h != null) return h;
  }
  throw new Error(`no slider titled '${title}' with a .noUi-handle on the page`);
}
"""


# --------------------------------------------------------------------------- one client


def _locate_handle(page, slider: str):
    if slider.startswith("title:"):
        return page.evaluate_handle(JS_FIND_HANDLE_BY_TITLE, slider[len("title:"):]).as_element()
    loc = page.locator(slider).first
    loc.wait_for(state="visible", timeout=15_000)
    return loc.element_handle()


JS_SLIDER_VALUE = """
(h) => {
  const root = h.getRootNode();
  for (const v of Bokeh.index.query((v) => v.shadow_el === root || v.el === root.host)) {
    if (v.model != null && "step" in v.model.properties) return v.model.value;
  }
  throw new Error("cannot find the Bokeh slider model owning this handle");
}
"""


def _value(handle) -> float:
    """The value of the Bokeh slider model that owns the noUiSlider `handle`."""
    return handle.evaluate(JS_SLIDER_VALUE)


def _data_equal(a: dict, b: dict) -> bool:
    import numpy as np

    if set(a) != set(b):
        return False
    for k in a:
        x, y = a[k], b[k]
        try:
            xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
            if xa.shape != ya.shape or not np.allclose(xa, ya, equal_nan=True, rtol=1e-12, atol=0):
                return False
        except (TypeError, ValueError):
            if x != y:
                return False
    return True


def _press_step(page, handle, key: str) -> tuple[str, bool]:
    """Press `key` (or the opposite one at an end of the track). -> (key used, moved)."""
    before = _value(handle)
    handle.press(key)
    if _value(handle) != before:
        return key, True
    other = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
    handle.press(other)
    return other, _value(handle) != before


def _quiet(page, ms=QUIET_MS, timeout=MOVE_TIMEOUT_MS) -> bool:
    return page.evaluate("([ms, t]) => window.__dtProbe.quiet(ms, t)", [ms, timeout])


def _drag_check(page, handle, spec: AppSpec) -> dict:
    hb = handle.bounding_box()
    track = handle.evaluate_handle(
        "(h) => h.closest('.noUi-base') ?? h.closest('.noUi-target') ?? h.parentElement"
    ).as_element()
    tb = track.bounding_box()
    if hb is None or tb is None:
        return {"ok": False, "why": "slider not visible"}
    x0, y = hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2
    # out to 90% of the track and back to 60%, ~16 ms per step: a hand-like drag
    far, back = tb["x"] + 0.9 * tb["width"], tb["x"] + 0.6 * tb["width"]
    path = [x0 + (far - x0) * i / 40 for i in range(1, 41)] + [
        far + (back - far) * i / 15 for i in range(1, 16)
    ]
    n0 = page.evaluate("() => window.__dtProbe.n_changes")
    t_start = time.perf_counter()
    page.mouse.move(x0, y)
    page.mouse.down()
    for x in path:
        page.mouse.move(x, y)
        page.wait_for_timeout(16)
    page.mouse.up()
    drag_s = time.perf_counter() - t_start
    settled = _quiet(page, 1000, 20_000)
    info = page.evaluate(
        "() => ({n: window.__dtProbe.n_changes, last: window.__dtProbe.t_last_change, up: window.__dtProbe.t_up})"
    )
    v_drag = _value(handle)
    d_drag = bh.source_data(page, spec.source)
    # reference: one step away and back = a single fresh update at the same value
    key, moved = _press_step(page, handle, "ArrowRight")
    if not moved:
        return {"ok": False, "why": "slider does not move with the keyboard"}
    _quiet(page, 300, 20_000)
    handle.press("ArrowLeft" if key == "ArrowRight" else "ArrowRight")
    _quiet(page, 300, 20_000)
    v_ref = _value(handle)
    d_ref = bh.source_data(page, spec.source)
    ok = settled and v_ref == v_drag and _data_equal(d_drag, d_ref)
    why = ""
    if not settled:
        why = "updates never stopped after release"
    elif v_ref != v_drag:
        why = f"slider came back to {v_ref:.6g}, not {v_drag:.6g}"
    elif not ok:
        why = f"plotted data after the drag differs from a fresh update at value {v_drag:.6g}"
    after_up = None if info["up"] is None else max(0.0, info["last"] - info["up"])
    return {"ok": ok, "why": why, "value": v_drag, "updates": info["n"] - n0,
            "drag_ms": drag_s * 1000, "settle_ms": after_up}


def _track(handle):
    return handle.evaluate_handle(
        "(h) => h.closest('.noUi-base') ?? h.closest('.noUi-target') ?? h.parentElement"
    ).as_element()


def _jump(page, handle, rng) -> bool:
    """Click the slider's track at a random place until the value changes -> moved."""
    tb = _track(handle).bounding_box()
    before = _value(handle)
    for _ in range(10):
        x = tb["x"] + tb["width"] * (0.02 + 0.96 * rng.random())
        page.mouse.click(x, tb["y"] + tb["height"] / 2)
        for _ in range(25):                   # the slider sets its value once the tap is done
            if _value(handle) != before:
                return True
            page.wait_for_timeout(20)
    return False


def measure_client(url: str, spec: AppSpec, moves: int, drag: bool, barrier=None, jump: bool = False,
                   settle_s: float = 0.0) -> dict:
    """Open `url`, do the keyboard moves or the jumps (and the drag check), return raw timings."""
    import random
    from playwright.sync_api import sync_playwright

    out: dict = {"moves": [], "timeouts": 0, "errors": [], "drag": None}
    with sync_playwright() as pw:
        browser = bh.launch_chromium(pw)
        try:
            context = browser.new_context(viewport=bh.VIEWPORT)
            page = context.new_page()
            page.on("pageerror", lambda e: out["errors"].append(f"pageerror: {e}"))
            page.goto(url)
            bh.wait_idle(page)
            page.evaluate(JS_PROBE, spec.source)
            handle = _locate_handle(page, spec.slider)
            key = "ArrowRight"
            rng = random.Random(0)
            if jump:
                page.evaluate("() => { window.__dtProbe.jump = true; }")
                page.wait_for_timeout(settle_s * 1000)
            if barrier is not None:
                barrier.wait(timeout=120)
            for i in range(WARMUP_MOVES + moves):
                if jump:
                    moved = _jump(page, handle, rng)
                else:
                    key, moved = _press_step(page, handle, key)
                if not moved:
                    raise bh.HarnessError(f"slider {spec.slider!r} does not move with {key}")
                # the second press of a turn-around armed a later sequence number
                seq = page.evaluate("() => window.__dtProbe.seq")
                r = page.evaluate("([s, t]) => window.__dtProbe.wait(s, t)", [seq, MOVE_TIMEOUT_MS])
                if i >= WARMUP_MOVES:
                    if r is None:
                        out["timeouts"] += 1
                    else:
                        out["moves"].append(r)
                _quiet(page)
            if drag:
                out["drag"] = _drag_check(page, handle, spec)
            context.close()
        finally:
            browser.close()
    return out


def _client_proc(q, url, spec, moves, drag, barrier, jump=False, settle_s=0.0):
    try:
        q.put(measure_client(url, spec, moves, drag, barrier, jump, settle_s))
    except BaseException as exc:  # report, never hang the parent
        q.put({"moves": [], "timeouts": 0, "errors": [f"{type(exc).__name__}: {exc}"], "drag": None})


# --------------------------------------------------------------------------- per app


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def measure_app(key: str, spec: AppSpec, moves: int, procs: int, jump: bool = False,
                settle_s: float = 0.0) -> dict:
    res: dict = {"app": key, "file": spec.file, "status": "ok"}
    server, url = spec.serve()
    with server:
        if procs == 1:
            clients = [measure_client(url, spec, moves, drag=not jump, jump=jump, settle_s=settle_s)]
        else:
            ctx = mp.get_context("spawn")
            q, barrier = ctx.Queue(), ctx.Barrier(procs)
            ps = [ctx.Process(target=_client_proc, args=(q, url, spec, moves, i == 0 and not jump, barrier,
                                                         jump, settle_s))
                  for i in range(procs)]
            for p in ps:
                p.start()
            clients = [q.get(timeout=600) for _ in ps]
            for p in ps:
                p.join(timeout=30)
        server_errors = server.errors_since(0)
    moves_all = [m for c in clients for m in c["moves"]]
    res["errors"] = [e for c in clients for e in c["errors"]]
    if server_errors:
        res["errors"].append("the server logged a traceback (tail below)")
    res["timeouts"] = sum(c["timeouts"] for c in clients)
    res["n"] = len(moves_all)
    for what in ("data", "paint", "frame"):
        vals = [m[what] for m in moves_all]
        res[what] = {"median": statistics.median(vals), "p95": pct(vals, 95),
                     "min": min(vals), "max": max(vals)} if vals else None
    res["drag"] = next((c["drag"] for c in clients if c["drag"] is not None), None)
    if res["errors"] or res["timeouts"] or not moves_all or (res["drag"] and not res["drag"]["ok"]):
        res["status"] = "fail"
        if server_errors:
            res["server_log"] = server_errors[-4000:]
    return res


# --------------------------------------------------------------------------- report


def _fmt(x, nd=1):
    return "-" if x is None else f"{x:.{nd}f}"


def report(results: list[dict], moves: int, procs: int, jump: bool = False) -> None:
    base = next((r for r in results if r["app"] == BASELINE and r.get("frame")), None)
    print()
    kind = "jumps (clicks on the track)" if jump else "keyboard moves"
    print(f"slider -> repaint latency, ms ({moves} {kind} per app, {procs} client process(es);"
          f" 'frame' = first animation frame after the repaint)")
    head = (f"{'app':<12} {'n':>3} {'data med':>9} {'paint med':>9} {'frame med':>9} {'frame p95':>9}"
            f" {'x floor med':>11} {'x floor p95':>11}  drag check")
    print(head)
    print("-" * len(head))
    for r in results:
        if r["status"] == "skipped":
            print(f"{r['app']:<12} skipped: {r['why']}")
            continue
        if r.get("frame") is None:
            print(f"{r['app']:<12} FAILED: {'; '.join(r.get('errors') or [r.get('why', 'no data')])}")
            continue
        f = r["frame"]
        rmed = f["median"] / base["frame"]["median"] if base else None
        rp95 = f["p95"] / base["frame"]["p95"] if base else None
        d = r.get("drag")
        if d is None:
            dtxt = "-"
        elif d["ok"]:
            dtxt = (f"PASS ({d['updates']} updates in {d['drag_ms']:.0f} ms drag, settled "
                    f"{_fmt(d['settle_ms'], 0)} ms after release, value {d['value']:.6g})")
        else:
            dtxt = f"FAIL: {d['why']}"
        print(f"{r['app']:<12} {r['n']:>3} {r['data']['median']:>9.1f} {r['paint']['median']:>9.1f}"
              f" {f['median']:>9.1f} {f['p95']:>9.1f} {_fmt(rmed, 2):>11} {_fmt(rp95, 2):>11}  {dtxt}")
        extra = []
        if r["timeouts"]:
            extra.append(f"{r['timeouts']} move(s) timed out after {MOVE_TIMEOUT_MS} ms")
        extra += r.get("errors", [])
        for e in extra:
            print(f"{'':<12} ! {e}")
        if r.get("server_log"):
            print(f"{'':<12} server log tail:\n{r['server_log']}")
    if base is None:
        print(f"(no ratios: the baseline '{BASELINE}' was not measured)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moves", type=int, default=30, help="measured slider moves per app (default 30)")
    ap.add_argument("--apps", default=",".join(APPS),
                    help=f"comma-separated keys of APPS (default: all: {','.join(APPS)}); "
                         f"'{BASELINE}' is always measured first as the baseline")
    ap.add_argument("--procs", type=int, default=1,
                    help="concurrent client processes (browsers) per app (default 1)")
    ap.add_argument("--json", metavar="PATH", help="also write the raw results as JSON")
    ap.add_argument("--jump", action="store_true", help="click the track at random places instead of stepping")
    ap.add_argument("--settle", type=float, default=20.0,
                    help="with --jump: seconds between the page load and the first move (default 20)")
    ap.add_argument("--range-warmup", action="store_true",
                    help="serve with DEEPTRICKS_RANGE_WARMUP=1 (the main control's whole range computed ahead)")
    args = ap.parse_args(argv)
    if args.range_warmup:
        import os
        os.environ["DEEPTRICKS_RANGE_WARMUP"] = "1"
    if args.moves < 1 or args.procs < 1:
        ap.error("--moves and --procs must be >= 1")

    keys = [k.strip() for k in args.apps.split(",") if k.strip()]
    unknown = [k for k in keys if k not in APPS]
    if unknown:
        ap.error(f"unknown app(s) {unknown}; known: {', '.join(APPS)}")
    if BASELINE in keys:
        keys.remove(BASELINE)
    keys.insert(0, BASELINE)

    try:
        import playwright.sync_api  # noqa: F401
        bh.check_chromium()
    except ImportError:
        print("playwright is not importable here: run `bash scripts/test.sh` once, then "
              "`.venv/bin/python benchmarks/latency.py ...`", file=sys.stderr)
        return 2
    except bh.HarnessError as exc:
        print(exc, file=sys.stderr)
        return 2

    results = []
    for key in keys:
        spec = APPS[key]
        if not spec.exists():
            print(f"[latency] {key}: skipped, {spec.file} does not exist (yet)", file=sys.stderr)
            results.append({"app": key, "file": spec.file, "status": "skipped",
                            "why": f"{spec.file} does not exist (yet)"})
            continue
        print(f"[latency] {key}: serving {spec.file}, {args.moves} moves x {args.procs} client(s)...",
              file=sys.stderr)
        try:
            results.append(measure_app(key, spec, args.moves, args.procs, args.jump,
                                       args.settle if args.jump else 0.0))
        except Exception as exc:
            traceback.print_exc()
            results.append({"app": key, "file": spec.file, "status": "fail", "errors": [str(exc)]})
    report(results, args.moves, args.procs, args.jump)
    if args.json:
        Path(args.json).write_text(json.dumps({"moves": args.moves, "procs": args.procs,
                                               "apps": {k: asdict(APPS[k]) for k in keys},
                                               "results": results}, indent=2))
    return 1 if any(r["status"] == "fail" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
