#!/usr/bin/env python3
"""Server memory per open session, to size replicas and Kubernetes memory limits.

    .venv/bin/python benchmarks/session_memory.py [--sessions 5]

For each page, starts a fresh `deeptricks serve` process (no --num-procs), reads its resident
memory (VmRSS) after one first session of that page (which also imports the page's code),
opens --sessions more sessions (an HTTP GET of a page builds its session's document, as a
browser's page load does) and reads it again. Each page gets its own
process because the server frees sessions nobody connected to after 60 s and Python reuses
that memory, which would hide the next page's cost. Prints the idle RSS, the RSS after the
first session, the RSS with all sessions open, and the increase per additional session.
Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from deeptricks_server import DeeptricksServer  # noqa: E402

from deeptricks.explorables.registry import EXPLORABLES  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=5, help="sessions opened per page (default 5)")
    args = ap.parse_args()
    print(f"{'page':<12} {'idle MiB':>9} {'1 session':>10} {f'{1 + args.sessions} sessions':>12} "
          f"{'MiB per session':>16}")
    for e in EXPLORABLES:
        server = DeeptricksServer((), ()).start()
        try:
            pid = server.proc.pid
            idle = rss_mib(pid)
            first = None
            for _ in range(1 + args.sessions):
                with urllib.request.urlopen(f"{server.base_url}/{e.slug}", timeout=120) as r:
                    r.read()
                first = first or rss_mib(pid)
            after = rss_mib(pid)
        finally:
            server.stop()
        print(f"{e.slug:<12} {idle:>9.0f} {first:>10.0f} {after:>12.0f} "
              f"{(after - first) / args.sessions:>16.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
