"""Offline HTML: an exported page or view that makes no request outside its folder.

Two ways to get there:

* **single file** (``--single-file``): everything inlined, as below;
* **shared** (the default of ``deeptricks export``): the JavaScript and Panel's
  stylesheets, which every file needs, are written once into ``DIR/static/`` and
  referenced relatively (:func:`share_resources`, :func:`share_stylesheets`), so a
  course page that frames a dozen offline views loads Bokeh once.

For a single file:

* Bokeh's and Panel's JavaScript is inlined (``resources=INLINE`` when the page
  is rendered);
* Panel still links some stylesheets from its CDN even then
  (holoviz/panel#6759): :func:`inline_stylesheets` replaces every
  ``ImportedStyleSheet`` by an ``InlineStyleSheet`` holding the file from the
  installed ``panel/dist``, with the images it refers to turned into ``data:``
  URIs (:func:`inline_css`), and :func:`fix_head` replaces the favicon links by
  an inline icon (:func:`favicon`);
* :func:`external_references` lists anything a browser would still load from
  elsewhere, so that a file that has any is never written.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path


# -- stylesheets, icons -----------------------------------------------------------------------
def _dist_file(url: str) -> Path | None:
    """The installed file behind one of Panel's CDN URLs (None if it is not Panel's)."""
    from panel.io.resources import CDN_DIST, DIST_DIR
    path = url.split("?", 1)[0]
    if not path.startswith(CDN_DIST):
        return None
    f = DIST_DIR / path[len(CDN_DIST):]
    return f if f.is_file() else None


def _data_uri(path: Path) -> str:
    mime = {".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
            ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf"}.get(path.suffix, "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


def inline_css(css: str, base: Path) -> str:
    """``url(...)`` references to local files in ``css`` (relative to ``base``) as data: URIs."""
    def repl(m):
        ref = m.group(2).strip()
        if ref.startswith(("data:", "#")) or re.match(r"^[a-z]+:", ref) or ref.startswith("//"):
            return m.group(0)
        f = (base / ref.split("?", 1)[0].split("#", 1)[0]).resolve()
        if not f.is_file():
            raise FileNotFoundError(f"stylesheet refers to {ref}, not found at {f}")
        return f'url("{_data_uri(f)}")'
    return _CSS_URL.sub(repl, css)


def inline_stylesheets(doc) -> int:
    """Replace each ImportedStyleSheet from Panel's CDN by an InlineStyleSheet with the file's CSS."""
    from bokeh.models import ImportedStyleSheet, InlineStyleSheet

    cache: dict[str, InlineStyleSheet] = {}
    replaced = 0
    for m in list(doc.models):
        sheets = getattr(m, "stylesheets", None) if "stylesheets" in m.properties() else None
        if not sheets:
            continue
        new, changed = [], False
        for s in sheets:
            if isinstance(s, ImportedStyleSheet):
                f = _dist_file(s.url)
                if f is None:
                    raise ValueError(f"stylesheet {s.url} is not one of Panel's installed files")
                if s.url not in cache:
                    cache[s.url] = InlineStyleSheet(css=inline_css(f.read_text(encoding="utf-8"), f.parent))
                new.append(cache[s.url])
                changed = True
            else:
                new.append(s)
        if changed:
            m.stylesheets = new
            replaced += 1
    return replaced


def favicon() -> str:
    from panel.io.resources import DIST_DIR
    return _data_uri(DIST_DIR / "images" / "favicon.ico")


_ICON_LINK = re.compile(r"<link[^>]*rel=\"(?:apple-touch-icon|icon|shortcut icon)\"[^>]*>", re.I)


def fix_head(page_html: str, icon_href: str | None = None) -> str:
    """Replace Panel's icon links (to its CDN) by one to ``icon_href`` (default: inline)."""
    page_html = _ICON_LINK.sub("", page_html)
    icon = f'<link rel="icon" href="{icon_href or favicon()}">'
    return page_html.replace("<head>", "<head>\n" + icon, 1)


# -- shared static files --------------------------------------------------------------------
def _static_file(url: str) -> tuple[str, Path]:
    """Where one of Bokeh's or Panel's CDN files goes in ``static/``, and the installed file."""
    from panel.io.resources import CDN_DIST

    f = _dist_file(url)
    if f is not None:     # e.g. bundled/reactiveesm/es-module-shims@^1.10.0/...: plain names only
        return "panel/" + re.sub(r"[^A-Za-z0-9._/-]", "_", url.split("?", 1)[0][len(CDN_DIST):]), f
    m = re.match(r"https://cdn\.bokeh\.org/bokeh/(?:release|dev)/(bokeh(?:-[a-z]+)?)-([^/]+?)(\.min)?\.js$", url)
    if m:
        import bokeh
        f = Path(bokeh.__file__).parent / "server" / "static" / "js" / f"{m.group(1)}{m.group(3) or ''}.js"
        if f.is_file():
            return f"bokeh/{m.group(1)}-{m.group(2)}{m.group(3) or ''}.js", f
    raise ValueError(f"{url} is not one of Bokeh's or Panel's installed files")


