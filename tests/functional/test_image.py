"""The image (issue 12, acceptance 2): what the Dockerfile promises, and publishing into a
site folder that is a volume's mount point.

There is no Docker engine on the test machines (``docker build`` is documented in
docs/operations.md). So the Dockerfile is read for what matters (a non-root user, two
stages and nothing built at run time, the site volume owned by that user, the locked
requirements installed by hash), and the publish step is run here in the situation a
container is in: the site folder is a real mount point (a tmpfs mounted in a private
mount namespace, owned by the image's uid), its parent belongs to root and is not
writable, and ``ogp-feedback publish`` runs as the image's uid. A mount point cannot be
renamed (EBUSY), which the test shows too.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from config.settings import Settings
from moderation.db import session_scope
from moderation.transitions import approve
from tests.conftest import ROOT, VENV_BIN, settings_env, unavailable
from tests.unit.factories import make_comment

DOCKERFILE = (ROOT / "Dockerfile").read_text()
INSTRUCTION = re.compile(r"^(FROM|RUN|COPY|USER|ENV|VOLUME|WORKDIR|ARG|CMD|EXPOSE)\s+(.*)$")


def stages() -> list[list[tuple[str, str]]]:
    """Instructions per stage, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    found: list[list[tuple[str, str]]] = []
    for line in joined.splitlines():
        match = INSTRUCTION.match(line.strip())
        if not match:
            continue
        if match[1] == "FROM":
            found.append([])
        if found:
            found[-1].append((match[1], match[2]))
    return found


def _final() -> list[tuple[str, str]]:
    return stages()[-1]


def _image_uid() -> int:
    run = " ".join(arg for kind, arg in _final() if kind == "RUN")
    match = re.search(r"useradd [^&]*--uid (\d+)", run)
    assert match, "the final stage creates its user with a fixed uid"
    return int(match[1])


def test_the_image_runs_as_a_fixed_non_root_user() -> None:
    users = [arg for kind, arg in _final() if kind == "USER"]
    assert users == ["ogp"], "the final stage switches to its own user, once"
    assert _image_uid() >= 1000
    cmd_index = max(i for i, (kind, _) in enumerate(_final()) if kind == "CMD")
    user_index = next(i for i, (kind, _) in enumerate(_final()) if kind == "USER")
    assert user_index < cmd_index


def test_the_site_volume_is_the_users_and_publish_writes_inside_it() -> None:
    final = _final()
    run = " ".join(arg for kind, arg in final if kind == "RUN")
    assert re.search(r"mkdir -p /srv/site\b.*chown ogp:ogp /srv/site\b", run)
    assert ("VOLUME", '["/srv/site"]') in final
    env = " ".join(arg for kind, arg in final if kind == "ENV")
    # The setting points below the mount point, never at it: the mount point is not renamed.
    assert "OGP_SITE_DIR=/srv/site/current" in env


def test_two_stages_and_nothing_is_built_at_run_time() -> None:
    build, final = stages()[0], stages()[-1]
    assert len(stages()) == 2
    build_runs = " ".join(arg for kind, arg in build if kind == "RUN")
    assert "--require-hashes --no-deps -r /tmp/runtime.txt" in build_runs
    assert ("COPY", "requirements/runtime.txt /tmp/runtime.txt") in build
    final_text = " ".join(arg for _, arg in final)
    for tool in ("apt-get", "gcc", "build-essential", "pip install", "requirements"):
        assert tool not in final_text, f"the run-time stage must not use {tool}"
    copies = [arg for kind, arg in final if kind == "COPY"]
    assert copies == ["--from=build /opt/ogp /opt/ogp"], "only the built venv is copied"
    assert "pip uninstall --yes pip" in build_runs


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_build() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".venv", ".git", "var", "*.db"):
        assert entry in ignored


# ---------------------------------------------------------------- publishing into a mount point

