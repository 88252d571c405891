#!/usr/bin/env python3
"""Reproduce an upstream problem: Panel's websocket writer can leave a page update unsent
(Panel 1.9 and 1.10 alike).

    python scripts/panel_write_race.py               # Panel as installed
    python scripts/panel_write_race.py --workaround  # with deeptricks' workaround

No server and no browser: it drives Panel's own ``schedule_write_events`` and
``_dispatch_msgs`` on an asyncio loop, with a fake socket registered through
``panel.io.document.extra_socket_handlers`` whose writes complete when told to.

1. An update is queued. Panel marks the document "blocked" and a writer task
   starts writing it.
2. In one turn of the loop, the first write completes and a second update is
   queued. Queuing it starts a second writer task.
3. The first writer resumes first, finds nothing more to write and removes the
   mark. The second writer then finds no mark and returns without writing.

The second update stays in Panel's queue until a later update pushes it out.
In a page, that is the last step of a burst of slider moves: the browser stays
one step behind. ``deeptricks.explorables.base.install_write_queue_fix`` makes a
writer that finds updates queued and no mark set the mark again and write them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading


def replay(workaround: bool = False) -> tuple[list, bool]:
    """Replay the race; return (the updates written, in order; whether any update is left queued).

    Runs its own event loop on a thread of its own (safe to call when a loop is running)."""
    from bokeh.document import Document
    from panel.io import document as pdoc

    original = pdoc._dispatch_msgs
    if workaround:
        from deeptricks.explorables.base import install_write_queue_fix
        install_write_queue_fix()

    class Socket:                     # not a tornado handler: written through Panel's hook
        pass

    class Connection:
        _socket = Socket()

        class protocol:
            @staticmethod
            def create(kind, events):
                return kind, tuple(events)

    written, writes = [], []

    def write(conn, events=None, msg=None):
        written.append(msg[1] if msg is not None else tuple(events))
        writes.append(asyncio.get_running_loop().create_future())
        return [writes[-1]]

    queue = getattr(pdoc, "_WRITE_EVENTS", None)          # Panel 1.10
    if queue is None:
        queue = pdoc._WRITE_MSGS                          # Panel 1.9

    async def scenario():
        async def turns(n):
            for _ in range(n):
                await asyncio.sleep(0)

        doc, conn = Document(), Connection()
        pdoc.schedule_write_events(doc, [conn], ["first"])
        await turns(3)
        writes[0].set_result(None)                          # the first write completes...
        pdoc.schedule_write_events(doc, [conn], ["second"])  # ...as the next update is queued
        await turns(10)
        for f in writes:
            if not f.done():
                f.set_result(None)
        await turns(10)
        return doc in queue

    outcome = {}

    def run():
        loop = asyncio.new_event_loop()
        try:
            outcome["left"] = loop.run_until_complete(scenario())
        except BaseException as e:                         # re-raised on the caller's thread
            outcome["error"] = e
        finally:
            loop.close()

    previous = pdoc.extra_socket_handlers.get(Socket)
    pdoc.extra_socket_handlers[Socket] = write
    try:
        runner = threading.Thread(target=run)
        runner.start()
        runner.join(30)
    finally:
        if previous is None:
            pdoc.extra_socket_handlers.pop(Socket, None)
        pdoc._dispatch_msgs = original
    if "error" in outcome:
        raise outcome["error"]
    return written, outcome["left"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workaround", action="store_true", help="install deeptricks' workaround first")
    args = ap.parse_args(argv)
    import panel
    written, left = replay(args.workaround)
    print(f"Panel {panel.__version__}, {'with' if args.workaround else 'without'} the workaround:")
    print(f"  updates written: {[w[0] for w in written]}; still queued: {left}")
    ok = len(written) == 2 and not left
    print("  both updates reached the socket" if ok else "  the second update was never written")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