def share_stylesheets(doc, prefix: str) -> dict[str, bytes]:
    """Point each ImportedStyleSheet from Panel's CDN at ``prefix`` + its place in ``static/``.

    Returns the files to write there (``static/`` path -> content), each stylesheet with
    the images it refers to inlined as data: URIs."""
    from bokeh.models import ImportedStyleSheet

    files: dict[str, bytes] = {}
    sheets: dict[str, ImportedStyleSheet] = {}
    for m in list(doc.models):
        old = getattr(m, "stylesheets", None) if "stylesheets" in m.properties() else None
        if not old or not any(isinstance(s, ImportedStyleSheet) for s in old):
            continue
        new = []
        for s in old:
            if isinstance(s, ImportedStyleSheet) and not s.url.startswith(prefix):
                rel, f = _static_file(s.url)
                if rel not in files:
                    files[rel] = inline_css(f.read_text(encoding="utf-8"), f.parent).encode("utf-8")
                    sheets[rel] = ImportedStyleSheet(url=prefix + rel)
                s = sheets[rel]
            new.append(s)
        m.stylesheets = new
    return files


_RESOURCE_REF = re.compile(r"""(<(?:script|link)\b[^>]*?\b(?:src|href)=")(https?://[^"]+)(")""", re.I)


def share_resources(page_html: str, prefix: str) -> tuple[str, dict[str, Path]]:
    """Rewrite the page's scripts and links to Bokeh's and Panel's CDN (a page rendered with
    CDN resources) to ``prefix`` + their place in ``static/``; returns the page and the
    files to copy there (``static/`` path -> installed file)."""
    files: dict[str, Path] = {}

    def repl(m):
        rel, f = _static_file(m.group(2))
        files[rel] = f
        return m.group(1) + prefix + rel + m.group(3)
    return _RESOURCE_REF.sub(repl, page_html), files


# -- checking for external references ---------------------------------------------------------
_ATTR_REF = re.compile(r"""<(script|link|img|iframe|source|audio|video|embed|object)\b[^>]*?\b(src|href|data)\s*=\s*(['"]?)([^'"\s>]+)""", re.I)


def external_references(page_html: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """What a browser would load from outside this file when it opens it (apart from
    relative references starting with one of ``allowed``, e.g. the shared ``static/``).

    Looks at the HTML's tags outside scripts (script/link/img ... src or href), at
    every stylesheet (``@import`` and ``url(...)``, in <style> tags and in the Bokeh
    document's inline stylesheets, stored states included) and at any
    ImportedStyleSheet left in the document. Text inside scripts (URLs in comments,
    code paths never taken) is not counted: the browser test checks that nothing is
    requested.
    """
    found = []
    outside = _SCRIPT_BODY.sub(r"\1\2", page_html)
    for m in _ATTR_REF.finditer(outside):
        tag, attr, ref = m.group(1).lower(), m.group(2).lower(), m.group(4)
        if not ref.startswith(("data:", "#", "javascript:", *allowed)):
            found.append(f"<{tag} {attr}={ref}>")
    sheets = re.findall(r"<style[^>]*>(.*?)</style>", outside, re.S | re.I)
    imported: list[str] = []
    for d in document_json(page_html):
        _walk_doc(d, sheets, imported)
    for css in sheets:
        found.extend(re.findall(r"@import\s+[^;]+;", css))
        found.extend(f"url({ref})" for _, ref in _CSS_URL.findall(css)
                     if not ref.strip().startswith(("data:", "#")))
    found.extend(f"ImportedStyleSheet({u})" for u in imported if not (allowed and u.startswith(allowed)))
    return found


_SCRIPT_BODY = re.compile(r"(<script\b[^>]*>).*?(</script>)", re.S | re.I)


def _walk_doc(node, sheets: list[str], imported: list[str]) -> None:
    """Collect inline CSS and imported stylesheet URLs of a document (and its stored patches)."""
    if isinstance(node, dict):
        name = node.get("name")
        attrs = node.get("attributes") if isinstance(node.get("attributes"), dict) else {}
        if name == "InlineStyleSheet" and isinstance(attrs.get("css"), str):
            sheets.append(attrs["css"])
        elif name == "ImportedStyleSheet":
            imported.append(str(attrs.get("url")))
        for k, v in node.items():
            if k == "content" and isinstance(v, str) and v.startswith("{"):
                _walk_doc(json.loads(v), sheets, imported)
            else:
                _walk_doc(v, sheets, imported)
    elif isinstance(node, list):
        for v in node:
            _walk_doc(v, sheets, imported)



# -- the documents in a written page ----------------------------------------------------------
_DOC_JSON = re.compile(r'<script type="application/json"[^>]*>(.*?)</script>', re.S)


def document_json(page_html: str) -> Iterator[dict]:
    """The JSON of each Bokeh document script in an HTML page: a ``{doc id: document}`` map each."""
    for doc_json in _DOC_JSON.findall(page_html):
        yield json.loads(doc_json)