@pytest.fixture
def srv() -> Iterator[Path]:
    """A folder like the container's /srv: root's, not writable by the image's user."""
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("setpriv") is None:
        unavailable("mounting a folder needs root and util-linux unshare/setpriv")
    path = Path(tempfile.mkdtemp(prefix="ogp-srv-"))
    path.chmod(0o755)  # the image's user can enter it, not write it
    (path / "site").mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def enterable_checkout() -> Iterator[None]:
    """Let another uid walk down to this checkout (a CI clone may sit in a 0700 folder):
    the search (x) bit on the folders above it that lack it, taken back afterwards."""
    closed = [part for part in [ROOT, *ROOT.parents] if not part.stat().st_mode & stat.S_IXOTH]
    for part in closed:
        part.chmod(part.stat().st_mode | stat.S_IXOTH)
    yield
    for part in closed:
        part.chmod(part.stat().st_mode & ~stat.S_IXOTH)


pg_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.mark.services
@pg_only
def test_publish_writes_into_a_mount_point_as_the_images_user(
        settings: Settings, engine: Engine, srv: Path, enterable_checkout: None) -> None:
    with session_scope(engine) as session:
        approve(session, make_comment(engine), "secretariat")
    uid = _image_uid()
    as_user = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    probe = subprocess.run([*as_user, str(VENV_BIN / "python"), "-c", "import workers.cli"],
                           capture_output=True, text=True, timeout=60, check=False)
    assert probe.returncode == 0, f"uid {uid} cannot run the project: {probe.stderr}"
    site = srv / "site"
    cli = str(VENV_BIN / "ogp-feedback")
    env = settings_env(settings, OGP_SITE_DIR=str(site / "current"), HOME=str(srv))
    # In a private mount namespace: a tmpfs on srv/site owned by the image's uid (what
    # docker does with a named volume), then the publish as that uid, twice (the second
    # swaps the symlink), then an attempt to rename the mount point.
    script = f"""
set -eu
mount -t tmpfs -o mode=0755,uid={uid},gid={uid} ogp-site {site}
grep -q " {site} tmpfs " /proc/self/mounts
{' '.join(as_user)} {cli} publish
{' '.join(as_user)} {cli} publish
echo "current -> $(readlink {site}/current)"
test -f {site}/current/index.html
{' '.join(as_user)} touch {srv}/sibling 2>/dev/null && echo "user can write parent" || true
mv {site} {srv}/renamed 2>&1 || echo "rename refused"
"""
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c",
                             script], env=env, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("published 1 comments") == 2, result.stdout
    assert re.search(r"^current -> \.current\.store/trees/[0-9a-f]+$", result.stdout, re.M), (
        result.stdout)
    assert "user can write parent" not in result.stdout
    assert "Device or resource busy" in result.stdout  # a mount point cannot be renamed
    assert "rename refused" in result.stdout
    # The namespace is gone: nothing was written outside the mount.
    assert sorted(p.name for p in srv.iterdir()) == ["site"]
    assert list(site.iterdir()) == []


@pytest.mark.parametrize(("version", "accepted"),
                         [("3.11.7", False), ("3.12.1", False), ("3.13.0", True)])
def test_the_build_refuses_a_python_without_the_email_fixes(tmp_path: Path, version: str,
                                                             accepted: bool) -> None:
    """CVE-2024-6923 and CVE-2023-27043 were fixed in 3.11.10 and 3.12.6; the build stage's
    guard is run here as docker would run it, with each interpreter this machine has."""
    interpreter = Path.home() / ".pyenv" / "versions" / version / "bin" / "python3"
    if not interpreter.exists():
        unavailable(f"Python {version} is not installed under ~/.pyenv")
    [guard] = [arg for kind, arg in stages()[0] if kind == "RUN" and "sys.version_info" in arg]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(interpreter)
    run = subprocess.run(["sh", "-c", guard], env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
                         capture_output=True, text=True, check=False)
    assert (run.returncode == 0) is accepted, run.stderr
    if not accepted:
        assert "CVE-2024-6923" in run.stderr
