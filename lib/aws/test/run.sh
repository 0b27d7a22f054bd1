#!/bin/bash
# lib/aws/test/run.sh — run one of the AWS library's test programs against
# real servers: moto with signature checking and MLflow
# (tests/lib/servers.py), with fixtures published by setup_fixtures.py.
# Always stops the servers.
#
#   lib/aws/test/run.sh PATH/TO/test_aws [more args for it]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
bin=$1
shift
venv=${TD_SERVERS_VENV:-/opt/td-servers-venv}
py=python3
[ -x "$venv/bin/python" ] && py=$venv/bin/python

state=$(mktemp -d "${TMPDIR:-/tmp}/td-fetch-test.XXXXXX")
cleanup() {
	python3 "$root/tests/lib/servers.py" stop --state-dir "$state" || true
	rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SECONDS=0
if ! python3 "$root/tests/lib/servers.py" start --state-dir "$state" --auth \
		--watch-pid $$ --ttl 900 >/dev/null; then
	tail -n 30 "$state"/*.log >&2 || true
	exit 1
fi
set -a
. "$state/env"
set +a
"$py" "$here/setup_fixtures.py" "$state/fixtures"
set -a
. "$state/fixtures/fixtures.env"
set +a
export TDT_FIXTURES="$state/fixtures"
echo "servers and fixtures ready in ${SECONDS}s"
"$bin" "$@"
