#!/usr/bin/env python3
"""Memory per session, and a soak of sessions opened and closed: does the server give it back?

    python benchmarks/memory.py [--per-app 20] [--soak 300] [--apps dropout,batch_norm,...]

(With a fresh checkout, run `bash scripts/test.sh` once and use `.venv/bin/python`.)

Starts ``deeptricks serve --session-lifetime 1`` with ``DEEPTRICKS_DEBUG_ENDPOINTS=1``
(the server then answers ``/debug/live`` with the live instances of every page, state,
model and component class after a full ``gc.collect()``, plus Bokeh's documents and
sessions). Sessions are the websocket clients of benchmarks/load.py: a page GET, the
Bokeh websocket, the document pulled, ``document_ready``.

1. Warm-up: one session of every explorable opened, used and closed, so that imports,
   caches and the allocator's arenas are in place. Baseline = the server's RSS then.
2. Per explorable: ``--per-app`` sessions opened together, then as many again; the
   RSS growth ÷ sessions for the first group and for the second (the first also pays
   for one-time growth of the allocator's arenas and buffers, the second only for the
   sessions: the marginal memory of one more learner); then all closed, and the RSS
   once the server has freed them.
3. Soak: ``--soak`` sessions, five at a time over all explorables in turn; each one
   moves a slider, the dropout ones also press Play and the lab ones Start (so
   periodic callbacks are running when the tab closes), then closes. After the server
   freed them: RSS against the RSS before the soak (target: at most 10% above it; the
   warm-up baseline and the highest RSS during the soak are printed too), and the live
   page objects (target: none of the soak's left).

RSS is the server process's resident set (/proc/PID/status VmRSS).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from load import Server, Session  # noqa: E402

ROUTES = ("dropout", "batch_norm", "layer_norm", "residual", "lab")
# the classes whose instances must all go when their sessions do
PAGE_CLASSES = ("DropoutPage", "DropoutState", "BatchNormPage", "BatchNormState", "LayerNormPage",
                "LayerNormState", "ResidualPage", "ResidualState", "LabPage", "LabState",
                "bokeh.ServerSession")


def live(server: Server) -> dict[str, int]:
    with urllib.request.urlopen(server.base + "/debug/live", timeout=60) as r:
        return json.loads(r.read())


def pages_alive(counts: dict) -> int:
    return sum(counts.get(c, 0) for c in PAGE_CLASSES)


def wait_freed(server: Server, timeout: float = 60.0) -> dict:
    """Poll until the server holds no session (the lifetime is 1 s); -> live counts."""
    deadline = time.monotonic() + timeout
    while True:
        counts = live(server)
        if counts.get("bokeh.ServerSession", 0) == 0 or time.monotonic() > deadline:
            return counts
        time.sleep(0.5)


def _first(session: Session, pred):
    from load import _walk

    for o in _walk(session.doc):
        if pred(o.get("attributes", {})):
            return o
    return None


async def use(session: Session) -> None:
    """What a learner does before closing the tab: move a slider; Play / Start where there is one."""
    from load import _is_slider, _walk

    sl = next((o for o in _walk(session.doc) if _is_slider(o)
               and {"start", "end", "value"} <= set(o.get("attributes", {}))), None)
    if sl is not None:
        a = sl["attributes"]
        v = a["start"] + (a["end"] - a["start"]) / 2
        if float(a.get("step", 1)).is_integer() and float(a["start"]).is_integer():
            v = int(round(v))
        await session.set_value(sl["id"], v)
    play = _first(session, lambda a: a.get("label") == "▶ Play" and "active" in a)
    if play is not None:
        await session.send("PATCH-DOC", {"events": [
            {"kind": "ModelChanged", "model": {"id": play["id"]}, "attr": "active", "new": True}]})
    start = _first(session, lambda a: a.get("label") == "▶ Start")
    if start is not None:
        await session.send("PATCH-DOC", {"events": [{
            "kind": "MessageSent", "msg_type": "bokeh_event",
            "msg_data": {"type": "event", "name": "button_click",
                         "values": {"type": "map", "entries": [["model", {"id": start["id"]}]]}}}]})
    await asyncio.sleep(0.6)      # let the update / the training run for a moment


async def open_many(base: str, route: str, n: int, batch: int = 5) -> list[Session]:
    out = []
    for i in range(0, n, batch):
        out += await asyncio.gather(*(Session(base, route).open() for _ in range(min(batch, n - i))))
    return out


async def close_all(sessions: list[Session]) -> None:
    for s in sessions:
        s.close()
    await asyncio.sleep(0.2)     # the close frames go out


async def cycle(base: str, routes: list[str]) -> None:
    """Open one session per route, use it, close it."""
    sessions = await asyncio.gather(*(Session(base, r).open() for r in routes))
    await asyncio.gather(*(use(s) for s in sessions))
    await close_all(sessions)


def inprocess(routes: list[str], n: int = 3) -> None:
    """tracemalloc: the memory one page holds with its Bokeh document (built outside a server,
    the document serialized once as for a browser's first pull), and where it is."""
    import gc
    import tracemalloc

    sys.path.insert(0, str(HERE.parent / "src"))
    from deeptricks.explorables.registry import by_slug

    from bokeh.document import Document

    def build(route):
        slug, _, view = route.partition("/")
        explorable = by_slug(slug)
        page, doc = (explorable.view(view) if view else explorable.page()), Document()
        doc.add_root(page.get_root(doc))
        doc.to_json()
        return page, doc

    print(f"\nin-process, tracemalloc: memory held by one page with its document (mean of {n} built), "
          f"largest holders")
    for route in routes:
        build(route)                         # imports and caches first
        gc.collect()
        tracemalloc.start(1)
        before = tracemalloc.take_snapshot()
        pages = [build(route) for _ in range(n)]
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        stats = after.compare_to(before, "lineno")
        total = sum(st.size_diff for st in stats) / n / 2**20
        top = sorted(stats, key=lambda st: -st.size_diff)[:3]
        where = "; ".join(f"{Path(st.traceback[0].filename).name}:{st.traceback[0].lineno} "
                          f"{st.size_diff / n / 2**20:.1f} MB" for st in top)
        print(f"  {route:<24} {total:6.1f} MB   ({where})")
        del pages
        gc.collect()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--apps", default=",".join(ROUTES), help="comma-separated explorables")
    ap.add_argument("--per-app", type=int, default=20, help="sessions open at once per explorable (default 20)")
    ap.add_argument("--soak", type=int, default=300, help="sessions opened and closed in the soak (default 300)")
    ap.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the server (repeatable), e.g. MALLOC_ARENA_MAX=2")
    ap.add_argument("--inprocess-only", action="store_true", help="only the tracemalloc table")
    ap.add_argument("--views", action="store_true",
                    help="the tracemalloc table for every view (NAME/VIEW) too; --apps may name views")
    args = ap.parse_args(argv)
    env = {"DEEPTRICKS_DEBUG_ENDPOINTS": "1", **dict(kv.split("=", 1) for kv in args.server_env)}
    routes = [r.strip() for r in args.apps.split(",") if r.strip()]
    print(f"[memory] load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)
    if args.views:
        sys.path.insert(0, str(HERE.parent / "src"))
        from deeptricks.explorables.registry import view_routes
        inprocess(routes + [f"{e.slug}/{v.name}" for e, v in view_routes() if e.slug in routes])
    else:
        inprocess(routes)
    if args.inprocess_only:
        return 0

    ok = True
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    run = loop.run_until_complete
    with Server("--session-lifetime", "1", env=env) as server:
        t0 = time.perf_counter()
        run(cycle(server.base, routes))
        wait_freed(server)
        base_rss = server.rss_mb()
        print(f"\nserver RSS after warm-up (one session of each, closed): {base_rss:.0f} MB")

        n = args.per_app
        print(f"\nper session: {n} sessions of each explorable opened together, then {n} more; "
              f"the first {n} also pay for one-time growth (allocator arenas, buffers), the next {n} "
              f"only for themselves")
        print(f"{'explorable':<11} {'RSS before':>10} {f'{n} open':>9} {f'{2 * n} open':>9} "
              f"{f'first {n}':>10} {f'next {n}':>10} {'RSS after close':>15} {'pages left':>10}")
        for route in routes:
            before = server.rss_mb()
            sessions = run(open_many(server.base, route, n))
            time.sleep(1.0)
            opened = server.rss_mb()
            sessions += run(open_many(server.base, route, n))
            time.sleep(1.0)
            opened2 = server.rss_mb()
            run(close_all(sessions))
            counts = wait_freed(server)
            after = server.rss_mb()
            print(f"{route:<11} {before:>7.0f} MB {opened:>6.0f} MB {opened2:>6.0f} MB "
                  f"{(opened - before) / n:>7.1f} MB {(opened2 - opened) / n:>7.1f} MB "
                  f"{after:>12.0f} MB {pages_alive(counts):>10}")

        soak_start = server.rss_mb()
        counts0 = live(server)
        t_soak = time.perf_counter()
        peaks = [soak_start]
        for i in range(0, args.soak, 5):
            batch = [routes[(i + j) % len(routes)] for j in range(min(5, args.soak - i))]
            run(cycle(server.base, batch))
            peaks.append(server.rss_mb())
            if (i // 5) % 10 == 9:
                print(f"[memory] soak: {i + len(batch)} sessions, RSS {server.rss_mb():.0f} MB",
                      file=sys.stderr, flush=True)
        counts = wait_freed(server)
        time.sleep(1.0)
        soak_end = server.rss_mb()
        growth = 100 * (soak_end - soak_start) / soak_start
        left = {k: v - counts0.get(k, 0) for k, v in counts.items() if v != counts0.get(k, 0)}
        print(f"\nsoak: {args.soak} sessions opened, used and closed in {time.perf_counter() - t_soak:.0f} s")
        print(f"  RSS before {soak_start:.0f} MB, after {soak_end:.0f} MB: {growth:+.1f}% "
              f"({'at most' if growth <= 10 else 'MORE than'} 10% above); against the warm-up "
              f"baseline {base_rss:.0f} MB: {100 * (soak_end - base_rss) / base_rss:+.1f}%; "
              f"highest during the soak {max(peaks):.0f} MB")
        print(f"  live page objects after: {pages_alive(counts)} (before: {pages_alive(counts0)}); "
              f"objects whose count changed: {left or 'none'}")
        ok = growth <= 10 and pages_alive(counts) == 0
        log_lines = server.log_text().splitlines()
        errors = [i for i, ln in enumerate(log_lines) if "Traceback" in ln or "Error" in ln]
        if errors:
            first = errors[0]
            print(f"  the server logged {len(errors)} error line(s); the first, with what follows it:")
            print("\n".join("    " + ln for ln in log_lines[max(0, first - 2):first + 30]))
            ok = False
        print(f"(load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
              f"{time.perf_counter() - t0:.0f} s in all)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
