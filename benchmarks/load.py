#!/usr/bin/env python3
"""Many learners at once: slider-to-data latency with N concurrent sessions on one server.

    python benchmarks/load.py [--apps dropout,layer_norm] [--sessions 1,10,20,40]
                              [--num-procs 1,2] [--seconds 12] [--period 0.2]

(With a fresh checkout, run `bash scripts/test.sh` once and use `.venv/bin/python`.)

For each app, each ``--num-procs`` value and each N in ``--sessions`` it starts
``deeptricks serve --num-procs K`` and opens N sessions as lightweight websocket clients
(no browser: N headless Chromium pages would eat the two cores the server needs). Each
client does what a browser does up to the first render: GET the page (the server builds
the session's document), open the Bokeh websocket with the page's token, pull the
document, send ``document_ready``. Then every session moves the app's slider every
``--period`` seconds (open loop, like a hand dragging: it does not wait for the answer)
through a sawtooth of distinct slider values, for ``--seconds``; the sessions start a
random fraction of a period apart.

What is measured: **slider-to-data**, from sending a move (the PATCH-DOC a browser sends
when the slider changes) to the complete arrival (all binary buffers) of the first
server patch of the watched ColumnDataSource that shows that move's value or a later
one. Repaint in a browser comes after that (on the order of 15-70 ms more for these
pages; see benchmarks/latency.py). Which value a patch shows is known from its data:
before the run a calibration session visits every slider value of the sawtooth twice
and records the hash of the source's buffers per value (so the pages must be
deterministic for fixed settings, which the calibration checks). A move overtaken by a
later one before its own data came (coalesced away) is booked at the arrival of the
later data, as the learner sees it.

Printed per (app, processes, N): moves sent, p50/p95/max latency ("lost" when a move's
data had not arrived 3 s after the last move: counted as slower than all others), data updates
received per move (below 1 when stale moves were coalesced), the server's CPU (% of one
core, all processes) and the client's own CPU over the run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m deeptricks serve`` on 127.0.0.1:<free port>, its output in a temp file."""

    def __init__(self, *args: str, env: dict | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix="deeptricks-serve-", suffix=".log", delete=False)
        self.cmd = [PY, "-m", "deeptricks", "serve", "--address", "127.0.0.1", "--port", str(self.port), *args]
        self.env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        self.proc: subprocess.Popen | None = None
        self.t_spawn = 0.0

    def start(self, timeout: float = 60.0) -> "Server":
        self.t_spawn = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{' '.join(self.cmd)} exited:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(self.base + "/liveness", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server did not answer within {timeout} s:\n{self.log_text()}")
            time.sleep(0.05)

    def pids(self) -> list[int]:
        """The server process and its forked children (``--num-procs``)."""
        if self.proc is None:
            return []
        out = [self.proc.pid]
        try:
            kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            out += [int(k) for k in kids]
        except OSError:
            pass
        return out

    def cpu_seconds(self) -> float:
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.pids():
            try:
                f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(f[11]) + int(f[12])) / tick
            except OSError:
                pass
        return total

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        self.log.close()
        try:
            os.unlink(self.log.name)
        except OSError:
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --------------------------------------------------------------------------- one session


