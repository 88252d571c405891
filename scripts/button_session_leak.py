#!/usr/bin/env python3
"""Reproduce an upstream problem: with Panel 1.10 and Bokeh 3.10 (what Python 3.12+ installs), a
session in which any Button was clicked is never discarded after its tab closes.

    python scripts/button_session_leak.py              # prints what the server logged about discarding
    python scripts/button_session_leak.py --workaround # the same app, calling deeptricks' workaround

It serves a bare Panel app (one Button with an ``on_click`` handler, nothing from deeptricks)
with ``panel serve --unused-session-lifetime 1000``, opens two sessions with the websocket
client of ``benchmarks/load.py``, clicks the button in the second, closes both and waits.
With Panel 1.9 / Bokeh 3.9 both sessions are discarded. With Panel 1.10 / Bokeh 3.10 the second
one is "scheduled to discard but came back to life" again and again.

The cause: the click records a Panel "busy" event, and the first such event starts Panel's
process-wide cleanup ``PeriodicCallback``. Bokeh 3.10 runs the click handler on a worker
thread; off the loop thread ``PeriodicCallback.start`` reschedules itself as a next-tick
callback of the session, which Bokeh again runs on a worker thread, and so on forever. There
is always one such callback in flight, and each blocks the session's expiration.
deeptricks' workaround (``deeptricks.server.patches.BUSY_CLEANUP``) starts the cleanup on the
loop thread instead; ``--workaround`` installs it from the app and both sessions are freed.
Write-up: ``docs/upstream/panel-busy-cleanup-leak.md``.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from load import Session, _walk  # noqa: E402

APP = """
import panel as pn
button = pn.widgets.Button(label="Press me")
button.on_click(lambda event: None)
pn.Column(button).servable()
"""

WORKAROUND = """
from deeptricks.server import patches
patches.BUSY_CLEANUP.install()
"""


async def visit(base: str, press: bool) -> None:
    s = await Session(base, "app").open()
    if press:
        b = next(o for o in _walk(s.doc) if o.get("attributes", {}).get("label") == "Press me")
        await s.send("PATCH-DOC", {"events": [{
            "kind": "MessageSent", "msg_type": "bokeh_event",
            "msg_data": {"type": "event", "name": "button_click",
                         "values": {"type": "map", "entries": [["model", {"id": b["id"]}]]}}}]})
    await asyncio.sleep(1.0)
    s.close()
    await asyncio.sleep(0.3)


def main() -> int:
    import panel

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "app.py"
        app.write_text(APP + (WORKAROUND if "--workaround" in sys.argv[1:] else ""))
        proc = subprocess.Popen([sys.executable, "-m", "panel", "serve", str(app), "--port", str(port),
                                 "--address", "127.0.0.1", "--unused-session-lifetime", "1000",
                                 "--check-unused-sessions", "500", "--log-level", "debug"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            time.sleep(6)
            base = f"http://127.0.0.1:{port}"
            asyncio.run(visit(base, press=False))
            asyncio.run(visit(base, press=True))
            time.sleep(5)
        finally:
            proc.terminate()
            out = proc.communicate()[0]
    lines = [ln for ln in out.splitlines() if "discard" in ln.lower()]
    print(f"Panel {panel.__version__}:")
    print("\n".join(lines) or "(nothing about discarding sessions)")
    leaked = any("came back to life" in ln for ln in lines)
    print("the clicked session was NOT freed" if leaked else "both sessions were freed")
    return 1 if leaked else 0


if __name__ == "__main__":
    sys.exit(main())
