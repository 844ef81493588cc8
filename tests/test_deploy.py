"""The Docker image and Compose stack, checked without a Docker engine: every command they run
is one the installed (Neo4j-only) linkscope accepts, ports stay on loopback, the API is
healthchecked on /ready, no secret has a default, the runtime stage builds nothing."""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from linkscope.settings import Settings
from tests.installs import REPO, clean_env

COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|AUTH|API_KEY", re.IGNORECASE)
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+alt};
# not $${...}, which compose passes on to the container's shell.
INTERPOLATION = re.compile(r"(?<!\$)\$\{(?P<name>\w+)(?P<op>:?[-?+])?(?P<rest>[^}]*)\}")
COMPILERS = re.compile(
    r"\b(gcc|g\+\+|cc|c\+\+|clang|make|cmake|build-essential|python3?-dev|libc6?-dev|"
    r"rustc|cargo)\b"
)
SETTINGS_VARS = {f"LINKSCOPE_{name.upper()}" for name in Settings.model_fields}


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def linkscope_services() -> dict[str, dict[str, Any]]:
    """The services running linkscope's image (built from this Dockerfile)."""
    return {name: svc for name, svc in compose()["services"].items() if "build" in svc}


@dataclass
class Stage:
    image: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def dockerfile_stages() -> list[Stage]:
    """The Dockerfile's stages, their instructions with continuation lines joined and the
    global ARG defaults substituted into FROM."""
    lines: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if not pending and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        if raw.lstrip().startswith("#"):  # a comment inside a continued instruction
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        lines.append(pending + raw)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in lines:
        keyword, _, rest = line.strip().partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
        elif keyword == "FROM":
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], rest.split()[0])
            alias = rest.split()[2] if len(rest.split()) == 3 else ""
            stages.append(Stage(image, alias))
        else:
            stages[-1].instructions.append((keyword, rest))
    return stages


def exec_form(args: str) -> list[str]:
    parsed = yaml.safe_load(args)  # a JSON array is YAML too
    assert isinstance(parsed, list), f"not exec form: {args}"
    return [str(a) for a in parsed]


def documented_runs() -> list[tuple[str, list[str]]]:
    """``docker compose run`` lines of the README and deploy/: (service, command or [])."""
    runs = []
    sources = [REPO / "README.md", COMPOSE, *sorted((REPO / "deploy").iterdir())]
    for path in sources:
        for line in path.read_text(encoding="utf-8").splitlines():
            for match in re.finditer(r"docker compose run ([^&`|;)\n]+)", line):
                words = shlex.split(match.group(1), comments=True)
                while words and words[0].startswith("-"):
                    words.pop(0)
                assert words, f"{path.name}: no service in {line!r}"
                runs.append((words[0], words[1:]))
    return runs


