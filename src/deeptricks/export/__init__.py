"""Serverless embed: self-contained HTML files of the explorables (``deeptricks export``).

Each explorable page is built as the server builds it, its main controls are
restricted to a coarse grid of values, every combination of those values is
computed in Python, and the results are stored in the page. The other controls
are disabled at their start values, with a note pointing to the live version.
The files need no Python server and make no network request at all.

The work has three parts, a module each:

* :mod:`.states`: building a page over its grid (:class:`ExportSpec`,
  :func:`build`) and storing each property that changes once per combination
  of the controls it depends on (:func:`store_states`);
* :mod:`.offline`: making the HTML self-contained (Panel's stylesheets and
  icons inlined) and listing anything a browser would still load from
  elsewhere (:func:`external_references`);
* :mod:`.reading`: reading a written file back (:func:`stored_tables`,
  :func:`model_ids`, :func:`decode_array`), for tests and reports.

This module says what is exported (:data:`SPECS`) and puts the parts together:
:func:`render` makes one page's HTML, :func:`export_page` writes it (and
refuses a file that would still load anything), :func:`index_html` is the
index linking the pages, and :func:`export` writes them all.

The lab trains a network live and cannot be precomputed; it is left out and
the index page says so.
"""

from __future__ import annotations

import gzip
import html
import math
import os
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

from .offline import (external_references, favicon, fix_head, inline_css, inline_stylesheets, share_resources,
                      share_stylesheets)
from .reading import decode_array, model_ids, stored_tables
from .states import BuiltPage, ExportSpec, build, store_states

# helpers the tests check on their own, reached through this package
from .offline import _dist_file  # noqa: F401
from .reading import _objects  # noqa: F401
from .states import _round_floats  # noqa: F401

__all__ = ["PAGE_BUDGET", "VIEW_BUDGET", "SPECS", "LEFT_OUT", "ExportSpec", "BuiltPage", "spec_for", "build", "store_states",
           "render", "export_page", "write_static", "index_html", "export", "inline_css", "inline_stylesheets",
           "external_references", "stored_tables", "model_ids", "decode_array"]

#: the size budget of one exported page: Bokeh's and Panel's inline JavaScript alone is about
#: 3 MB (0.8 MB gzipped); the stored states may add up to 2 MB, so a page stays under about
#: 1.5 MB gzipped, some 6 s on a slow 2 Mbit/s connection
PAGE_BUDGET = 5_000_000

#: the size budget of one exported view beside the shared static folder (Bokeh's and Panel's
#: JavaScript and stylesheets, about 3 MB, loaded once for every file of the export)
VIEW_BUDGET = 300_000


def _pretrain_residual(page, grid: dict[str, tuple]) -> None:
    """Run the residual page's training comparison for every grid point (synchronous here).

    It depends on depth, normalization, activation and block-weight scale; the page
    keeps the last 12 runs, which must cover the grid.
    """
    from itertools import product

    s = page.state
    names = [n for n in ("depth", "norm", "activation", "gain") if n in grid]
    start = {n: getattr(s, n) for n in names}
    for values in product(*[grid[n] for n in names]):
        s.param.update(**dict(zip(names, values)))
        page.run_training()
    s.param.update(**start)
    page.run_training()       # the start settings' run is then the one shown


SPECS: tuple[ExportSpec, ...] = (
    ExportSpec("dropout", "dropout", "DropoutState", "DropoutPage",
               grid={"p": tuple(round(0.1 * i, 1) for i in range(10)), "mode": ("train", "test"),
                     "scale": (True, False), "layer": (1, 5, 10)},
               grid_text="dropout rate 0 to 0.9 in steps of 0.1, training or test mode, scaling on or "
                         "off, layer 1, 5 or 10",
               start={"p": 0.5}),
    ExportSpec("batch_norm", "batch_norm", "BatchNormState", "BatchNormPage",
               grid={"depth": (3, 10, 30, 60), "activation": ("relu", "sigmoid"), "bn": (True, False),
                     "batch": (1, 2, 16, 64), "mode": ("train", "eval")},
               grid_text="depth 3, 10, 30 or 60, ReLU or sigmoid, BatchNorm on or off, batch size 1, 2, "
                         "16 or 64, training or eval mode (with no warm-up)",
               start={"depth": 10, "batch": 16},
               # the warm-up is the running-stats view's one control (the page keeps it fixed)
               view_grids={"running-stats": {"warmup": (0, 5, 10, 20, 50, 100, 200)}}),
    ExportSpec("layer_norm", "layer_norm", "LayerNormState", "LayerNormPage",
               grid={"method": ("layer", "batch"), "example": tuple(range(1, 9)), "batch": (1, 2, 8, 64),
                     "depth": (3, 10, 30)},
               grid_text="batch norm or layer norm, any example of the table (its feature fixed), batch "
                         "size 1, 2, 8 or 64, depth 3, 10 or 30",
               start={"batch": 8, "depth": 10}),
    ExportSpec("residual", "residual", "ResidualState", "ResidualPage",
               grid={"depth": (5, 10, 20, 50, 100), "residual": (True, False),
                     "activation": ("sigmoid", "tanh", "relu")},
               grid_text="depth 5, 10, 20, 50 or 100 blocks, plain or residual, sigmoid, tanh or relu; "
                         "the training comparison was run ahead for each depth",
               start={"depth": 50}, prepare=_pretrain_residual, prepare_views=("training",)),
)

