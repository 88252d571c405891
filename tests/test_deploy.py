"""deploy/k8s and deploy/nginx.conf stay consistent with the Dockerfile and the CLI (no cluster needed).

The manifests are parsed as YAML and compared with what the image really does: the port it
serves, the user it runs as, the command it starts, the environment variable it reads, and
the health endpoint its HEALTHCHECK uses. The Ingress and nginx.conf must agree on the public
host, the affinity cookie and the websocket timeout.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

import pytest
import yaml

from deeptricks.__main__ import build_parser

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
sys.path.insert(0, str(ROOT / "tests"))
from test_dockerfile import stages  # noqa: E402  (the Dockerfile's parser)

ENV_NAME = "DEEPTRICKS_ALLOW_WEBSOCKET_ORIGIN"


def load(name: str) -> dict:
    (doc,) = [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    return doc


@pytest.fixture(scope="module")
def image():
    """What the final image stage declares: CMD, EXPOSEd port, uid, ENV names, healthcheck path."""
    final = stages()[-1]
    d = {w: a for w, a in final}
    (uid,) = re.findall(r"useradd\b.*--uid (\d+)", " ".join(a for w, a in final if w == "RUN"))
    env = " ".join(a for w, a in final if w == "ENV")
    return {
        "cmd": json.loads(d["CMD"]),
        "port": int(d["EXPOSE"]),
        "uid": int(uid),
        "env": dict(re.findall(r"(\w+)=(\S+)", env)),
        "health_path": re.search(r"http://127\.0\.0\.1:\d+(/\S*?)['\"]", d["HEALTHCHECK"]).group(1),
    }


@pytest.fixture(scope="module")
def container():
    dep = load("deployment.yaml")
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    return c


def nginx_conf() -> str:
    return (ROOT / "deploy" / "nginx.conf").read_text()


def seconds(value: str) -> int:
    """nginx time ('1h', '90s', '3600') or an annotation's number as seconds."""
    m = re.fullmatch(r"(\d+)([smhd]?)", value.strip())
    assert m, value
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def test_deployment_runs_the_images_command_as_its_user(image, container):
    dep = load("deployment.yaml")
    pod = dep["spec"]["template"]["spec"]
    # the command is the image's CMD, with only options the CLI knows added
    cmd = container.get("command", image["cmd"]) + container.get("args", [])
    assert cmd[: len(image["cmd"])] == image["cmd"], cmd
    args = build_parser().parse_args(cmd[1:])
    assert args.command == "serve" and args.address == "0.0.0.0"
    assert set(cmd[len(image["cmd"]):]) <= {"--use-xheaders"}, "extra options the image does not use"
    # the same port everywhere: CMD, EXPOSE, containerPort
    assert args.port == image["port"]
    assert [p["containerPort"] for p in container["ports"]] == [image["port"]]
    # non-root, as the Dockerfile's user
    sc = pod["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == image["uid"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    # the allowed-origin variable the image sets (and serve reads) is the one set here
    env = {e["name"]: e["value"] for e in container["env"]}
    assert ENV_NAME in image["env"] and set(env) == {ENV_NAME}
    # one process per pod: affinity works per pod
    assert args.num_procs == 1
    assert dep["spec"]["selector"]["matchLabels"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()


def test_probes_hit_the_healthcheck_endpoint(image, container):
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == image["health_path"] == "/liveness", probe
        assert named.get(get["port"], get["port"]) == image["port"], probe
    res = container["resources"]
    for key in ("cpu", "memory"):
        assert res["requests"][key] and res["limits"][key]
    mem = lambda v: int(re.fullmatch(r"(\d+)Mi", v).group(1)) if v.endswith("Mi") else int(v[:-2]) * 1024
    assert mem(res["requests"]["memory"]) <= mem(res["limits"]["memory"])


def test_service_and_ingress_reach_the_pods_with_affinity(container):
    dep, svc, ing = load("deployment.yaml"), load("service.yaml"), load("ingress.yaml")
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= pod_labels.items()
    assert svc["spec"]["sessionAffinity"] == "ClientIP"
    (port,) = svc["spec"]["ports"]
    assert port["targetPort"] in [p["name"] for p in container["ports"]] + [p["containerPort"]
                                                                           for p in container["ports"]]
    (rule,) = ing["spec"]["rules"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == svc["metadata"]["name"]
    assert backend["port"].get("name", backend["port"].get("number")) in (port["name"], port["port"])
    notes = ing["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    # the public host may open sessions
    origins = {e["value"] for e in container["env"] if e["name"] == ENV_NAME}.pop().split(",")
    assert rule["host"] in [o.split(":")[0] for o in origins]
    # kustomize applies every manifest here
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert sorted(kust["resources"]) == sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def test_ingress_and_nginx_conf_agree():
    conf = nginx_conf()
    ing = load("ingress.yaml")
    notes = ing["metadata"]["annotations"]
    # the same affinity cookie name and the same idle-websocket timeout
    cookie = re.search(r"\$cookie_(\w+)", conf).group(1)
    assert notes["nginx.ingress.kubernetes.io/session-cookie-name"] == cookie
    assert re.search(rf'"{cookie}=\$request_id; Path=/; HttpOnly; SameSite=Lax"', conf)
    assert notes["nginx.ingress.kubernetes.io/session-cookie-samesite"] == "Lax"
    (read,) = re.findall(r"proxy_read_timeout (\S+);", conf)
    assert seconds(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) == seconds(read) >= 3600
    # the same public host, which the backends in nginx.conf's instructions allow
    (host,) = re.findall(r"^\s*server_name (\S+);", conf, flags=re.M)
    assert ing["spec"]["rules"][0]["host"] == host
    lines = re.findall(r"^#\s+(deeptricks serve .*)$", conf, flags=re.M)
    ports = {int(p) for p in re.findall(r"^\s*server 127\.0\.0\.1:(\d+);", conf, flags=re.M)}
    assert len(lines) >= 2 and len(ports) >= 2
    for line in lines:
        args = build_parser().parse_args(shlex.split(line)[1:])
        assert args.allow_websocket_origin == [host] and args.use_xheaders
        assert args.port in ports
    assert {build_parser().parse_args(shlex.split(l)[1:]).port for l in lines} == ports
