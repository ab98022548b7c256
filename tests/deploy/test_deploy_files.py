"""The container and orchestration files, checked statically (no Docker engine here).

Every file parses; every command they run is one the bot's command line accepts; every
environment variable they set is one ``Settings.from_env`` reads, and the values parse; the
ports agree from the Dockerfile through compose and nginx to Kubernetes; the knowledge
ConfigMap, mounted as the Deployment mounts it, loads as valid knowledge.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import COMMANDS
from bot.core.knowledge import load_knowledge
from bot.core.router import Router
from bot.deploy import configmap
from bot.deploy.workers import KILL_AFTER_GRACE_SECONDS
from bot.settings import DEFAULT_KNOWLEDGE_DIR, Settings
from tests.bot_process import settings_variables

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
# Variables of the image and the tools in it, not of the bot.
RUNTIME_VARIABLES = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}


# --- helpers ------------------------------------------------------------------------------------


def parse_bot_command(argv: list[str]) -> tuple[str, argparse.Namespace]:
    """Parse ``python -m bot COMMAND ...`` exactly as ``bot.cli`` would; fail if it cannot."""
    assert argv[:3] == ["python", "-m", "bot"], argv
    name = argv[3]
    assert name in COMMANDS, f"unknown command {name!r}"
    module = importlib.import_module(COMMANDS[name][0])
    parser = argparse.ArgumentParser(prog=f"python -m bot {name}", exit_on_error=False)
    module.configure(parser)
    return name, parser.parse_args(argv[4:])


def assert_python_module_runs(argv: list[str]) -> None:
    """``python -m MODULE`` names a module with a ``main`` (or the bot's CLI)."""
    assert argv[:2] == ["python", "-m"], argv
    if argv[2] == "bot":
        parse_bot_command(argv)
        return
    spec = importlib.util.find_spec(argv[2])
    assert spec is not None, f"no module {argv[2]}"
    assert callable(getattr(importlib.import_module(argv[2]), "main", None))


def assert_settings(env: dict[str, str]) -> Settings:
    unknown = set(env) - settings_variables() - RUNTIME_VARIABLES
    assert not unknown, f"variables Settings.from_env does not read: {sorted(unknown)}"
    return Settings.from_env({k: v for k, v in env.items() if k not in RUNTIME_VARIABLES})


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (k, _) in enumerate(instructions) if k == "FROM")
    return instructions[last_from:]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in final_stage():
        if keyword == "ENV":
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def exec_form(rest: str) -> list[str]:
    value = yaml.safe_load(rest)  # a JSON array is YAML too
    assert isinstance(value, list), f"not in exec form: {rest}"
    return [str(part) for part in value]


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "docker-compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment with ``${NAME:?...}`` filled in with sample values."""
    samples = {
        "SLACK_BOT_TOKEN": "xoxb-sample",
        "SLACK_SIGNING_SECRET": "sample",
        "USER_HASH_SECRET": "sample",
        "POSTGRES_PASSWORD": "sample",
    }

    def fill(value: object) -> str:
        return re.sub(r"\$\{(\w+)(?::?[?-][^}]*)?\}", lambda m: samples[m.group(1)], str(value))

    return {name: fill(value) for name, value in service["environment"].items()}


def nginx_conf() -> str:
    return (DEPLOY / "nginx.conf").read_text()


def k8s_documents() -> dict[str, dict[str, Any]]:
    documents: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                documents[document["kind"]] = document
    return documents