LEFT_OUT = {"lab": "it trains a network live in the browser session, which needs the Python server"}


def spec_for(slug: str) -> ExportSpec:
    for s in SPECS:
        if s.slug == slug:
            return s
    raise KeyError(slug)


# -- one page, the index, the command ---------------------------------------------------------
@contextmanager
def _muted(page):
    """Skip the page's coalesced updates (``deeptricks.explorables.base.Coalesced``) for a while."""
    from deeptricks.explorables.base import Coalesced

    updates = [v for v in vars(page).values() if isinstance(v, Coalesced)]
    saved = [u.fn for u in updates]
    for u in updates:
        u.fn = lambda *args: None
    try:
        yield
    finally:
        for u, fn in zip(updates, saved):
            u.fn = fn
            u.changed = set()


def render(built: BuiltPage, title: str, *, progress: bool = False,
           static: str | None = None) -> tuple[str, dict]:
    """The exported page's HTML and a few figures (states, properties stored).

    ``static``: None for a single file with everything inlined; else the relative
    address of the shared static folder from where the file is written (``"static/"``,
    ``"../static/"``): the JavaScript and Panel's stylesheets are then referenced there,
    and ``figures["static"]`` holds the files to write into it (path -> bytes or file)."""
    import panel as pn
    from bokeh.document import Document
    from bokeh.models import CustomJS
    from bokeh.resources import CDN, INLINE
    from panel.config import config
    from panel.io.embed import embed_state
    from panel.io.resources import set_resource_mode
    from panel.io.save import file_html
    from panel.io.resources import Resources
    from pyviz_comms import Comm

    from deeptricks.ui.views import SIZE_JS

    doc_now = pn.state.curdoc
    if doc_now is not None and doc_now.session_context is not None:
        # inside a server session the pages' Coalesced updates wait for the next tick, and every
        # snapshot below would be taken before the page had caught up
        raise RuntimeError("export the pages outside a server session (e.g. `deeptricks export`)")
    n = math.prod(len(v) for v in built.grid_widgets.values())
    doc = Document()
    doc.title = title
    with config.set(embed=True), set_resource_mode("inline"):
        model = built.layout.get_root(doc, Comm())
        if not built.grid_widgets:        # a view with no control on the grid: one state
            doc.add_root(model)
            state_model = None
        else:
            # Panel's pass sets up the discrete sliders, the callbacks and the keys of the states;
            # the patches it records are replaced below, so the page need not compute them here
            with _muted(built.page):
                state_model = embed_state(built.layout, model, doc, max_states=max(n, 2) ** 2,
                                          progress=progress, states=built.grid_widgets)
            if state_model is None:
                raise RuntimeError(f"{built.spec.slug}: Panel recorded no states")
    figures = (store_states(built, doc, state_model, model.ref["id"]) if state_model is not None
               else {"states": 1, "patches": 0, "properties": 0, "tables": [], "state_bytes": 0})
    if built.view is not None:           # framed by a course page, the view reports its height
        doc.js_on_event("document_ready", CustomJS(code=SIZE_JS))
    if static is None:
        figures["stylesheets_inlined"] = inline_stylesheets(doc)
        with set_resource_mode("inline"):
            page_html = file_html(doc, Resources.from_bokeh(INLINE), title)
        return fix_head(page_html), figures
    files: dict[str, object] = dict(share_stylesheets(doc, static))
    with set_resource_mode("cdn"):
        page_html = file_html(doc, Resources.from_bokeh(CDN), title)
    page_html, scripts = share_resources(fix_head(page_html, static + "favicon.ico"), static)
    files.update(scripts)
    from panel.io.resources import DIST_DIR
    files["favicon.ico"] = DIST_DIR / "images" / "favicon.ico"
    figures["static"] = files
    return page_html, figures


