"""Command line: ``deeptricks serve`` (or ``python -m deeptricks serve``).

Serves the index at ``/`` and every explorable at ``/<name>`` with Panel's
server. Websocket origins default to the address and port served (so only
pages from this server may open sessions); pass ``--allow-websocket-origin``
for a course site that embeds the explorables.
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="deeptricks", description="Explorable explainers of the tricks "
                                 "that made deep networks trainable.")
    sub = ap.add_subparsers(dest="command")
    s = sub.add_parser("serve", help="serve the index and every explorable")
    s.add_argument("--port", type=int, default=5006, help="port to listen on (default 5006; 0 picks a free one)")
    s.add_argument("--address", default="localhost",
                   help="address to listen on (default localhost; 0.0.0.0 for every interface)")
    s.add_argument("--allow-websocket-origin", action="append", default=[], metavar="HOST[:PORT]",
                   help="a host allowed to open sessions, e.g. a course site that embeds the pages "
                        "(repeatable; default: $DEEPTRICKS_ALLOW_WEBSOCKET_ORIGIN, comma-separated, "
                        "else only this server's own address)")
    s.add_argument("--prefix", default="", help="URL prefix when served behind a proxy, e.g. /tricks")
    s.add_argument("--num-procs", type=int, default=1, help="server processes to fork (default 1)")
    s.add_argument("--use-xheaders", action="store_true",
                   help="behind a reverse proxy (e.g. deploy/nginx.conf): take the client's address and "
                        "scheme from X-Real-Ip/X-Forwarded-For/X-Forwarded-Proto")
    s.add_argument("--autoreload", action="store_true", help="reload pages when the source changes (development)")
    s.add_argument("--show", action="store_true", help="open a browser tab")
    s.add_argument("--session-lifetime", type=float, default=60.0, metavar="SECONDS",
                   help="free a session this long after its last browser tab closed (default 60)")
    e = sub.add_parser("embed", help="print the HTML that embeds an explorable, or one of its views, "
                                     "from a running server")
    e.add_argument("name", nargs="?", help="NAME/VIEW (one view, e.g. dropout/units) or NAME (a whole page); "
                                           "--list lists them")
    e.add_argument("--list", action="store_true", help="list every NAME/VIEW and NAME with one line each")
    e.add_argument("--server", default="http://localhost:5006",
                   help="the running server's base URL, as the course page's readers reach it")
    e.add_argument("--query", default="", help="settings for the page, e.g. 'p=0.9&mode=test'")
    e.add_argument("--height", type=int, default=None,
                   help="the iframe's height before frames.js fits it (default 600 for a view, 2400 for a page)")
    x = sub.add_parser("export", help="write offline HTML files of the explorables and their views "
                                      "(no server needed)")
    x.add_argument("--out", required=True, metavar="DIR",
                   help="directory to write into: DIR/NAME.html, DIR/NAME/VIEW.html and the shared DIR/static/")
    x.add_argument("--only", action="append", default=[], metavar="NAME[/VIEW]",
                   help="export only this explorable and its views, or only this view (repeatable; "
                        "default: all but the lab)")
    x.add_argument("--single-file", action="store_true",
                   help="inline the JavaScript and stylesheets into every file instead of sharing DIR/static/ "
                        "(about 3 MB more per file; for a site that takes one file at a time)")
    x.add_argument("--no-views", action="store_true", help="write the whole pages only")
    return ap


def _slugs() -> list[str]:
    from deeptricks.explorables.registry import EXPLORABLES
    return [x.slug for x in EXPLORABLES]


def embed_targets() -> list[tuple[str, str]]:
    """Every ``(target, one line)`` that ``deeptricks embed`` takes: the views as
    ``NAME/VIEW``, then the whole pages as ``NAME``."""
    from deeptricks.explorables.registry import EXPLORABLES, view_routes

    views = [(f"{e.slug}/{v.name}", v.summary) for e, v in view_routes()]
    return views + [(e.slug, f"the whole {e.title} page") for e in EXPLORABLES]


def embed_snippets(name: str, server: str, query: str = "", height: int | None = None) -> tuple[str, str]:
    """The two ways to embed an explorable or one view (``NAME/VIEW``): Bokeh's
    server_document script tag, and an iframe that ``frames.js`` sizes to its content."""
    from html import escape
    from urllib.parse import parse_qsl

    from bokeh.embed import server_document

    targets = dict(embed_targets())
    if name not in targets:
        raise SystemExit(f"unknown explorable or view {name!r}; `deeptricks embed --list` lists them")
    base = server.rstrip("/")
    url = f"{base}/{name}"
    args = dict(parse_qsl(query.lstrip("?"), keep_blank_values=True))
    script = server_document(url, arguments=args or None)
    src = url + ("?" + query.lstrip("?") if query.strip("?") else "")
    is_view = "/" in name
    height = height or (600 if is_view else 2400)     # the first guess; frames.js fits the frame
    width = 760 if is_view else 1280
    title = targets[name] if is_view else f"{name} explorable"
    iframe = (f'<script src="{escape(base, quote=True)}/deeptricks/frames.js" defer></script>\n'
              f'<iframe data-deeptricks src="{escape(src, quote=True)}" title="{escape(title, quote=True)}" '
              f'style="width:100%;max-width:{width}px;height:{height}px;border:0" loading="lazy"></iframe>')
    return script, iframe


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.command == "embed":
        if args.list or not args.name:
            for target, line in embed_targets():
                print(f"{target:28s} {line}")
            return 0 if args.list else 2
        script, iframe = embed_snippets(args.name, args.server, args.query, args.height)
        host = args.server.split("//", 1)[-1].split("/", 1)[0]
        print("<!-- live embed: the explorable runs on the server; serve it with\n"
              "     deeptricks serve --allow-websocket-origin <the course site's host[:port]>\n"
              f"       --allow-websocket-origin {host}   (the server's own public host, for direct visits "
              "and iframes) -->")
        print(script)
        print(f"<!-- or, as an iframe (the origin allowed is then the server's own: {host});\n"
              "     frames.js, once per course page, fits each deeptricks iframe to its content -->")
        print(iframe)
        return 0
    if args.command == "export":
        from deeptricks.export import export
        try:
            export(args.out, args.only or None, views=not args.no_views, single_file=args.single_file)
        except ValueError as exc:
            print(f"deeptricks export: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command != "serve":
        ap.print_help()
        return 0 if args.command is None else 2
    from deeptricks.server.app import serve
    serve(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