def deployment_container() -> dict[str, Any]:
    containers = k8s_documents()["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


def k8s_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for item in deployment_container()["env"]:
        env[item["name"]] = item.get("value") or f"sample-{item['name'].lower()}"
    env["SLACK_BOT_TOKEN"] = "xoxb-sample"
    env["DATABASE_URL"] = "postgresql+psycopg://bot:secret@postgres:5432/bot"
    env["REDIS_URL"] = "redis://redis:6379/0"
    return env


# --- Dockerfile ---------------------------------------------------------------------------------


def test_the_image_is_slim_and_runs_as_a_non_root_user() -> None:
    froms = [rest for keyword, rest in dockerfile_instructions() if keyword == "FROM"]
    assert froms
    assert all(re.match(r"python:3\.11-slim\b", image) for image in froms), froms
    users = [rest for keyword, rest in final_stage() if keyword == "USER"]
    assert users, "the final stage must name a user"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_the_image_copies_only_what_exists_and_what_the_ignore_file_lets_through() -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for keyword, rest in dockerfile_instructions():
        if keyword != "COPY" or "--from=" in rest:
            continue
        *sources, _target = [part for part in rest.split() if not part.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such path"
            assert source.rstrip("/") in allowed, f"{source} is not let through the ignore file"


def test_the_image_command_health_check_environment_and_port_agree() -> None:
    stage = final_stage()
    command = exec_form(next(rest for keyword, rest in stage if keyword == "CMD"))
    name, args = parse_bot_command(command)
    assert name == "serve"
    assert args.http
    healthcheck = next(rest for keyword, rest in stage if keyword == "HEALTHCHECK")
    assert_python_module_runs(exec_form(healthcheck.split("CMD", 1)[1]))
    settings = assert_settings(dockerfile_env())
    exposed = [int(rest) for keyword, rest in stage if keyword == "EXPOSE"]
    assert exposed == [settings.port]
    assert settings.knowledge_dir == Path("/app/knowledge")
    copies = [rest.split()[-1] for keyword, rest in stage if keyword == "COPY"]
    assert "/app/knowledge" in copies


# --- docker compose and nginx -------------------------------------------------------------------


def test_compose_runs_two_bot_replicas_with_postgres_redis_and_nginx() -> None:
    services = compose()["services"]
    bots = {name: s for name, s in services.items() if "build" in s}
    assert sorted(bots) == ["bot-1", "bot-2"]
    assert {"postgres", "redis", "nginx"} <= set(services)
    for service in bots.values():
        build = service["build"]
        context = (DEPLOY / build["context"]).resolve()
        assert context == ROOT
        assert (context / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
        for dependency, condition in service["depends_on"].items():
            assert condition["condition"] == "service_healthy"
            assert "healthcheck" in services[dependency]


def test_compose_environment_is_the_settings_and_names_its_own_services() -> None:
    services = compose()["services"]
    postgres = services["postgres"]["environment"]
    for name in ("bot-1", "bot-2"):
        settings = assert_settings(compose_env(services[name]))
        assert settings.redis_url == "redis://redis:6379/0"
        assert re.fullmatch(
            rf"postgresql\+psycopg://{postgres['POSTGRES_USER']}:sample@postgres:5432/"
            rf"{postgres['POSTGRES_DB']}",
            settings.database_url,
        )
        assert settings.web_workers >= 1
        grace = float(services[name]["stop_grace_period"].rstrip("s"))
        assert grace > settings.shutdown_grace_seconds + KILL_AFTER_GRACE_SECONDS


def test_nginx_balances_over_both_replicas_on_their_port_and_hides_metrics() -> None:
    conf = nginx_conf()
    assert conf.count("{") == conf.count("}")
    services = compose()["services"]
    ports = {assert_settings(compose_env(services[n])).port for n in ("bot-1", "bot-2")}
    upstream = re.search(r"upstream (\w+) \{(.*?)\}", conf, re.S)
    assert upstream is not None
    servers = set(re.findall(r"server ([\w.-]+):(\d+)", upstream.group(2)))
    assert servers == {("bot-1", str(p)) for p in ports} | {("bot-2", str(p)) for p in ports}
    events = re.search(r"location = /slack/events \{(.*?)\}", conf, re.S)
    assert events is not None
    assert f"proxy_pass http://{upstream.group(1)};" in events.group(1)
    assert "http_503" in events.group(1)  # a draining replica's 503 goes to the other one
    metrics = re.search(r"location = /metrics \{(.*?)\}", conf, re.S)
    assert metrics is not None
    assert "proxy_pass" not in metrics.group(1)
    listen = re.findall(r"listen (\d+);", conf)
    nginx = services["nginx"]
    assert [p.split(":")[-1] for p in nginx["ports"]] == listen
    mounts = [v.split(":") for v in nginx["volumes"]]
    assert ["./nginx.conf", "/etc/nginx/nginx.conf", "ro"] in mounts


# --- Kubernetes ---------------------------------------------------------------------------------


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present
    kinds = set(k8s_documents())
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap"} <= kinds


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_builds_the_manifests() -> None:
    result = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    kinds = [d["kind"] for d in yaml.safe_load_all(result.stdout) if d]
    assert sorted(kinds) == sorted(k8s_documents())


def test_the_deployment_probes_ports_and_command_agree() -> None:
    documents = k8s_documents()
    container = deployment_container()
    settings = assert_settings(k8s_env())
    name, args = parse_bot_command(container["command"])
    assert name == "serve"
    assert args.http
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": settings.port}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}
    template = documents["Deployment"]["spec"]["template"]
    assert template["metadata"]["annotations"]["prometheus.io/port"] == str(settings.port)
    service = documents["Service"]["spec"]
    assert service["selector"].items() <= template["metadata"]["labels"].items()
    assert [p["targetPort"] for p in service["ports"]] == ["http"]
    target = documents["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == (
        "Deployment",
        documents["Deployment"]["metadata"]["name"],
    )
    assert documents["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= (
        template["metadata"]["labels"].items()
    )


def test_the_pod_has_time_to_drain_before_it_is_killed() -> None:
    container = deployment_container()
    pod = k8s_documents()["Deployment"]["spec"]["template"]["spec"]
    settings = assert_settings(k8s_env())
    pre_stop = float(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    needed = pre_stop + settings.shutdown_grace_seconds + KILL_AFTER_GRACE_SECONDS
    assert pod["terminationGracePeriodSeconds"] >= needed
    liveness = container["livenessProbe"]
    # A draining pod answers 503; liveness must not restart it before the drain ends.
    assert liveness["periodSeconds"] * liveness["failureThreshold"] > needed


def test_secrets_are_referenced_never_written() -> None:
    secret_names = {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "USER_HASH_SECRET"}
    env = {item["name"]: item for item in deployment_container()["env"]}
    for name in secret_names | {"DATABASE_URL", "REDIS_URL"}:
        assert "value" not in env[name], f"{name} must come from a Secret"
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "hackathon-bot-secrets"
    assert "Secret" not in k8s_documents()


def test_the_knowledge_configmap_mounts_as_valid_knowledge(tmp_path: Path) -> None:
    documents = k8s_documents()
    pod = documents["Deployment"]["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if "configMap" in v)
    assert volume["configMap"]["name"] == documents["ConfigMap"]["metadata"]["name"]
    mount = next(m for m in deployment_container()["volumeMounts"] if m["name"] == volume["name"])
    assert Path(mount["mountPath"]) == assert_settings(k8s_env()).knowledge_dir
    # The whole ConfigMap is mounted: no hand-written list of files to keep up to date.
    assert "items" not in volume["configMap"]
    keys = {configmap.key_for(p) for p in configmap.knowledge_files(DEFAULT_KNOWLEDGE_DIR)}
    assert set(documents["ConfigMap"]["data"]) == keys
    configmap.materialise(documents["ConfigMap"], tmp_path)
    router = Router(load_knowledge(tmp_path))
    assert router.kb.entries
    assert router.kb.sources.keys() == load_knowledge(DEFAULT_KNOWLEDGE_DIR).sources.keys()


def test_the_configmap_generator_writes_and_checks(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, knowledge)
    output = tmp_path / "knowledge-configmap.yaml"
    common = ["--knowledge", str(knowledge), "--output", str(output)]
    assert configmap.main([*common, "--check"]) == 1
    assert configmap.main([*common, "--write"]) == 0
    assert configmap.main([*common, "--check"]) == 0
    generated = yaml.safe_load(output.read_text())
    configmap.materialise(generated, tmp_path / "mounted")
    for relative in configmap.knowledge_files(knowledge):
        mounted = tmp_path / "mounted" / configmap.key_for(relative)
        assert mounted.read_bytes() == (knowledge / relative).read_bytes()
    (knowledge / "faq.yaml").write_text((knowledge / "faq.yaml").read_text() + "\n# edited\n")
    assert configmap.main([*common, "--check"]) == 1


def test_the_shipped_configmap_carries_the_current_knowledge() -> None:
    """Kubernetes serves knowledge/ from this ConfigMap, so a stale one deploys old answers.

    After editing knowledge/, run: python -m bot.deploy.configmap --write
    """
    shipped = DEPLOY / "k8s" / "knowledge-configmap.yaml"
    assert shipped.read_text(encoding="utf-8") == configmap.manifest(DEFAULT_KNOWLEDGE_DIR), (
        "deploy/k8s/knowledge-configmap.yaml is stale: run python -m bot.deploy.configmap --write"
    )
