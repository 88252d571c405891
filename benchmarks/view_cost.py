"""What one move of a view's main control costs the server, against the same move on the full page.

    python benchmarks/view_cost.py [--repeats 5]

For every view of the four explorables (the lab trains live: see lab_speed.py) it builds a
fresh page object and the view from a fresh one, each in its own Bokeh document, sweeps the
view's main control over a few values once to fill the shared caches, then times each move
of the sweep ``--repeats`` times: the page's update and the Bokeh model changes it makes,
no browser. It prints the median ms per move for the page and for the view, and the ratio.
A view updates only its own figures (``Sectioned.shows``), so a course page framing six
views costs the server six views' moves, not six pages'.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

# the control each view is about, and the values swept (views without controls above the
# figure have theirs inside it)
MOVES = {
    ("dropout", "units"): ("p", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]),
    ("dropout", "readout"): ("p", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]),
    ("dropout", "layers"): ("p", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]),
    ("batch_norm", "compare"): ("depth", [5, 10, 15, 20, 25, 30]),
    ("batch_norm", "batch-noise"): ("batch", [2, 4, 8, 16, 32, 64]),
    ("batch_norm", "running-stats"): ("warmup", [0, 5, 10, 20, 50, 100]),
    ("layer_norm", "axes"): ("example", [1, 2, 3, 4, 5, 6]),
    ("layer_norm", "shrink-batch"): ("batch", [1, 2, 4, 8, 16, 32]),
    ("layer_norm", "depth"): ("depth", [3, 5, 10, 15, 20, 30]),
    ("residual", "gradients"): ("depth", [5, 10, 20, 30, 40, 50]),
    ("residual", "plus-one"): ("depth", [5, 10, 20, 30, 40, 50]),
    ("residual", "identity"): ("depth", [5, 10, 20, 30, 40, 50]),
    ("residual", "training"): ("depth", [5, 10, 20, 30, 40, 50]),
}


def per_move(slug: str, view: str | None, name: str, values: list, repeats: int) -> float:
    """Median ms of one move of ``name`` over ``values``, on the page (view None) or the view."""
    from bokeh.document import Document

    from deeptricks.explorables.registry import by_slug

    page = by_slug(slug)._page_class()()
    layout = page.view(view) if view else page.layout()
    doc = Document()
    doc.add_root(layout.get_root(doc))
    for v in values:                                   # the shared caches, filled
        setattr(page.state, name, v)
    times = []
    for _ in range(repeats):
        for v in values:
            t0 = time.perf_counter()
            setattr(page.state, name, v)
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    import panel  # noqa: F401  (imported once, outside the timings)

    print(f"{'view':36s} {'page ms/move':>13s} {'view ms/move':>13s} {'view/page':>10s}")
    for (slug, view), (name, values) in MOVES.items():
        page_ms = per_move(slug, None, name, values, args.repeats)
        view_ms = per_move(slug, view, name, values, args.repeats)
        print(f"{slug + '/' + view + ' (' + name + ')':36s} {page_ms:13.2f} {view_ms:13.2f} {view_ms / page_ms:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
