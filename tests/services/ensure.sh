#!/usr/bin/env bash
# Make sure what the tests need is installed and running:
# Dovecot (Debian dovecot-imapd, installed when missing and we are root),
# Redis and PostgreSQL (started when not answering). Idempotent.
set -euo pipefail
say() { echo "ensure: $*"; }

if ! command -v dovecot >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing dovecot-imapd"
    # The package tries to start the system service; we never use it.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.ogp && chmod +x /usr/sbin/policy-rc.d.ogp
    [ -e /usr/sbin/policy-rc.d ] || cp /usr/sbin/policy-rc.d.ogp /usr/sbin/policy-rc.d
    (apt-get update -qq || true) >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null
    cmp -s /usr/sbin/policy-rc.d /usr/sbin/policy-rc.d.ogp && rm -f /usr/sbin/policy-rc.d
    rm -f /usr/sbin/policy-rc.d.ogp
  else
    say "dovecot is missing and cannot be installed here (need root and apt-get)" >&2
  fi
fi

# nginx, to serve a published site with deploy/nginx-site.conf (started by the test, on
# its own port; the package's own service is never started).
if ! command -v nginx >/dev/null && ! [ -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing nginx"
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.ogp && chmod +x /usr/sbin/policy-rc.d.ogp
    [ -e /usr/sbin/policy-rc.d ] || cp /usr/sbin/policy-rc.d.ogp /usr/sbin/policy-rc.d
    (apt-get update -qq || true) >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null 2>&1 \
      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
    cmp -s /usr/sbin/policy-rc.d /usr/sbin/policy-rc.d.ogp && rm -f /usr/sbin/policy-rc.d
    rm -f /usr/sbin/policy-rc.d.ogp
  else
    say "nginx is missing and cannot be installed here (need root and apt-get)" >&2
  fi
fi

# Headless Chromium and its driver for the UI tests (Debian's, never a download).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing chromium and chromium-driver"
    (apt-get update -qq || true) >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  else
    say "chromium is missing and cannot be installed here (need root and apt-get)" >&2
  fi
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null; then
    say "starting redis-server"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ogp-tests.log
    for _ in $(seq 1 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.1; done
  else
    say "redis-server is not installed" >&2
  fi
fi

if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  if command -v pg_ctlcluster >/dev/null; then
    say "starting PostgreSQL"
    version=$(ls /etc/postgresql | sort -n | tail -1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 100); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.1; done
  fi
fi
say "nginx: $(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || echo missing); chromium: $(command -v chromedriver || echo missing); dovecot: $(command -v dovecot || echo missing); redis: $(redis-cli ping 2>/dev/null || echo down); postgres: $(pg_isready -h 127.0.0.1 -p 5432 2>/dev/null || echo down)"
