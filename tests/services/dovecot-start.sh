#!/usr/bin/env bash
# Start the test Dovecot: dovecot-start.sh RUNDIR  (prints KEY=VALUE lines)
# Env: IMAP_PORT (21143), IMAPS_PORT (21993), IMAP_PASSWORD (test-password).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RUNDIR=${1:?usage: dovecot-start.sh RUNDIR}
IMAP_PORT=${IMAP_PORT:-21143}
IMAPS_PORT=${IMAPS_PORT:-21993}
IMAP_PASSWORD=${IMAP_PASSWORD:-test-password}
MAIL_USER=${MAIL_USER:-nobody}

[ "$(id -u)" = 0 ] || { echo "dovecot-start.sh: needs root (Dovecot drops privileges itself)" >&2; exit 2; }
command -v dovecot >/dev/null || { echo "dovecot-start.sh: dovecot is not installed (apt-get install dovecot-imapd)" >&2; exit 2; }

mkdir -p "$RUNDIR"
RUNDIR=$(cd "$RUNDIR" && pwd)
# The unprivileged mail uid must traverse the run dir to reach its home.
chmod 0711 "$RUNDIR"
mkdir -p "$RUNDIR/tls" "$RUNDIR/log" "$RUNDIR/state" "$RUNDIR/mail"
MAIL_UID=$(id -u "$MAIL_USER"); MAIL_GID=$(id -g "$MAIL_USER")
chown "$MAIL_UID:$MAIL_GID" "$RUNDIR/mail"

if [ ! -s "$RUNDIR/tls/cert.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$RUNDIR/tls/key.pem" -out "$RUNDIR/tls/cert.pem" 2>/dev/null
  chmod 0600 "$RUNDIR/tls/key.pem"
fi

sed -e "s|@RUNDIR@|$RUNDIR|g" -e "s|@IMAP_PORT@|$IMAP_PORT|g" -e "s|@IMAPS_PORT@|$IMAPS_PORT|g" \
    -e "s|@PASSWORD@|$IMAP_PASSWORD|g" -e "s|@MAIL_UID@|$MAIL_UID|g" -e "s|@MAIL_GID@|$MAIL_GID|g" \
    "$HERE/dovecot.conf.in" > "$RUNDIR/dovecot.conf"
doveconf -c "$RUNDIR/dovecot.conf" -n > "$RUNDIR/log/effective.conf"
# Detach its stdio, or a caller reading our output would wait for the daemon.
dovecot -c "$RUNDIR/dovecot.conf" </dev/null >>"$RUNDIR/log/stdio.log" 2>&1

for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$IMAP_PORT") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$IMAPS_PORT") 2>/dev/null; then
    echo "RUNDIR=$RUNDIR"
    echo "PID=$(cat "$RUNDIR/run/master.pid")"
    echo "CAFILE=$RUNDIR/tls/cert.pem"
    exit 0
  fi
  sleep 0.1
done
echo "dovecot did not start; its log:" >&2
cat "$RUNDIR/log/dovecot.log" >&2 || true
exit 1
