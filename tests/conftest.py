"""Fixtures that build real things: databases on SQLite and PostgreSQL, a Dovecot
server, Redis, and our own processes started and stopped by pid.

A missing service skips its tests with a message, except under ``CI=true``,
where it fails: CI starts every service (``make test``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from config.catalogue import default_catalogue
from config.settings import Settings
from moderation.catalogue_sync import sync_catalogue
from moderation.db import make_engine, migrate, session_scope

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ROOT / "tests" / "services"
CORPORA = ROOT.parent / "shared" / "corpora"
VENV_BIN = Path(sys.executable).parent
CLI = str(VENV_BIN / "ogp-feedback")
PG_ADMIN_URL = os.environ.get("OGP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("OGP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "test-secret-key-0123456789abcdef"


def unavailable(what: str) -> None:
    """Skip locally, fail in CI: a service the suite needs must be running there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI must provide it; see tests/services/ensure.sh)")
    pytest.skip(what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- databases

def pg_admin_engine() -> Engine:
    url = PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    url = f"sqlite:///{path}"
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        sync_catalogue(session, default_catalogue())
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    try:
        admin = pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:
        unavailable(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {error}")
    name = f"ogp_tpl_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    settings = Settings(database_url=url, secret_key=SECRET)
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        sync_catalogue(session, default_catalogue())
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database with the catalogue loaded, on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "ogp.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"ogp_t_{uuid.uuid4().hex[:12]}"
    admin = pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, site_dir=tmp_path / "site", secret_key=SECRET)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def make_runtime() -> Iterator[object]:
    """Build ``Runtime`` objects that are closed after the test."""
    from workers.runtime import Runtime

    made: list[Runtime] = []

    def make(settings: Settings) -> Runtime:
        runtime = Runtime(settings)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.close()


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a subprocess needs to see the same settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGP_")}
    env.update({
        "OGP_DATABASE_URL": settings.database_url,
        "OGP_SITE_DIR": str(settings.site_dir),
        "OGP_SECRET_KEY": settings.secret_key,
        "OGP_CELERY_QUEUE": settings.celery_queue,
    })
    if settings.broker_url:
        env["OGP_BROKER_URL"] = settings.broker_url
    if settings.imap_host:
        env.update({
            "OGP_IMAP_HOST": settings.imap_host,
            "OGP_IMAP_PORT": str(settings.imap_port),
            "OGP_IMAP_USER": settings.imap_user or "",
            "OGP_IMAP_PASSWORD": settings.imap_password or "",
            "OGP_IMAP_SECURITY": settings.imap_security.value,
        })
        if settings.imap_cafile:
            env["OGP_IMAP_CAFILE"] = str(settings.imap_cafile)
    env.update(extra)
    return env


def run_cli(settings: Settings, *args: str, stdin: str | None = None,
            timeout: float = 120, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], env=settings_env(settings, **extra_env), input=stdin,
                          capture_output=True, text=True, timeout=timeout, check=False)


# ---------------------------------------------------------------- Dovecot

@dataclass(frozen=True)
class Dovecot:
    rundir: Path
    port: int
    tls_port: int
    cafile: Path
    password: str

    def settings_for(self, base: Settings, user: str, security: str = "none") -> Settings:
        return derive(base, **{
            "imap_host": "127.0.0.1",
            "imap_port": self.tls_port if security == "tls" else self.port,
            "imap_user": user,
            "imap_password": self.password,
            "imap_security": security,
            "imap_cafile": self.cafile,
        })


def derive(base: Settings, **changes: object) -> Settings:
    """A validated copy (``model_copy`` would skip validation)."""
    return Settings.model_validate({**base.model_dump(), **changes})


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if shutil.which("dovecot") is None:
        unavailable("dovecot is not installed (make test installs dovecot-imapd)")
    if os.geteuid() != 0:
        unavailable("the test Dovecot needs root")
    # Not under pytest's 0700 tmp tree: Dovecot's unprivileged mail uid must
    # be able to walk down to its Maildir.
    rundir = Path(tempfile.mkdtemp(prefix="ogp-dovecot-"))
    port, tls_port = free_port(), free_port()
    password = "test-password"
    env = dict(os.environ, IMAP_PORT=str(port), IMAPS_PORT=str(tls_port), IMAP_PASSWORD=password)
    started = subprocess.run(["bash", str(SERVICES / "dovecot-start.sh"), str(rundir)], env=env,
                             capture_output=True, text=True, timeout=60, check=False)
    if started.returncode != 0:
        pytest.fail(f"dovecot did not start: {started.stderr}")
    yield Dovecot(rundir, port, tls_port, rundir / "tls" / "cert.pem", password)
    subprocess.run(["bash", str(SERVICES / "dovecot-stop.sh"), str(rundir)], timeout=30,
                   check=False, capture_output=True)
    shutil.rmtree(rundir, ignore_errors=True)


@pytest.fixture
def imap_user() -> str:
    """A mailbox of this test's own (the test Dovecot takes any user name)."""
    return f"t{uuid.uuid4().hex[:10]}@example.test"


# ---------------------------------------------------------------- Redis and workers

@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as error:
        unavailable(f"Redis is not reachable at {REDIS_URL}: {error}")
    return REDIS_URL


class Process:
    """One of our processes, started with its output in a file, stopped by pid."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.popen = subprocess.Popen(args, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.output():
                return
            if self.popen.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{needle!r} not seen; output:\n{self.output()[-4000:]}")

    def stop(self, timeout: float = 20) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout)
        self._log.close()


@pytest.fixture
def start_process(tmp_path: Path) -> Iterator[object]:
    started: list[Process] = []

    def start(args: list[str], env: dict[str, str], name: str = "process") -> Process:
        process = Process(args, env, tmp_path / f"{name}-{len(started)}.log")
        started.append(process)
        return process

    yield start
    for process in reversed(started):
        process.stop()


def wait_until(predicate: object, timeout: float, message: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s: {message}")