def _walk(obj):
    """Every Bokeh model object ({"type": "object", "id", "attributes"}) in a document's JSON."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            if o.get("type") == "object" and "id" in o:
                yield o
            stack.extend(o.values())
        elif isinstance(o, list):
            stack.extend(o)


def _is_slider(o: dict) -> bool:
    """A Bokeh Slider-like model ("Slider", Panel's int/float sliders; not RangeSlider)."""
    return str(o.get("name", "")).rsplit(".", 1)[-1] in ("Slider", "IntSlider", "FloatSlider")


def _inline_buffers(obj, buffers: dict):
    """``obj`` with every buffer reference replaced by a digest of the buffer's bytes
    (the references' ids differ from one message to the next; the bytes do not)."""
    if isinstance(obj, dict):
        if obj.get("type") == "bytes" and isinstance(obj.get("data"), dict):
            return hashlib.sha1(buffers.get(obj["data"].get("id"), b"")).hexdigest()
        return {k: _inline_buffers(v, buffers) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_inline_buffers(v, buffers) for v in obj]
    return obj


@dataclass
class Message:
    header: dict
    content: dict
    buffers: dict[str, bytes]
    t: float          # perf_counter when the last frame arrived


class Session:
    """One learner: a page load plus a Bokeh websocket, without a browser."""

    def __init__(self, base: str, route: str, query: str = ""):
        self.base, self.route, self.query = base, route, query
        self.ws = None
        self.doc: dict | None = None
        self.on_message = None        # callback(Message)
        self._reader: asyncio.Task | None = None
        self.closed = False

    async def open(self) -> "Session":
        from tornado.httpclient import AsyncHTTPClient
        from tornado.websocket import websocket_connect

        url = f"{self.base}/{self.route}" + (f"?{self.query}" if self.query else "")
        resp = await AsyncHTTPClient().fetch(url, connect_timeout=300, request_timeout=300)
        m = re.search(r'"token":\s*"([^"]+)"', resp.body.decode())
        if m is None:
            raise RuntimeError(f"no session token in the page at {url}")
        ws_url = self.base.replace("http", "ws", 1) + f"/{self.route}/ws"
        from tornado.httpclient import HTTPRequest

        self.ws = await websocket_connect(HTTPRequest(ws_url, connect_timeout=300, request_timeout=300),
                                          subprotocols=["bokeh", m.group(1)],
                                          max_message_size=200 * 2**20)
        ack = await self._read()
        if ack is None or ack.header.get("msgtype") != "ACK":
            raise RuntimeError(f"expected ACK from {ws_url}, got {ack and ack.header}")
        await self.send("PULL-DOC-REQ", {})
        reply = await self._read()
        if reply is None or reply.header.get("msgtype") != "PULL-DOC-REPLY":
            raise RuntimeError(f"expected PULL-DOC-REPLY, got {reply and reply.header}")
        self.doc = reply.content["doc"]
        await self.send("PATCH-DOC", {"events": [{
            "kind": "MessageSent", "msg_type": "bokeh_event",
            "msg_data": {"type": "event", "name": "document_ready", "values": {"type": "map"}}}]})
        self._reader = asyncio.ensure_future(self._read_forever())
        return self

    def find(self, *, name: str | None = None, title: str | None = None) -> str:
        """Id of the model named ``name`` or the slider whose title contains ``title``."""
        hits = []
        for o in _walk(self.doc):
            a = o.get("attributes", {})
            if name is not None and a.get("name") == name:
                hits.append(o["id"])
            elif title is not None and _is_slider(o) and title in str(a.get("title", "")):
                hits.append(o["id"])
        if len(set(hits)) != 1:
            raise RuntimeError(f"expected one model with name={name!r} title={title!r}, found {hits}")
        return hits[0]

    async def send(self, msgtype: str, content: dict) -> None:
        header = {"msgid": uuid.uuid4().hex, "msgtype": msgtype}
        await self.ws.write_message(json.dumps(header))
        await self.ws.write_message("{}")
        await self.ws.write_message(json.dumps(content))

    async def set_value(self, model_id: str, value) -> None:
        await self.send("PATCH-DOC", {"events": [
            {"kind": "ModelChanged", "model": {"id": model_id}, "attr": "value", "new": value},
            {"kind": "ModelChanged", "model": {"id": model_id}, "attr": "value_throttled", "new": value}]})

    async def _read(self) -> Message | None:
        frames = []
        for _ in range(3):
            f = await self.ws.read_message()
            if f is None:
                return None
            frames.append(f)
        header = json.loads(frames[0])
        content = json.loads(frames[2])
        buffers = {}
        for _ in range(header.get("num_buffers", 0)):
            ref = await self.ws.read_message()
            payload = await self.ws.read_message()
            if ref is None or payload is None:
                return None
            buffers[json.loads(ref)["id"]] = payload
        return Message(header, content, buffers, time.perf_counter())

    async def _read_forever(self) -> None:
        while True:
            msg = await self._read()
            if msg is None:
                self.closed = True
                return
            if self.on_message is not None:
                self.on_message(msg)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None:
            self.ws.close()
        self.closed = True


def source_hash(msg: Message, source_id: str) -> str | None:
    """Hash of the data a PATCH-DOC sets on ``source_id`` (None when it does not touch it)."""
    if msg.header.get("msgtype") != "PATCH-DOC":
        return None
    for ev in msg.content.get("events", ()):
        if ev.get("model", {}).get("id") != source_id or ev.get("kind") not in ("ColumnDataChanged", "ModelChanged"):
            continue
        if ev.get("kind") == "ModelChanged" and ev.get("attr") != "data":
            continue
        payload = _inline_buffers(ev.get("data", ev.get("new")), msg.buffers)
        return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return None


# --------------------------------------------------------------------------- the apps


@dataclass(frozen=True)
class LoadSpec:
    route: str
    slider: str            # title of the Bokeh slider moved
    source: str            # name of the ColumnDataSource that must change
    values: tuple          # the sawtooth of slider values (distinct)
    why: str


def _steps(lo, hi, step, nd=6):
    n = int(round((hi - lo) / step))
    return tuple(round(lo + i * step, nd) for i in range(n + 1))


APPS = {
    "dropout": LoadSpec("dropout", "Dropout rate p", "dropout-units-source", _steps(0.05, 0.9, 0.05),
                        "the issue's example; the most expensive slider of the first page a course opens"),
    "layer_norm": LoadSpec("layer_norm", "Batch size", "ln-shrink-bn-source", tuple(range(2, 30, 2)),
                           "a cheap update: the floor of what a slider on a real page costs under load"),
}


# --------------------------------------------------------------------------- a run


async def calibrate(base: str, spec: LoadSpec) -> dict[str, object]:
    """hash of the watched source's data -> slider value, checking the page is deterministic."""
    s = await Session(base, spec.route).open()
    sid, cds = s.find(title=spec.slider), s.find(name=spec.source)
    arrived: asyncio.Queue = asyncio.Queue()
    s.on_message = lambda m: (h := source_hash(m, cds)) and arrived.put_nowait(h)
    table: dict[str, object] = {}
    try:
        for rnd in range(2):
            for v in spec.values:
                await s.set_value(sid, v)
                h = await asyncio.wait_for(arrived.get(), 60)
                await asyncio.sleep(0.15)        # take the last if several came
                while not arrived.empty():
                    h = arrived.get_nowait()
                if rnd == 0:
                    if h in table:
                        raise RuntimeError(f"{spec.route}: values {table[h]} and {v} give the same data")
                    table[h] = v
                elif table.get(h) != v:
                    raise RuntimeError(f"{spec.route}: the data for {spec.slider} = {v} is not the same "
                                       "twice (the page is not deterministic); cannot tell values apart")
    finally:
        s.close()
    return table


@dataclass
class Learner:
    session: Session
    slider: str
    source: str
    sent: list = field(default_factory=list)      # (t, value)
    arrived: list = field(default_factory=list)   # (t, value)


async def run_load(base: str, spec: LoadSpec, n: int, seconds: float, period: float,
                   table: dict, on_moving=None) -> dict:
    sessions = []
    for i in range(0, n, 5):   # open in small batches, as a class arriving
        sessions += await asyncio.gather(*(Session(base, spec.route).open() for _ in range(min(5, n - i))))
    learners = []
    for s in sessions:
        lr = Learner(s, s.find(title=spec.slider), s.find(name=spec.source))

        def on_msg(m, lr=lr):
            h = source_hash(m, lr.source)
            if h is not None:
                lr.arrived.append((m.t, table.get(h)))
        s.on_message = on_msg
        learners.append(lr)
    await asyncio.sleep(1.0)   # the initial messages (location sync) settle

    async def drive(lr: Learner, offset: float, t0: float):
        await asyncio.sleep(offset)
        k = random.randrange(len(spec.values))
        next_t = t0 + offset
        while next_t < t0 + seconds:
            k = (k + 1) % len(spec.values)
            v = spec.values[k]
            lr.sent.append((time.perf_counter(), v))
            await lr.session.set_value(lr.slider, v)
            next_t += period
            await asyncio.sleep(max(0.0, next_t - time.perf_counter()))

    wall0 = time.perf_counter()
    if on_moving is not None:   # e.g. start a profiler now
        on_moving()
    t0 = time.perf_counter()
    tasks = [drive(lr, random.uniform(0, period), t0) for lr in learners]
    cpu_client0 = time.process_time()
    await asyncio.gather(*tasks)
    await asyncio.sleep(3.0)   # the last answers
    client_cpu = time.process_time() - cpu_client0
    wall = time.perf_counter() - wall0
    for lr in learners:
        lr.session.close()

    lat, unknown, lost, updates, moves = [], 0, 0, 0, 0
    for lr in learners:
        sent, arr = lr.sent, lr.arrived
        updates += sum(1 for t, _ in arr if t >= sent[0][0]) if sent else 0
        moves += len(sent)
        unknown += sum(1 for _, v in arr if v is None)
        # index of the latest move with each value, as of each arrival
        for i, (ts, v) in enumerate(sent):
            done = None
            for ta, va in arr:
                if ta < ts or va is None:
                    continue
                # the arrival shows the latest move sent before it with value va
                j = max((jj for jj, (tj, vj) in enumerate(sent) if vj == va and tj <= ta), default=-1)
                if j >= i:
                    done = ta
                    break
            if done is None:      # never caught up before the end: slower than anything measured
                lost += 1
                lat.append(float("inf"))
            else:
                lat.append((done - ts) * 1000)
    return {"n": n, "moves": moves, "measured": len(lat) - lost, "lost": lost, "unknown": unknown,
            "updates_per_move": updates / moves if moves else 0.0, "lat": lat,
            "client_cpu": 100 * client_cpu / wall}


def pct(values, p):
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)] if s else float("nan")


