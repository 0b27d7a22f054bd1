#!/usr/bin/env bash
# tests/ops/install-lint.sh — install the code-quality tools that
# tests/ops/lint.sh, `make lint`, `make format` and .pre-commit-config.yaml use:
#
#   apt:  clang-format-14, clang-tidy-14 (Debian bookworm 1:14.0.6-*), cppcheck (2.10-*)
#   pip:  tests/ops/requirements-lint.txt (ruff, pre-commit; pinned) into the
#         virtualenv TD_OPS_VENV (default /opt/td-ops-venv), created if missing
#
# The C tools are pinned by the Debian release: bookworm ships exactly one
# version of each, and a formatting change between versions would show up as
# a failing `clang-format --dry-run --Werror`.  Idempotent: installs only what
# is missing.  The extension's own build dependencies (PostgreSQL server
# headers, cJSON, libcurl; clang-tidy and cppcheck parse against them) come
# from scripts/install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

APT_PACKAGES=(clang-format-14 clang-tidy-14 cppcheck python3-venv)

missing=()
for p in "${APT_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

OPS_VENV=${TD_OPS_VENV:-/opt/td-ops-venv}
if [ ! -x "$OPS_VENV/bin/pip" ]; then
	$SUDO python3 -m venv "$OPS_VENV"
fi
# pip itself decides whether anything needs installing; with every pin
# satisfied it only checks and returns.
$SUDO "$OPS_VENV/bin/pip" install -q --disable-pip-version-check -r tests/ops/requirements-lint.txt
