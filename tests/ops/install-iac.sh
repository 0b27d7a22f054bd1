#!/usr/bin/env bash
# tests/ops/install-iac.sh — install the pinned IaC validation tools
# (tests/ops/requirements-iac.txt) into the shared venv /opt/td-ops-venv.
#
#   bash tests/ops/install-iac.sh          # idempotent; TD_OPS_VENV=... to use another venv
#
# The venv is shared: other engineers' ops tools are installed into it too, so this
# script only adds or re-pins its own packages (pip install -r), never recreates it.
# "# isolated: <pin>" lines of the requirements file go to
# $TD_OPS_VENV/isolated/<name> (pip --target) instead, with their dependencies:
# checkov (its packaging<24 pin conflicts with requirements-lint.txt's pre-commit)
# and python-hcl2 (checkov's bc-python-hcl2 installs the same module `hcl2`).
# Run them as PYTHONPATH=$TD_OPS_VENV/isolated/<name> $TD_OPS_VENV/bin/python -m ...
# Terraform is not a PyPI package: validate_iac.sh uses /usr/local/bin/terraform and
# the provider mirror /opt/tf-plugins when the machine has them.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=${TD_OPS_VENV:-/opt/td-ops-venv}
req=$here/requirements-iac.txt
python=${PYTHON:-python3}

if [ ! -x "$venv/bin/python" ]; then
	echo "install-iac: creating $venv"
	"$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

# Already-satisfied pins cost no download; pip reports what it changed.
"${pip[@]}" install -q -r "$req"

sed -n 's/^# isolated: *//p' "$req" | while read -r spec; do
	[ -n "$spec" ] || continue
	name=${spec%%[=<>!~ ]*}
	target=$venv/isolated/$name
	stamp=$target/.td-installed
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$spec" ]; then
		continue
	fi
	echo "install-iac: $spec -> $target"
	rm -rf "$target"
	"${pip[@]}" install -q --no-warn-conflicts --target "$target" "$spec"
	echo "$spec" > "$stamp"
done

echo "install-iac: checkov $(PYTHONPATH=$venv/isolated/checkov "$venv/bin/python" -m checkov.main --version)," \
	"$("$venv/bin/cfn-lint" --version)," \
	"$("$venv/bin/shellcheck" --version | sed -n 's/^version: /shellcheck /p')," \
	"python-hcl2 $(PYTHONPATH=$venv/isolated/python-hcl2 "$venv/bin/python" -c 'import hcl2.version as v; print(v.__version__)')"