def measure(spec: LoadSpec, procs: int, ns: list[int], seconds: float, period: float) -> list[dict]:
    """One server; for each N a fresh set of sessions (the previous ones closed)."""
    rows = []
    with Server("--num-procs", str(procs)) as server:
        table = asyncio.run(calibrate(server.base, spec))
        for n in ns:
            time.sleep(1.0)
            cpu0, t0 = server.cpu_seconds(), time.perf_counter()
            r = asyncio.run(run_load(server.base, spec, n, seconds, period, table))
            r["server_cpu"] = 100 * (server.cpu_seconds() - cpu0) / (time.perf_counter() - t0)
            r.update(procs=procs, app=spec.route, rss_mb=server.rss_mb(), load=os.getloadavg()[0])
            rows.append(r)
            print(f"[load] {spec.route} procs={procs} N={n}: p50 {pct(r['lat'], 50):.0f} ms, "
                  f"p95 {pct(r['lat'], 95):.0f} ms", file=sys.stderr, flush=True)
        errors = [ln for ln in server.log_text().splitlines() if "Traceback" in ln or "ERROR" in ln]
        if errors:
            print(f"[load] the server logged {len(errors)} error line(s), e.g. {errors[0]}", file=sys.stderr)
    return rows


def _ms(x: float) -> str:
    return "lost" if x == float("inf") else f"{x:.0f}"


