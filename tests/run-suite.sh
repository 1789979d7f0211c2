#!/usr/bin/env bash
# The whole suite as two pytest processes at once, one per core: the service-heavy half
# (fault injection and functional tests, mostly waiting on subprocesses and servers) and
# the unit half. They share nothing that could clash: every test has its own database
# (PostgreSQL templates are per process), Celery queue, mailbox and ports, and each
# process gets its own temporary folder. Each half's report is printed whole when both
# are done; the exit status is the worse of the two.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=${PYTEST:-.venv/bin/pytest}
OUT=$(mktemp -d)
common=(-p no:cacheprovider --durations=15)
# The public site's 2,000-comment acceptance tests and the 500-letter campaign in the
# browser run with the unit half: it balances the two (about 17 and 13 minutes of a shared
# machine otherwise).
BALANCE=(tests/functional/test_public_site.py tests/functional/test_campaign_browser.py)
"$PYTEST" "${common[@]}" --basetemp="$OUT/tmp-services" tests/faults tests/functional \
  "${BALANCE[@]/#/--ignore=}" >"$OUT/services.log" 2>&1 &
services=$!
# A test that needs the PostgreSQL cluster to itself (its count memo ends at any commit in
# the cluster, and the other half commits all the time) runs alone, after both halves.
QUIET=tests/unit/moderation/test_queue.py::test_counts_of_an_unchanged_database_are_not_counted_again
"$PYTEST" "${common[@]}" --basetemp="$OUT/tmp-unit" tests/unit tests/test_*.py "${BALANCE[@]}" \
  --deselect "$QUIET" >"$OUT/unit.log" 2>&1
unit=$?
wait "$services"
services_status=$?
"$PYTEST" -p no:cacheprovider --basetemp="$OUT/tmp-quiet" "$QUIET" >>"$OUT/unit.log" 2>&1 || unit=1
echo "================ faults and functional tests ================"
cat "$OUT/services.log"
echo "================ unit tests and checks ================"
cat "$OUT/unit.log"
rm -rf "$OUT"
echo "faults and functional: exit $services_status; unit: exit $unit"
[ "$services_status" -eq 0 ] && [ "$unit" -eq 0 ]
