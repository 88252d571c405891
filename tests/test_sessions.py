"""Sessions that come and go on `deeptricks serve`: freed, logged, independent.

One server for the module (``--session-lifetime 1``, ``DEEPTRICKS_DEBUG_ENDPOINTS=1`` so
that ``/debug/live`` counts the live page objects after a ``gc.collect()``), driven by the
lightweight Bokeh websocket clients of benchmarks/load.py (page GET, websocket, document
pulled, slider values sent as a browser sends them).
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from browser_harness import wait_for  # noqa: E402
from load import Server, Session, source_hash  # noqa: E402

PAGES = ("DropoutPage", "BatchNormPage", "LayerNormPage", "ResidualPage", "LabPage")
# route -> (slider title, source that slider changes, two values)
SLIDERS = {
    "dropout": ("Dropout rate p", "dropout-units-source", (0.1, 0.8)),
    "layer_norm": ("Batch size", "ln-shrink-bn-source", (2, 24)),
    "batch_norm": ("Weight scale (init gain)", "bn-right-values-source", (0.5, 2.0)),
    "residual": ("Depth (blocks)", "residual-grad-residual-source", (5, 40)),
}


@pytest.fixture(scope="module")
def server():
    with Server("--session-lifetime", "1", env={"DEEPTRICKS_DEBUG_ENDPOINTS": "1"}) as s:
        yield s


@pytest.fixture
def own_server():
    """A server for one test: were a session never freed (as the lab's after a Start click once
    was on Panel 1.10, see ``deeptricks.server.patches.BUSY_CLEANUP``), it would hold up no other test."""
    with Server("--session-lifetime", "1", env={"DEEPTRICKS_DEBUG_ENDPOINTS": "1"}) as s:
        yield s


@pytest.fixture(scope="module")
def run():
    """Run a coroutine to the end on an event loop of its own, in a thread of its own.

    (The browser tests' Playwright keeps a loop running in the main thread, so a loop
    started there would refuse to run when both kinds of tests share one pytest process.)
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield lambda coro: asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=300)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


def live(server) -> dict:
    with urllib.request.urlopen(server.base + "/debug/live", timeout=60) as r:
        return json.loads(r.read())


def pages(counts: dict) -> int:
    return sum(counts.get(p, 0) for p in PAGES)


def settled(server) -> dict:
    """Wait until the sessions of earlier tests are gone; -> live counts."""
    def gone():
        counts = live(server)            # {} when nothing of a page is alive: settled too
        return (counts,) if counts.get("bokeh.ServerSession", 0) == 0 else None

    return wait_for(gone, "the earlier sessions to be freed", timeout=30)[0]


def no_traceback(server, offset: int) -> None:
    text = server.log_text()[offset:]
    assert "Traceback" not in text and "exception" not in text.lower(), text[-4000:]


async def fresh_data(session: Session, title: str, source: str, value, timeout=60.0) -> str:
    """Set the slider; -> hash of the first data of `source` that arrives afterwards."""
    got: asyncio.Queue = asyncio.Queue()
    cds = session.find(name=source)
    session.on_message = lambda m: (h := source_hash(m, cds)) and got.put_nowait(h)
    await session.set_value(session.find(title=title), value)
    h = await asyncio.wait_for(got.get(), timeout)
    await asyncio.sleep(0.3)          # a later patch of the same source wins
    while not got.empty():
        h = got.get_nowait()
    return h


async def responds(server) -> None:
    """A new session still gets its plots updated."""
    s = await Session(server.base, "layer_norm").open()
    try:
        await fresh_data(s, "Batch size", "ln-shrink-bn-source", 3)
    finally:
        s.close()


def test_closed_sessions_are_logged_and_freed_and_others_still_served(own_server, run):
    server = own_server
    before = settled(server)
    offset = len(server.log_text())

    async def scenario():
        keep = await Session(server.base, "dropout").open()     # stays open throughout
        gone = [await Session(server.base, r).open() for r in ("dropout", "lab", "layer_norm")]
        dropout, lab, _ = gone
        play = next(o for o in _models(dropout) if o.get("attributes", {}).get("label") == "▶ Play")
        await dropout.send("PATCH-DOC", {"events": [
            {"kind": "ModelChanged", "model": {"id": play["id"]}, "attr": "active", "new": True}]})
        start = next(o for o in _models(lab) if o.get("attributes", {}).get("label") == "▶ Start")
        await lab.send("PATCH-DOC", {"events": [{
            "kind": "MessageSent", "msg_type": "bokeh_event",
            "msg_data": {"type": "event", "name": "button_click",
                         "values": {"type": "map", "entries": [["model", {"id": start["id"]}]]}}}]})
        await asyncio.sleep(1.0)          # playing, training
        for s in gone:                    # the tabs close: play and training still running
            s.close()
        await asyncio.sleep(0.3)
        return keep

    keep = run(scenario())
    try:
        # the closed ones are freed after their lifetime (1 s): page objects go, the log says so
        counts = wait_for(lambda: (c := live(server)) and pages(c) == pages(before) + 1 and c,
                            "the three closed sessions to be freed", timeout=30)
        assert counts.get("DropoutPage", 0) == before.get("DropoutPage", 0) + 1   # the open one stays
        assert counts.get("LabPage", 0) == before.get("LabPage", 0)
        assert server.log_text()[offset:].count("freed") >= 3
        # the open session and a new one are still served
        h1 = run(fresh_data(keep, "Dropout rate p", "dropout-units-source", 0.3))
        assert h1
        run(responds(server))
    finally:
        run(_close(keep))                 # on the session's own loop
    no_traceback(server, offset)


def test_disconnect_right_after_a_move_leaves_no_traceback(server, run):
    before = pages(settled(server))
    offset = len(server.log_text())

    async def scenario():
        for delay in (0.0, 0.01, 0.03, 0.06, 0.1):
            s = await Session(server.base, "dropout").open()
            await s.set_value(s.find(title="Dropout rate p"), 0.85)
            await asyncio.sleep(delay)    # the update is being computed or sent
            s.close()
        await asyncio.sleep(0.5)

    run(scenario())
    wait_for(lambda: pages(live(server)) == before, "the disconnected sessions to be freed", timeout=30)
    run(responds(server))
    no_traceback(server, offset)


@pytest.mark.parametrize("route", list(SLIDERS))
def test_two_sessions_never_share_state(server, run, route):
    title, source, (va, vb) = SLIDERS[route]

    async def scenario():
        a, b = await Session(server.base, route).open(), await Session(server.base, route).open()
        try:
            # both move at once, to different values
            ha, hb = await asyncio.gather(fresh_data(a, title, source, va), fresh_data(b, title, source, vb))
            assert ha != hb, "two sessions at different settings show the same data"
            # B moves again: A receives nothing, and B at A's value shows exactly A's data
            seen_by_a = []
            a.on_message = lambda m: seen_by_a.append(m.header.get("msgtype"))
            hb2 = await fresh_data(b, title, source, va)
            assert hb2 == ha
            assert "PATCH-DOC" not in seen_by_a, "a change in one session reached the other"
        finally:
            a.close()
            b.close()

    run(scenario())


async def _close(session: Session) -> None:
    session.close()


def _models(session: Session):
    from load import _walk

    return list(_walk(session.doc))
