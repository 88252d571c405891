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
one step behind. The replay itself is ``deeptricks.server.repro.write_race`` (self-contained:
Panel and Bokeh are all it needs); deeptricks' workaround,
``deeptricks.server.patches.fixed_dispatch``, makes a writer that finds updates queued and
no mark set the mark again and write them. Write-up: ``docs/upstream/panel-write-race.md``.
"""

from __future__ import annotations

import argparse
import inspect
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workaround", action="store_true", help="install deeptricks' workaround first")
    args = ap.parse_args(argv)
    import panel
    from panel.io import document as pdoc

    from deeptricks.server import patches, repro

    fix = patches.fixed_dispatch(inspect.unwrap(pdoc._dispatch_msgs)) if args.workaround else None
    written, left = repro.write_race(dispatch=fix)
    print(f"Panel {panel.__version__}, {'with' if args.workaround else 'without'} the workaround:")
    print(f"  updates written: {[w[0] for w in written]}; still queued: {left}")
    ok = len(written) == 2 and not left
    print("  both updates reached the socket" if ok else "  the second update was never written")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
