#!/usr/bin/env bash
# Stop the test Dovecot: dovecot-stop.sh RUNDIR. By pid only, never by name.
set -uo pipefail
RUNDIR=${1:?usage: dovecot-stop.sh RUNDIR}
PIDFILE="$RUNDIR/run/master.pid"
INSTANCE=$(sed -n 's/^instance_name = //p' "$RUNDIR/dovecot.conf" 2>/dev/null)
if [ -s "$PIDFILE" ]; then
  PID=$(cat "$PIDFILE")
  if kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID"
    for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$PID" 2>/dev/null && kill -KILL "$PID"
  fi
fi
# Logged-in imap processes outlive the master; end this instance's leftovers.
# Their titles read "<instance>/imap" or, as Dovecot 2.3 shows a name that does
# not start with "dovecot", "dovecot-<instance>/imap".
if [ -n "$INSTANCE" ]; then
  for p in $(ps -eo pid=,stat=,args= | awk -v p="$INSTANCE/" -v q="dovecot-$INSTANCE/" \
      '(index($3, p) == 1 || index($3, q) == 1) && $2 !~ /^Z/ {print $1}'); do
    kill -TERM "$p" 2>/dev/null || true
  done
fi
exit 0