def _write(path: Path, page_html: str, figures: dict) -> dict:
    bad = external_references(page_html, allowed=_STATIC_PREFIXES if "static" in figures else ())
    if bad:
        raise RuntimeError(f"{path.name}: the file would still load {sorted(set(bad))[:5]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page_html, encoding="utf-8")
    data = page_html.encode("utf-8")
    figures.update(bytes=len(data), gzip_bytes=len(gzip.compress(data, compresslevel=6)))
    return figures


_STATIC_PREFIXES = ("static/", "../static/")
FRAMES_JS_FILE = Path(__file__).resolve().parents[1] / "assets" / "embed" / "frames.js"


def export_page(spec: ExportSpec, out_dir: str | os.PathLike, grid: dict[str, tuple] | None = None, *,
                prepare: bool = True, progress: bool = False, view: str | None = None,
                single_file: bool = True) -> tuple[Path, dict]:
    """Write ``<out_dir>/<slug>.html``, or ``<out_dir>/<slug>/<view>.html`` for one of its views;
    returns its path and figures (size, states, ...; with ``single_file=False`` also the files of
    the shared ``static/`` folder the file refers to, which the caller writes: :func:`write_static`)."""
    from deeptricks.explorables.registry import by_slug

    e = by_slug(spec.slug)
    if view is None:
        title, path, static = f"{e.title} · deeptricks (offline)", Path(out_dir) / f"{spec.slug}.html", "static/"
    else:
        v = e._page_class().view_named(view)
        title = f"{v.title} · {e.title} · deeptricks (offline)"
        path, static = Path(out_dir) / spec.slug / f"{view}.html", "../static/"
    built = build(spec, grid, prepare=prepare, view=view)
    page_html, figures = render(built, title, progress=progress, static=None if single_file else static)
    return path, _write(path, page_html, figures)


def write_static(out_dir: str | os.PathLike, files: dict) -> int:
    """Write the shared files (``static/`` path -> bytes or installed file) and frames.js into
    ``<out_dir>/static/``; returns the bytes written."""
    root = Path(out_dir) / "static"
    total = 0
    for rel, content in {**files, "frames.js": FRAMES_JS_FILE}.items():
        data = content if isinstance(content, bytes) else Path(content).read_bytes()
        f = root / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        if not f.is_file() or f.read_bytes() != data:
            f.write_bytes(data)
        total += len(data)
    return total


def index_html(pages: Sequence[str], views: dict[str, list] | None = None) -> str:
    """A plain HTML index linking the exported pages and, under each, its exported views
    (no script, no external request)."""
    from deeptricks.explorables.registry import EXPLORABLES

    items = []
    for e in EXPLORABLES:
        shown = (views or {}).get(e.slug) or []
        if e.slug not in pages and not shown:
            continue
        head = (f'<a href="{e.slug}.html">{html.escape(e.title)}</a>' if e.slug in pages
                else f'<b>{html.escape(e.title)}</b>')
        sub = "".join(f'<li><a href="{e.slug}/{v.name}.html">{html.escape(v.title)}</a> '
                      f'<code>{e.slug}/{v.name}</code></li>' for v in shown)
        items.append(f'<li>{head}<span>{html.escape(e.summary)}</span>'
                     + (f'<ul class="views">{sub}</ul>' if sub else "") + "</li>")
    left_out = "".join(
        f"<li><b>{html.escape(next((e.title for e in EXPLORABLES if e.slug == slug), slug))}</b>: "
        f"not included, because {html.escape(why)}.</li>" for slug, why in LEFT_OUT.items())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>deeptricks · offline explorables</title>
<link rel="icon" href="{favicon()}">
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       max-width: 760px; margin: 24px auto; padding: 0 16px; line-height: 1.55; }}
h1 {{ font-size: 26px; margin-bottom: 4px; }}
ul.pages {{ list-style: none; padding: 0; }}
ul.pages li {{ margin: 10px 0; padding: 10px 12px; background: #f6f8fa; border-radius: 8px; }}
ul.pages > li > a, ul.pages > li > b {{ font-weight: 600; font-size: 17px; display: block; }}
ul.views {{ margin: 6px 0 0 0; padding-left: 18px; font-size: 14px; }}
ul.views code {{ color: #57606a; font-size: 12px; }}
p.note, ul.left {{ color: #3d444d; font-size: 14px; }}
</style>
</head>
<body>
<h1>deeptricks: the tricks that made deep networks trainable</h1>
<p>Offline copies of the explorables and of their views (one figure each, for a course page to
frame beside its text). Each file works without a server and without a network connection: its
controls offer a coarse set of values, computed ahead of time.</p>
<ul class="pages">
{chr(10).join(items)}
</ul>
<ul class="left">{left_out}</ul>
<p class="note">The live version (<code>deeptricks serve</code>) offers every control and every value.</p>
</body>
</html>
"""


def _targets(only: Sequence[str] | None, views: bool) -> list[tuple[str, str | None]]:
    """(explorable, view or None) to write, for ``only``'s names (``NAME`` or ``NAME/VIEW``)."""
    from deeptricks.explorables.registry import by_slug

    names = [s.slug for s in SPECS]
    every = [(n, None) for n in names] + [(n, v.name) for n in names for v in by_slug(n).views()]
    if not only:
        return every if views else every[:len(names)]
    chosen, bad = [], []
    for item in only:
        slug, _, view = item.partition("/")
        picked = [t for t in every if t[0] == slug and (t[1] == view if view else (views or t[1] is None))]
        (chosen.extend(picked) if picked else bad.append(item))
    if bad:
        choices = ", ".join(names)
        raise ValueError(f"cannot export {', '.join(bad)}; choose from {choices} or one of their views "
                         "(`deeptricks embed --list`)"
                         + "".join(f" ({k} is left out: {v})" for k, v in LEFT_OUT.items()
                                   if any(b.partition('/')[0] == k for b in bad)))
    return [t for t in every if t in chosen]


def export(out_dir: str | os.PathLike, only: Sequence[str] | None = None, *, views: bool = True,
           single_file: bool = False, log: Callable[[str], None] | None = print) -> list[tuple[Path, dict]]:
    """Export the explorables and their views (all, or those named in ``only``: ``NAME`` for a
    page and its views, ``NAME/VIEW`` for one view) and the index into ``out_dir``.

    Pages go to ``<out_dir>/<NAME>.html``, views to ``<out_dir>/<NAME>/<VIEW>.html``; the
    JavaScript and stylesheets they share, and frames.js, to ``<out_dir>/static/``
    (``single_file``: each file inlines everything instead; frames.js is still written)."""
    targets = _targets(only, views)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written, static = [], {}
    for slug, view in targets:
        path, figures = export_page(spec_for(slug), out, view=view, single_file=single_file)
        static.update(figures.pop("static", {}))
        written.append((path, figures))
        if log:
            log(_line(path, figures, out))
    n_static = write_static(out, static)
    if log:
        log(f"wrote {out / 'static'}/  {n_static / 1e6:.2f} MB shared by every file"
            if static else f"wrote {out / 'static' / 'frames.js'}")
    slugs = {s.slug for s in SPECS}
    exported = sorted(p.stem for p in out.glob("*.html") if p.stem in slugs)
    index = out / "index.html"
    index.write_text(index_html(exported, _exported_views(out, sorted(slugs))), encoding="utf-8")
    data = index.read_bytes()
    written.append((index, {"bytes": len(data), "gzip_bytes": len(gzip.compress(data))}))
    if log:
        log(_line(index, written[-1][1], out))
    return written


def _exported_views(out: Path, slugs: Sequence[str]) -> dict[str, list]:
    """The views written under ``out`` for each explorable, in the page's order."""
    from deeptricks.explorables.registry import by_slug

    return {slug: [v for v in by_slug(slug).views() if (out / slug / f"{v.name}.html").is_file()]
            for slug in slugs}


def _line(path: Path, f: dict, out: Path | None = None) -> str:
    extra = f", {f['states']} states" if "states" in f else ""
    budget = VIEW_BUDGET if out is not None and path.parent != out else PAGE_BUDGET
    over = "  OVER BUDGET" if f["bytes"] > budget else ""
    size = (f"{f['bytes'] / 1e6:.2f} MB ({f['gzip_bytes'] / 1e6:.2f} MB gzipped)" if f["bytes"] >= 1e6
            else f"{f['bytes'] / 1e3:.0f} kB ({f['gzip_bytes'] / 1e3:.0f} kB gzipped)")
    return f"wrote {path}  {size}{extra}{over}"
