"""docker-compose.yml, run here: every ``ogp-feedback`` service starts with the environment
compose would give it (issue 12, acceptance 1).

There is no Docker engine on the test machines, so the test does what compose does: it
reads ``docker-compose.yml``, builds each service's environment from ``env_file`` (here
``.env.example``, which an operator copies to ``.env``) and ``environment`` (its ``${...}``
filled in from the same file), and runs the service's ``command`` on this machine, one-shot
services first (as ``depends_on`` orders them), then the long-running ones together.

What a container sees differently from this machine is translated, and nothing else:
the database and broker URLs point at the local test PostgreSQL (a fresh database) and
Redis (a database index of this test's own); the inbox and relay host names at the test
Dovecot and a local STARTTLS relay (with the test CA as OGP_IMAP_CAFILE/OGP_SMTP_CAFILE,
where the image trusts the system CAs); the volume path at a temporary folder; the port a
service listens on at a free one. Every other variable is the example's value.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from config.settings import Settings
from tests.conftest import (
    PG_ADMIN_URL,
    ROOT,
    VENV_BIN,
    Dovecot,
    Process,
    free_port,
    pg_admin_engine,
    unavailable,
    wait_until,
)
from tests.functional.relay import running_relay
from workers.cli import build_parser

pytestmark = pytest.mark.services

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
ENV_EXAMPLE = ROOT / ".env.example"
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
UP_FOR_SECONDS = 10
VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as compose reads them (comments and blank lines skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolate(value: str, variables: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        present = name in variables and (variables[name] != "" or op in (None, "-", "?"))
        if present:
            return variables[name]
        if op in (":?", "?"):
            raise AssertionError(f"compose would refuse to start: {arg}")
        return arg or ""

    return VARIABLE.sub(one, value).replace("$$", "$")


def compose_environment(service: str) -> dict[str, str]:
    """The environment compose gives a service with ``.env`` = ``.env.example``."""
    spec = SERVICES[service]
    example = read_env_file(ENV_EXAMPLE)
    env: dict[str, str] = {}
    env_files = spec.get("env_file", [])
    for name in [env_files] if isinstance(env_files, str) else env_files:
        assert name == ".env", f"{service}: only .env is documented (got {name})"
        env.update(example)
    for key, value in (spec.get("environment") or {}).items():
        env[key] = interpolate(str(value), example)
    return env


def ogp_services() -> list[str]:
    return [name for name, spec in SERVICES.items()
            if (spec.get("command") or [""])[0] == "ogp-feedback"]


def one_shot(name: str) -> bool:
    return SERVICES[name].get("restart") == "no"


def known_commands() -> set[str]:
    import argparse

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


# ---------------------------------------------------------------- what the file says

def test_every_variable_the_compose_file_gives_a_service_is_a_setting() -> None:
    fields = {f"OGP_{name.upper()}" for name in Settings.model_fields}
    assert ogp_services(), "no ogp-feedback service in docker-compose.yml"
    for service in ogp_services():
        env = compose_environment(service)
        unknown = sorted(key for key in env if key.startswith("OGP_") and key not in fields)
        assert unknown == [], f"{service}: not settings: {unknown}"
    # What .env holds that is not a setting is for compose's own ${...} and nothing else.
    compose_text = (ROOT / "docker-compose.yml").read_text()
    stack_only = [key for key in read_env_file(ENV_EXAMPLE) if not key.startswith("OGP_")]
    assert stack_only
    assert [key for key in stack_only if f"${{{key}" not in compose_text] == []


def test_every_setting_is_documented_in_env_example_and_nothing_else() -> None:
    example = ENV_EXAMPLE.read_text()
    documented = set(re.findall(r"(?m)^#?\s*(OGP_[A-Z0-9_]+)=", example))
    fields = {f"OGP_{name.upper()}" for name in Settings.model_fields}
    assert (sorted(fields - documented), sorted(documented - fields)) == ([], [])


def test_the_stack_fixes_production_and_the_site_volume() -> None:
    for service in ogp_services():
        env = compose_environment(service)
        assert env["OGP_ENVIRONMENT"] == "production"
        assert env["OGP_SITE_DIR"] == "/srv/site/current"
        assert "site:/srv/site" in SERVICES[service]["volumes"]
    redis = " ".join(SERVICES["redis"]["command"])
    assert "--appendonly yes" in redis
    assert "--maxmemory-policy noeviction" in redis
    worker = SERVICES["worker"]
    assert "container_name" not in worker, "a fixed name stops --scale worker=N"
    assert not any(str(port).endswith(":8000") for port in worker.get("ports", []))
    long_running = [name for name in SERVICES if not one_shot(name)
                    and not SERVICES[name].get("profiles")]
    for name in long_running:
        spec = SERVICES[name]
        check = spec.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} has no healthcheck"
    site = SERVICES["site"]
    assert "site:/srv/site:ro" in site["volumes"]


# ---------------------------------------------------------------- running it

class Translation:
    """Container names and paths -> this machine (see the module docstring)."""

    def __init__(self, database_url: str, redis_url: str, dovecot: Dovecot, imap_user: str,
                 relay_port: int, relay_user: str, relay_password: str, site: Path) -> None:
        self.env = {
            "OGP_DATABASE_URL": database_url,
            "OGP_BROKER_URL": redis_url,
            "OGP_IMAP_HOST": "127.0.0.1", "OGP_IMAP_PORT": str(dovecot.tls_port),
            "OGP_IMAP_USER": imap_user, "OGP_IMAP_PASSWORD": dovecot.password,
            "OGP_IMAP_CAFILE": str(dovecot.cafile),
            "OGP_SMTP_HOST": "127.0.0.1", "OGP_SMTP_PORT": str(relay_port),
            "OGP_SMTP_USER": relay_user, "OGP_SMTP_PASSWORD": relay_password,
            "OGP_SMTP_CAFILE": str(dovecot.cafile),
            "OGP_SITE_DIR": str(site / "current"),
        }
        self.ports: dict[str, str] = {}

    def environment(self, service: str) -> dict[str, str]:
        env = compose_environment(service)
        for key in self.env:
            assert key in env or key.endswith("_CAFILE"), f"{service}: {key} is not set"
        assert env.get("OGP_IMAP_SECURITY") == "tls"  # what the CA file is for
        assert env.get("OGP_SMTP_SECURITY") == "starttls"
        env.update(self.env)
        keep = {k: v for k, v in os.environ.items() if not k.startswith("OGP_")}
        return {**keep, **env}

    def argv(self, words: list[str]) -> list[str]:
        out = []
        for word in words:
            for container_port, port in self.ports.items():
                word = word.replace(f"127.0.0.1:{container_port}", f"127.0.0.1:{port}")
                if word == container_port:
                    word = port
            out.append(word)
        if out[0] == "ogp-feedback":
            out[0] = str(VENV_BIN / "ogp-feedback")
        elif out[0] == "python":
            out[0] = sys.executable
        return out


@pytest.fixture
def fresh_database() -> Iterator[str]:
    try:
        admin = pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:
        unavailable(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error}")
    name = f"ogp_compose_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))  # empty: migrate must make it
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def own_redis(redis_url: str) -> Iterator[str]:
    """A Redis database index of this test's own: its worker takes no one else's tasks."""
    import redis

    url = redis_url.rsplit("/", 1)[0] + "/13"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(s|m)", str(duration))
    assert match, f"duration {duration!r}"
    return int(match[1]) * (60 if match[2] == "m" else 1)


def _healthy(translation: Translation, service: str, env: dict[str, str]) -> tuple[bool, str]:
    check = SERVICES[service]["healthcheck"]["test"]
    assert check[0] == "CMD", f"{service}: healthcheck form {check[0]} is not run here"
    result = subprocess.run(translation.argv(list(check[1:])), env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    return result.returncode == 0, result.stdout + result.stderr


def test_every_ogp_feedback_service_starts_with_the_compose_environment(
        fresh_database: str, own_redis: str, dovecot: Dovecot, imap_user: str,
        tmp_path: Path) -> None:
    site = tmp_path / "srv" / "site"  # the volume
    site.mkdir(parents=True)
    services = ogp_services()
    unknown = [s for s in services if SERVICES[s]["command"][1] not in known_commands()]
    assert unknown == [], f"compose runs commands ogp-feedback does not have: {unknown}"
    with running_relay("relay-user", "relay-password-1",
                       certificate=(dovecot.cafile, dovecot.rundir / "tls" / "key.pem")) as relay:
        translation = Translation(fresh_database, own_redis, dovecot, imap_user, relay.port,
                                  relay.user, relay.password, site)
        # One-shot services first, as depends_on (service_completed_successfully) orders them.
        for service in [s for s in services if one_shot(s)]:
            result = subprocess.run(translation.argv(SERVICES[service]["command"]),
                                    env=translation.environment(service), capture_output=True,
                                    text=True, timeout=300, check=False)
            assert result.returncode == 0, f"{service}: {result.stdout}{result.stderr}"

        # The first admin, as README's Production section says (run in the migrate service).
        admin = subprocess.run(
            translation.argv(["ogp-feedback", "users", "add", "admin", "--role", "admin",
                              "--password-stdin"]),
            env=translation.environment("migrate"), input="a long admin password 1\n",
            capture_output=True, text=True, timeout=120, check=False)
        assert admin.returncode == 0, admin.stderr
        assert admin.stdout == "user admin (admin) saved\n"

        # check, under the same environment: only the example secret is left to change.
        checked = subprocess.run(translation.argv(["ogp-feedback", "check"]),
                                 env=translation.environment("migrate"), capture_output=True,
                                 text=True, timeout=120, check=False)
        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert checked.stdout.rstrip().endswith("1 problem(s): secrets"), checked.stdout
        assert relay.received == []

        # The long-running ones together, as `docker compose up` starts them.
        processes: dict[str, Process] = {}
        try:
            for service in [s for s in services if not one_shot(s)]:
                for port in SERVICES[service].get("ports", []):
                    translation.ports[str(port).rsplit(":", 1)[1]] = str(free_port())
                env = translation.environment(service)
                processes[service] = Process(translation.argv(SERVICES[service]["command"]),
                                             env, tmp_path / f"{service}.log")
            started = time.monotonic()

            def all_running() -> bool:
                for name, process in processes.items():
                    assert process.popen.poll() is None, (
                        f"{name} exited with {process.popen.returncode}:\n"
                        f"{process.output()[-3000:]}")
                return time.monotonic() - started >= UP_FOR_SECONDS

            wait_until(all_running, UP_FOR_SECONDS + 5, "the services stay up for 10 s")
            for name in processes:
                # Healthy now, or within the grace compose itself gives (start_period; a
                # loaded 2-core machine starts Python slowly), each probe as compose runs it.
                env = translation.environment(name)
                grace = _seconds(SERVICES[name]["healthcheck"].get("start_period", "0s"))
                last: list[str] = []

                def healthy(name: str = name, env: dict[str, str] = env,
                            last: list[str] = last) -> bool:
                    ok, output = _healthy(translation, name, env)
                    last[:] = [output]
                    return ok

                try:
                    wait_until(healthy, max(grace, 1), f"{name} is healthy", interval=1)
                except AssertionError as error:
                    raise AssertionError(f"{error}: {last}\n{processes[name].output()[-3000:]}"
                                         ) from None
                assert processes[name].popen.poll() is None, f"{name} stopped"
        finally:
            for process in processes.values():
                process.stop()
    assert set(processes) >= {"web", "worker", "poller"}


def test_the_image_healthchecks_need_only_what_the_image_has() -> None:
    """Healthchecks run inside the image: ogp-feedback or its Python, nothing like curl."""
    for service in ogp_services():
        check = SERVICES[service].get("healthcheck", {})
        if check.get("disable"):
            continue
        assert check["test"][1] in {"ogp-feedback", "python"}, (service, check["test"])
    assert shutil.which("ogp-feedback", path=str(VENV_BIN))


def test_the_systemd_units_run_what_compose_runs() -> None:
    """docs/operations.md's installation without containers runs the same commands."""
    units = {}
    for path in sorted((ROOT / "deploy" / "systemd").glob("*.service")):
        lines = path.read_text().splitlines()
        [start] = [line.split("=", 1)[1] for line in lines if line.startswith("ExecStart=")]
        assert start.startswith("/opt/ogp-feedback/.venv/bin/ogp-feedback "), path.name
        assert "User=ogp" in lines
        assert "EnvironmentFile=/etc/ogp-feedback/env" in lines
        units[path.name] = start.split()[1:]
    by_command = {words[0]: words for words in units.values()}
    compose = {SERVICES[s]["command"][1] for s in ogp_services()}
    assert set(by_command) == compose
    assert known_commands() >= compose
    for words in by_command.values():
        parsed = build_parser().parse_args(words)  # every option exists
        assert parsed.command == words[0]
