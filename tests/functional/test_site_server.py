"""The public site's web server: deploy/nginx-site.conf, run by a real nginx here.

The configuration is used as the compose stack mounts it (``conf.d/default.conf`` inside
nginx's ``http`` block, which includes ``mime.types``), with two changes only: its port
and its root (the site volume's ``current`` symlink) point at this test's. A published
site is served with the security headers on every answer, pages inside the store's
symlinked folders are served, and a second publish (a new tree, the symlink swapped) is
served at once.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from config.catalogue import default_catalogue
from config.settings import Settings
from moderation.db import session_scope
from moderation.transitions import approve
from publish.site import publish_with_settings
from tests.conftest import ROOT, Process, free_port, unavailable, wait_until
from tests.unit.factories import SQLITE_ONLY, make_comment

pytestmark = [pytest.mark.services, SQLITE_ONLY]

CONF = (ROOT / "deploy" / "nginx-site.conf").read_text()
HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "strict-transport-security": "max-age=31536000",
    "cross-origin-opener-policy": "same-origin",
}


def _nginx() -> str:
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                     else None)
    if path is None:
        unavailable("nginx is not installed (tests/services/ensure.sh installs it)")
    return str(path)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """nginx with the site configuration on a free port; yields (base URL, the volume)."""
    volume = tmp_path / "srv" / "site"
    volume.mkdir(parents=True)
    port = free_port()
    assert CONF.count("listen 8080;") == 1
    assert CONF.count("root /srv/site/current;") == 1
    site_conf = tmp_path / "default.conf"
    site_conf.write_text(CONF.replace("listen 8080;", f"listen 127.0.0.1:{port};")
                         .replace("root /srv/site/current;", f"root {volume}/current;"))
    main = tmp_path / "nginx.conf"
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    # As in the nginx images: mime.types and the conf.d file inside http. Workers run as
    # root here only because pytest's folders are private to root.
    main.write_text(f"""
user root;
worker_processes 1;
daemon off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {site_conf};
}}
""")
    nginx = _nginx()
    process = Process([nginx, "-c", str(main), "-p", str(tmp_path), "-e",
                       str(tmp_path / "nginx-error.log")], dict(os.environ),
                      tmp_path / "nginx.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base, process), 30, "nginx answers")
        yield base, volume
    finally:
        process.stop()


def _answers(base: str, process: Process) -> bool:
    assert process.popen.poll() is None, process.output()
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _publish(engine: Engine, settings: Settings, volume: Path) -> Any:
    return publish_with_settings(engine, default_catalogue(), settings, actor="publisher",
                                 out=volume / "current")


def _files(site: Path) -> list[Path]:
    found = []
    for folder, _, names in os.walk(site, followlinks=True):
        found += [(Path(folder) / name).relative_to(site) for name in names]
    return sorted(found)


def test_the_site_is_served_with_the_headers_through_the_swapped_symlink(
        served: tuple[str, Path], settings: Settings, engine: Engine) -> None:
    base, volume = served
    with session_scope(engine) as session:
        approve(session, make_comment(engine, "Portali i të dhënave të hapura duhet "
                                              "përditësuar çdo javë."), "secretariat")
    _publish(engine, settings, volume)
    first_tree = (volume / "current").resolve()

    index = httpx.get(f"{base}/", timeout=10)
    assert index.status_code == 200
    assert index.content == (volume / "current" / "index.html").read_bytes()
    assert index.headers["content-type"] == "text/html; charset=utf-8"
    for name, value in HEADERS.items():
        assert index.headers[name] == value, name

    # Pages in the store's symlinked sub-folders, and the open data with its type.
    nested = [p for p in _files(volume / "current")
              if (volume / "current" / p.parts[0]).is_symlink() and p.suffix == ".html"]
    assert nested, "the published tree has symlinked folders"
    page = httpx.get(f"{base}/{nested[0].as_posix()}", timeout=10)
    assert page.status_code == 200
    assert page.content == (volume / "current" / nested[0]).read_bytes()
    csvs = [p for p in _files(volume / "current") if p.suffix == ".csv"]
    assert csvs, "the open data is published as CSV"
    data = httpx.get(f"{base}/{csvs[0].as_posix()}", timeout=10)
    assert data.headers["content-type"] == "text/csv; charset=utf-8"
    assert data.headers["content-security-policy"] == HEADERS["content-security-policy"]

    missing = httpx.get(f"{base}/no-such-page.html", timeout=10)
    assert missing.status_code == 404
    assert missing.headers["x-content-type-options"] == "nosniff"  # `always`: errors too

    # A second publish swaps the symlink to a new tree; nginx serves it at once.
    with session_scope(engine) as session:
        approve(session, make_comment(engine, "Buxheti i bashkisë duhet publikuar në kohë."),
                "secretariat")
    _publish(engine, settings, volume)
    assert (volume / "current").resolve() != first_tree
    again = httpx.get(f"{base}/", timeout=10)
    assert again.content == (volume / "current" / "index.html").read_bytes()
    assert again.content != index.content
