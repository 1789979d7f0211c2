# syntax=docker/dockerfile:1
# The ogp-feedback image: `docker build -t ogp-feedback .` (docker compose builds it too).
# Two stages: the first installs the locked dependencies (requirements/runtime.txt, every
# file checked by its hash) and the project into a venv; the second copies only that venv
# onto a clean slim Python, so no compiler, build tool or pip cache is there at run time.
# The tag follows the newest 3.11 release. The e-mail package's fixes for CVE-2024-6923
# (header injection through encoded line breaks) and CVE-2023-27043 (parseaddr taking
# the wrong address) came with 3.11.10 (3.12.6): an older base image stops the build.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python -c 'import sys; v = sys.version_info[:3]; sys.exit(not ((3, 11, 10) <= v < (3, 12) or v >= (3, 12, 6)))' \
    || { echo "Python 3.11.10+ or 3.12.6+ is needed (CVE-2024-6923, CVE-2023-27043)" >&2; exit 1; }
RUN python -m venv /opt/ogp
COPY requirements/runtime.txt /tmp/runtime.txt
RUN /opt/ogp/bin/pip install --require-hashes --no-deps -r /tmp/runtime.txt
COPY pyproject.toml README.md /src/
COPY config /src/config
COPY intake /src/intake
COPY moderation /src/moderation
COPY publish /src/publish
COPY workers /src/workers
# The project itself adds no dependency (--no-deps); then pip leaves the venv: nothing
# can be installed into the running image.
RUN /opt/ogp/bin/pip install --no-deps /src && /opt/ogp/bin/pip check \
    && /opt/ogp/bin/pip uninstall --yes pip

FROM ${PYTHON_IMAGE}
# A fixed uid, so a bind-mounted site folder can be given to it: chown 10001 DIR.
RUN groupadd --system --gid 10001 ogp \
    && useradd --system --uid 10001 --gid ogp --home-dir /srv --shell /usr/sbin/nologin ogp \
    && mkdir -p /srv/site && chown ogp:ogp /srv/site
COPY --from=build /opt/ogp /opt/ogp
ENV PATH=/opt/ogp/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    OGP_SITE_DIR=/srv/site/current
# /srv/site is the volume (a mount point: never renamed). publish writes its immutable
# trees in /srv/site/.current.store/ and swaps the symlink /srv/site/current atomically.
VOLUME ["/srv/site"]
USER ogp
WORKDIR /srv
EXPOSE 8000
CMD ["ogp-feedback", "--help"]