def report(rows: list[dict], seconds: float, period: float) -> None:
    print()
    print(f"slider -> data arrival, ms: N sessions each moving a slider every {period * 1000:.0f} ms "
          f"for {seconds:.0f} s (websocket clients)")
    head = (f"{'app':<11} {'procs':>5} {'N':>3} {'moves':>6} {'p50':>6} {'p95':>6} {'max':>6} "
            f"{'upd/move':>8} {'lost':>4} {'server CPU':>10} {'client CPU':>10} {'RSS MB':>7} {'load':>5}")
    print(head)
    print("-" * len(head))
    for r in rows:
        lat = r["lat"]
        print(f"{r['app']:<11} {r['procs']:>5} {r['n']:>3} {r['moves']:>6} {_ms(pct(lat, 50)):>6} "
              f"{_ms(pct(lat, 95)):>6} {_ms(max(lat) if lat else float('nan')):>6} "
              f"{r['updates_per_move']:>8.2f} {r['lost']:>4} {r['server_cpu']:>9.0f}% "
              f"{r['client_cpu']:>9.0f}% {r['rss_mb']:>7.0f} {r['load']:>5.1f}")
    print("('lost': moves whose data had not arrived 3 s after the last move; they count as slower than "
          "any other in p50/p95/max)")
    print("(CPU in % of one core; 'load' = 1-minute load average after the row; the machine has", os.cpu_count(), "cores; load average",
          " ".join(f"{x:.2f}" for x in os.getloadavg()), "at the end)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--apps", default="dropout,layer_norm", help=f"comma-separated, of {', '.join(APPS)}")
    ap.add_argument("--sessions", default="1,10,20,40", help="comma-separated session counts")
    ap.add_argument("--num-procs", default="1,2", help="comma-separated server process counts")
    ap.add_argument("--seconds", type=float, default=12.0, help="how long every session moves (default 12)")
    ap.add_argument("--period", type=float, default=0.2, help="seconds between moves (default 0.2)")
    ap.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    args = ap.parse_args(argv)
    ns = [int(x) for x in args.sessions.split(",") if x.strip()]
    procs = [int(x) for x in args.num_procs.split(",") if x.strip()]
    rows = []
    print(f"[load] load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)
    for app in [a.strip() for a in args.apps.split(",") if a.strip()]:
        for k in procs:
            rows += measure(APPS[app], k, ns, args.seconds, args.period)
    report(rows, args.seconds, args.period)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
