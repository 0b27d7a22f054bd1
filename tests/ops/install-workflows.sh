#!/usr/bin/env bash
# tests/ops/install-workflows.sh — install what tests/ops/validate_workflows.sh
# needs to check the GitHub Actions workflows (.github/workflows/*.yml):
#
#   actionlint   pinned, built with `go install` through the Go module proxy
#                into $TD_OPS_BIN (default /opt/td-ops-bin); needs Go >= 1.21
#                on PATH (an older go.mod `go` line is met by GOTOOLCHAIN=auto)
#   ShellCheck   Debian's package `shellcheck`; actionlint runs it on every
#                `run:` script
#   PyYAML       for the structural checks (python3-yaml, or pip)
#
# Idempotent: each tool is installed only when missing (actionlint also when
# its version differs from the pin).  Root or not (sudo otherwise).
set -euo pipefail

ACTIONLINT_VERSION=v1.7.12
BIN=${TD_OPS_BIN:-/opt/td-ops-bin}

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

apt_updated=
apt_install() {
	if [ -z "$apt_updated" ]; then
		$SUDO apt-get update -qq
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ShellCheck (the Debian package)
if ! command -v shellcheck >/dev/null 2>&1; then
	echo "installing: shellcheck (apt)"
	apt_install shellcheck
fi

# PyYAML for the structural checks
if ! python3 -c 'import yaml' 2>/dev/null; then
	if [ "$(command -v python3)" = /usr/bin/python3 ]; then
		echo "installing: python3-yaml (apt)"
		apt_install python3-yaml
	else
		echo "installing: PyYAML (pip, for $(command -v python3))"
		python3 -m pip install -q --disable-pip-version-check 'PyYAML==6.0.2'
	fi
fi

# actionlint (Go module proxy), pinned
have=
[ -x "$BIN/actionlint" ] && have=$("$BIN/actionlint" -version 2>/dev/null | head -n 1 || true)
if [ "$have" != "$ACTIONLINT_VERSION" ]; then
	if ! command -v go >/dev/null 2>&1; then
		echo "install-workflows: Go is needed to build actionlint (go install); put go on PATH" >&2
		exit 1
	fi
	echo "installing: actionlint $ACTIONLINT_VERSION into $BIN (go install)"
	if [ ! -d "$BIN" ]; then
		$SUDO mkdir -p "$BIN"
	fi
	if [ ! -w "$BIN" ]; then
		$SUDO chown "$(id -u):$(id -g)" "$BIN"
	fi
	GOBIN="$BIN" GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
	have=$("$BIN/actionlint" -version | head -n 1)
	if [ "$have" != "$ACTIONLINT_VERSION" ]; then
		echo "install-workflows: $BIN/actionlint reports '$have', expected $ACTIONLINT_VERSION" >&2
		exit 1
	fi
fi

echo "actionlint $("$BIN/actionlint" -version | head -n 1) ($BIN/actionlint)"
echo "shellcheck $(shellcheck --version | sed -n 's/^version: //p')"