def accepted(linkscope: Path, argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``linkscope ARGS --help``: click parses every command and option name first, so an
    unknown command or option fails, and nothing runs."""
    assert argv[0] == "linkscope", argv
    return subprocess.run(
        [str(linkscope), *argv[1:], "--help"],
        cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.slow
def test_every_command_of_the_image_and_stack_is_a_linkscope_command(
    tmp_path: Path, neo4j_only_venv: Path
) -> None:
    linkscope = neo4j_only_venv.parent / "linkscope"
    services = linkscope_services()
    commands = {f"service {name}": svc["command"] for name, svc in services.items()}
    (runtime,) = dockerfile_stages()[-1:]
    commands["Dockerfile CMD"] = exec_form(runtime.all("CMD")[-1])
    runs = documented_runs()
    assert {service for service, _ in runs} >= {"ingest", "analyze", "api"}
    for i, (service, argv) in enumerate(runs):
        assert service in services, f"documented `docker compose run {service}`: no such service"
        if argv:
            commands[f"documented run {i}: {service}"] = argv
    for where, argv in commands.items():
        done = accepted(linkscope, argv, tmp_path)
        assert done.returncode == 0, (where, argv, done.stdout + done.stderr)
        assert "Usage: linkscope" in done.stdout, where
    # The check rejects what it should: a misspelt option fails.
    assert accepted(
        linkscope, ["linkscope", "ingest", "/in", "--quarantin", "q"], tmp_path
    ).returncode


def test_ports_are_bound_to_loopback() -> None:
    for name, svc in compose()["services"].items():
        for port in svc.get("ports", []):
            if isinstance(port, dict):
                assert port.get("host_ip") == "127.0.0.1", (name, port)
            else:
                assert str(port).startswith("127.0.0.1:"), (name, port)


def test_the_api_service_is_healthchecked_on_ready() -> None:
    services = compose()["services"]
    api = services["api"]
    assert api["command"][:2] == ["linkscope", "serve"]
    assert "profiles" not in api  # `docker compose up` starts it
    test = api["healthcheck"]["test"]
    assert test[0] == "CMD" and "/ready" in " ".join(test)
    if test[1:3] == ["python", "-c"]:
        compile(test[3], "healthcheck", "exec")  # a typo would make it fail forever
    container_port = int(str(api["ports"][0]).rsplit(":", 1)[1])
    assert f"--port {container_port}" in " ".join(api["command"])
    assert f":{container_port}/ready" in " ".join(test)
    # The jobs run only when asked (`docker compose run --rm ingest`).
    for job in ("ingest", "analyze"):
        assert services[job]["profiles"] and services[job]["command"][0] == "linkscope"

    (runtime,) = dockerfile_stages()[-1:]
    (check,) = runtime.all("HEALTHCHECK")
    assert "/ready" in check
    compile(exec_form(check[check.index("CMD") + 3 :])[2], "healthcheck", "exec")


def test_no_secret_has_a_default() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    secrets = [m for m in INTERPOLATION.finditer(text) if SECRET_NAME.search(m["name"])]
    assert secrets, "the stack takes its Neo4j password from the environment"
    for m in secrets:
        assert m["op"] in (":?", "?"), f"{m.group(0)} must be required, not defaulted"
    for name, svc in compose()["services"].items():
        environment = svc.get("environment", {})
        assert isinstance(environment, dict), name
        for var, value in environment.items():
            if SECRET_NAME.search(var):
                # A literal would be a secret in the repository.
                assert INTERPOLATION.search(str(value)), (name, var)
                assert all(m["op"] in (":?", "?") for m in INTERPOLATION.finditer(str(value))), (
                    name,
                    var,
                )
    for stage in dockerfile_stages():
        for kw in ("ENV", "ARG"):
            for args in stage.all(kw):
                assert not SECRET_NAME.search(args), f"{kw} {args}: secrets never go in the image"
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", "secrets", ".linkscope"} <= set(ignored)


def test_linkscope_containers_are_configured_by_linkscope_settings_only() -> None:
    for name, svc in linkscope_services().items():
        unknown = set(svc.get("environment", {})) - SETTINGS_VARS
        assert not unknown, (name, unknown)
    for stage in dockerfile_stages()[-1:]:
        for args in stage.all("ENV"):
            for var in re.findall(r"(\w+)=", args):
                assert var in SETTINGS_VARS or var.startswith("PYTHON"), var


def test_state_lives_on_named_volumes() -> None:
    data = compose()
    named = set(data["volumes"])
    for name, svc in linkscope_services().items():
        env = svc["environment"]
        mounts = {}
        for volume in svc["volumes"]:
            source, target = str(volume).split(":")[:2]
            mounts[target] = source
        for var in ("LINKSCOPE_EVENTS_DIR", "LINKSCOPE_KEYS_FILE"):
            path = Path(env[var])
            sources = [src for target, src in mounts.items() if path.is_relative_to(target)]
            assert sources and sources[0] in named, (name, var, mounts)


def test_the_runtime_stage_builds_nothing() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, "multi-stage: the wheel is built in a builder stage"
    builder, runtime = stages[-2], stages[-1]
    assert any("pip wheel" in run for run in builder.all("RUN"))
    assert "slim" in runtime.image, runtime.image
    for run in runtime.all("RUN"):
        assert not COMPILERS.search(run), run
        assert "apt-get install" not in run and "apk add" not in run, run
        for pip in re.findall(r"pip install[^&;]*", run):
            # Only the builder's wheels: nothing fetched, so nothing can need compiling.
            assert "--no-index" in pip and "--only-binary=:all:" in pip, pip
        assert f"from={builder.name}" in run or "pip" not in run
    # The runtime runs as an unprivileged user.
    users = runtime.all("USER")
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_neo4j_password_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "neo4j_password"
    secret.write_text("s3cret value\n", encoding="utf-8")
    settings = Settings(neo4j_password_file=secret)
    assert settings.neo4j_password is not None
    assert settings.neo4j_password.get_secret_value() == "s3cret value"

    with pytest.raises(ValueError, match="not both"):
        Settings(neo4j_password_file=secret, neo4j_password="other")
    with pytest.raises(ValueError, match="cannot read"):
        Settings(neo4j_password_file=tmp_path / "missing")
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        Settings(neo4j_password_file=tmp_path / "empty")


def test_the_builder_gets_every_source_of_the_wheel() -> None:
    """The wheel test builds from tests.installs.SOURCES; the image must build from the same
    (the first Dockerfile forgot ui_static/ and events/)."""
    from tests.installs import SOURCES

    builder = dockerfile_stages()[-2]
    copied = {word.rstrip("/") for args in builder.all("COPY") for word in args.split()[:-1]}
    assert set(SOURCES) <= copied, set(SOURCES) - copied
    ignored = {line.strip().rstrip("/") for line in
               (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()}  # fmt: skip
    assert not ignored & set(SOURCES)
