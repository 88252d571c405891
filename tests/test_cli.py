"""`deeptricks serve` serves the index, every explorable and a liveness endpoint."""

import html
import subprocess
import sys
import time
import urllib.request

import pytest

from deeptricks.__main__ import build_parser
from deeptricks.server.app import default_origins
from deeptricks.explorables.registry import EXPLORABLES, view_routes

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent / "browser"))
from browser_harness import free_port  # noqa: E402


def test_origins_default_to_this_server_only():
    assert default_origins("localhost", 5006) == ["localhost:5006", "127.0.0.1:5006"]
    assert default_origins("tricks.example.org", 80) == ["tricks.example.org:80"]
    args = build_parser().parse_args(["serve"])
    assert args.allow_websocket_origin == [] and args.port == 5006 and args.address == "localhost"
    assert not args.use_xheaders  # trust X-Forwarded-* only when told the server is behind a proxy
    assert build_parser().parse_args(["serve", "--use-xheaders"]).use_xheaders


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.read().decode()


@pytest.mark.slow
def test_serve_answers_every_route():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "deeptricks", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://localhost:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = get(base + "/liveness")
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        assert status == 200 and "true" in body
        status, body = get(base + "/")
        assert status == 200
        for e in EXPLORABLES:
            status, body = get(f"{base}/{e.slug}")
            assert status == 200 and "bokeh" in body.lower(), e.slug
        for e, v in view_routes():
            status, body = get(f"{base}/{e.slug}/{v.name}")
            assert status == 200 and f"{v.title} · {e.title} · deeptricks" in html.unescape(body), (e.slug, v.name)
        status, body = get(base + "/deeptricks/frames.js")
        assert status == 200 and "deeptricks:size" in body
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"http://localhost:{port}/" in out
    assert "Traceback" not in out, out


def test_embed_prints_a_script_tag_and_an_iframe_with_the_settings():
    from deeptricks.__main__ import embed_snippets

    script, iframe = embed_snippets("dropout", "http://tricks.example.org:5006/", "p=0.9&mode=test")
    assert "http://tricks.example.org:5006/dropout/autoload.js" in script
    assert "p=0.9" in script and "mode=test" in script
    assert 'src="http://tricks.example.org:5006/dropout?p=0.9&amp;mode=test"' in iframe
    with pytest.raises(SystemExit, match="unknown explorable"):
        embed_snippets("nope", "http://x")


def test_embed_a_view_prints_a_self_sizing_iframe():
    from deeptricks.__main__ import embed_snippets

    script, iframe = embed_snippets("dropout/units", "https://tricks.example.org", "p=0.7")
    assert "https://tricks.example.org/dropout/units/autoload.js" in script and "p=0.7" in script
    assert '<script src="https://tricks.example.org/deeptricks/frames.js" defer></script>' in iframe
    assert '<iframe data-deeptricks src="https://tricks.example.org/dropout/units?p=0.7"' in iframe
    assert "max-width:760px" in iframe
    with pytest.raises(SystemExit, match="--list"):
        embed_snippets("dropout/nope", "http://x")


def test_embed_list_names_every_view_then_every_page(capsys):
    from deeptricks.__main__ import main

    assert main(["embed", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    targets = [line.split()[0] for line in lines]
    assert targets == [f"{e.slug}/{v.name}" for e, v in view_routes()] + [e.slug for e in EXPLORABLES]
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)     # each with its one line
    assert {"dropout/units", "dropout/readout", "dropout/layers"} <= set(targets)
