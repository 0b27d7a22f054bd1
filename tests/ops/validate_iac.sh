#!/usr/bin/env bash
# tests/ops/validate_iac.sh — validate the infrastructure code with real tools:
#
#   bash tests/ops/validate_iac.sh            # from anywhere; ends with "N passed, N failed, N skipped"
#
#   1. python-hcl2 parses every HCL file under terraform/ (.tf, .tfvars, .tftest.hcl,
#      .tfbackend, backend.tf.example)
#   2. terraform fmt -check -recursive
#   3. terraform init -backend=false against the provider mirror (offline) + validate
#   4. terraform test with vars/stg.tfvars and vars/prod.tfvars (mocked AWS provider:
#      the var files pass the name validations, every module plans and applies)
#   5. the PostgreSQL host's user data, rendered: bash -n and shellcheck (also the
#      scripts it writes)
#   6. cfn-lint template.yaml
#   7. checkov on template.yaml (cloudformation) and on terraform/ with each var file
#      (terraform): no failed check; every skip carries its reason inline
#   8. tests/ops/check_names.py, then the same on altered copies: each wrong name must
#      fail, and a model bucket renamed consistently (a deployment's own) must pass
#
# Tools: tests/ops/install-iac.sh (run first, idempotent; TD_SKIP_INSTALL=1 skips it)
# into TD_OPS_VENV (/opt/td-ops-venv).  Terraform steps run where terraform
# (TERRAFORM, default: on PATH) and the provider mirror TD_TF_PLUGIN_MIRROR
# (/opt/tf-plugins, hashicorp/aws 5.x) exist, and are counted as skipped elsewhere
# (TERRAFORM=none forces that).
# Exit status 1 if any step failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
root=$PWD

venv=${TD_OPS_VENV:-/opt/td-ops-venv}
mirror=${TD_TF_PLUGIN_MIRROR:-/opt/tf-plugins}
terraform=${TERRAFORM:-$(command -v terraform || true)}
[ -n "$terraform" ] && [ -x "$terraform" ] || terraform=   # TERRAFORM=none: as if absent

if [ "${TD_SKIP_INSTALL:-0}" != 1 ]; then
	bash tests/ops/install-iac.sh || { echo "install-iac.sh failed"; echo "0 passed, 1 failed"; exit 1; }
fi
py=$venv/bin/python
hcl2_path=$venv/isolated/python-hcl2
checkov_path=$venv/isolated/checkov

work=$(mktemp -d "${TMPDIR:-/tmp}/validate-iac.XXXXXX")
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
skipped=0
failures=()

# step NAME CMD...: run, show its output, count it.
step() {
	local name=$1
	shift
	echo
	echo "=== $name"
	local t0=$SECONDS
	if "$@"; then
		passed=$((passed + 1))
		echo "--- ok: $name ($((SECONDS - t0)) s)"
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "--- FAILED: $name ($((SECONDS - t0)) s)"
	fi
}

skip() {
	echo
	echo "=== $1"
	echo "--- skipped: $2"
	skipped=$((skipped + 1))
}

# ---- 1. HCL --------------------------------------------------------------------

parse_hcl() {
	PYTHONPATH=$hcl2_path "$py" - terraform <<'PY'
import os, sys
import hcl2
names = (".tf", ".tfvars", ".tftest.hcl", ".tfbackend", ".tf.example")
files = []
for d, dirs, fs in os.walk(sys.argv[1]):
    dirs[:] = sorted(x for x in dirs if x != ".terraform")
    files += [os.path.join(d, f) for f in sorted(fs) if f.endswith(names)]
bad = 0
for f in files:
    try:
        with open(f, encoding="utf-8") as fh:
            hcl2.load(fh)
        print("parsed  " + f)
    except Exception as e:  # noqa: BLE001
        bad += 1
        print("ERROR   %s: %s" % (f, str(e).splitlines()[0] if str(e) else type(e).__name__))
print("python-hcl2 %s: %d files, %d unparsable" % (hcl2.__version__ if hasattr(hcl2, "__version__") else
      __import__("hcl2.version").version.__version__, len(files), bad))
sys.exit(1 if bad or not files else 0)
PY
}
step "python-hcl2 parses every HCL file under terraform/" parse_hcl

# ---- 2-4. terraform --------------------------------------------------------------

have_mirror() {
	compgen -G "$mirror/registry.terraform.io/hashicorp/aws/5.*/linux_amd64/terraform-provider-aws_*" >/dev/null
}

tf() { CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_CLI_CONFIG_FILE=$work/terraformrc "$terraform" "$@"; }

tf_prepare() {
	cat > "$work/terraformrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/*/*"]
  }
  direct {
    exclude = ["registry.terraform.io/*/*"]
  }
}
EOF
	mkdir -p "$work/tf"
	(cd terraform && tar --exclude=.terraform --exclude=.terraform.lock.hcl -cf - .) | tar -xf - -C "$work/tf"
	tf -chdir="$work/tf" init -backend=false -input=false -no-color >"$work/tf-init.log" 2>&1 ||
		{ cat "$work/tf-init.log"; return 1; }
	grep -E 'Installed|Installing|Terraform has been successfully' "$work/tf-init.log"
	tf -chdir="$work/tf" validate -no-color
}

tf_test() {
	tf -chdir="$work/tf" test -no-color -var-file="vars/$1.tfvars" >"$work/tf-test-$1.log" 2>&1
	local rc=$?
	grep -vE '^\s+- (module|data)\.' "$work/tf-test-$1.log"
	return $rc
}

if [ -z "$terraform" ]; then
	skip "terraform fmt -check -recursive" "no terraform on this machine"
	skip "terraform init (offline, provider mirror) + validate" "no terraform on this machine"
	skip "terraform test -var-file=vars/stg.tfvars" "no terraform on this machine"
	skip "terraform test -var-file=vars/prod.tfvars" "no terraform on this machine"
else
	echo
	echo "($("$terraform" version | head -1))"
	step "terraform fmt -check -recursive" tf fmt -check -recursive -diff -no-color terraform
	if ! have_mirror; then
		skip "terraform init (offline, provider mirror) + validate" "no hashicorp/aws 5.x in $mirror"
		skip "terraform test -var-file=vars/stg.tfvars" "no provider mirror"
		skip "terraform test -var-file=vars/prod.tfvars" "no provider mirror"
	else
		step "terraform init (offline, provider mirror $mirror) + validate" tf_prepare
		if [ -d "$work/tf/.terraform" ]; then
			step "terraform test -var-file=vars/stg.tfvars (mocked AWS)" tf_test stg
			step "terraform test -var-file=vars/prod.tfvars (mocked AWS)" tf_test prod
		else
			skip "terraform test -var-file=vars/stg.tfvars" "init failed"
			skip "terraform test -var-file=vars/prod.tfvars" "init failed"
		fi
	fi
fi

# ---- 5. user data ---------------------------------------------------------------

user_data() {
	local tpl=terraform/modules/postgres_host/user_data.sh.tftpl out=$work/user_data.sh
	# templatefile() semantics for this template: ${name} -> value, $${ -> ${ ; no %{ } directives.
	"$py" - "$tpl" "$out" <<'PY' || return 1
import re, sys
text = open(sys.argv[1]).read()
values = {"data_volume_id": "vol-0123456789abcdef0", "region": "eu-north-1",
          "runtime_parameter": "/stg-taxi-duration/postgres/runtime"}
if "%{" in text.replace("%%{", ""):
    sys.exit("template directives %{...} are not expected")
def sub(m):
    if m.group(1) is not None:
        return "${"
    if m.group(2) not in values:
        sys.exit("unknown template variable ${%s}" % m.group(2))
    return values[m.group(2)]
out = re.sub(r"(\$\$\{)|\$\{([^}]*)\}", sub, text)
open(sys.argv[2], "w").write(out)
print("rendered %s (%d lines)" % (sys.argv[1], out.count("\n")))
PY
	bash -n "$out" || return 1
	# The scripts the user data writes with quoted heredocs (<<'SCRIPT').
	awk -v dir="$work" '/<<'"'"'SCRIPT'"'"'/ {n++; f=dir "/user_data_script_" n ".sh"; next}
		/^SCRIPT$/ {f=""; next} f {print > f}' "$out"
	local rc=0 f
	for f in "$out" "$work"/user_data_script_*.sh; do
		if "$venv/bin/shellcheck" -s bash "$f"; then
			echo "shellcheck clean: $(basename "$f")"
		else
			rc=1
		fi
	done
	return $rc
}
step "PostgreSQL host user data: render, bash -n, shellcheck" user_data

# ---- 6. cfn-lint ------------------------------------------------------------------

cfn_lint() {
	"$venv/bin/cfn-lint" --version
	"$venv/bin/cfn-lint" template.yaml && echo "template.yaml: no findings"
}
step "cfn-lint template.yaml" cfn_lint

# ---- 7. checkov -------------------------------------------------------------------

# checkov_run LABEL ARGS...: JSON report -> summary; fails on any failed check, any
# parsing error, or a skip without a reason.
checkov_run() {
	local label=$1
	shift
	local out=$work/checkov-$label.json
	env PYTHONPATH="$checkov_path" BC_SKIP_MAPPING=TRUE LOG_LEVEL=ERROR \
		"$py" -m checkov.main "$@" --skip-download -o json >"$out" 2>"$work/checkov-$label.err"
	"$py" - "$out" <<'PY'
import json, sys
try:
    data = json.load(open(sys.argv[1]))
except ValueError:
    print("checkov wrote no JSON report:")
    print(open(sys.argv[1]).read()[-2000:])
    sys.exit(1)
reports = data if isinstance(data, list) else [data]
bad = 0
for rep in reports:
    s, r = rep["summary"], rep["results"]
    print("checkov %s, %s: passed %d, failed %d, skipped %d, parsing errors %d, resources %d"
          % (s.get("checkov_version", "?"), rep.get("check_type"), s["passed"], s["failed"],
             s["skipped"], s["parsing_errors"], s.get("resource_count", 0)))
    for c in r.get("failed_checks", []):
        print("  FAILED  %s %s (%s:%s) %s" % (c["check_id"], c["resource"], c["file_path"],
                                              "-".join(map(str, c.get("file_line_range", []))), c["check_name"]))
    for c in r.get("skipped_checks", []):
        reason = (c.get("check_result") or {}).get("suppress_comment", "").strip()
        print("  skipped %s %s: %s" % (c["check_id"], c["resource"], reason or "NO REASON GIVEN"))
        bad += not reason
    bad += s["failed"] + s["parsing_errors"]
    if s["passed"] == 0:
        print("  no check ran")
        bad += 1
sys.exit(1 if bad else 0)
PY
}
step "checkov template.yaml (cloudformation)" \
	checkov_run cfn -f template.yaml --framework cloudformation
step "checkov terraform/ with vars/stg.tfvars (terraform)" \
	checkov_run tf-stg -d terraform --framework terraform --skip-path '\.terraform' --var-file terraform/vars/stg.tfvars
step "checkov terraform/ with vars/prod.tfvars (terraform)" \
	checkov_run tf-prod -d terraform --framework terraform --skip-path '\.terraform' --var-file terraform/vars/prod.tfvars

# ---- 8. names ---------------------------------------------------------------------

check_names() { TD_HCL2_PATH=$hcl2_path "$py" tests/ops/check_names.py --root "${1:-$root}"; }
step "check_names.py: names agree across tfvars, template.yaml, compose, .env.*" check_names

# names_copy DIR: the files check_names.py reads, copied.
names_copy() {
	local d=$1 f
	for f in .env.dev .env.prod template.yaml lambda/Dockerfile terraform/main.tf \
		terraform/modules/lambda/main.tf terraform/vars/stg.tfvars terraform/vars/prod.tfvars \
		docker-compose.local.yaml; do
		[ -e "$f" ] || continue
		mkdir -p "$d/$(dirname "$f")"
		cp "$f" "$d/$f"
	done
}

# must_fail CASE FILE SED-EXPR EXPECTED-TEXT: check_names.py on a copy with one change
# must exit 1 and print a FAIL line containing EXPECTED-TEXT.
must_fail() {
	local case=$1 file=$2 expr=$3 expect=$4 d
	d=$work/names-$case
	[ -d "$d" ] || names_copy "$d"
	if [ -n "$expr" ]; then
		sed -i -e "$expr" "$d/$file"
		if cmp -s "$file" "$d/$file"; then
			echo "the change did not apply to $file"
			return 1
		fi
		diff -u "$file" "$d/$file" | sed -n '/^[-+][^-+]/p'
	fi
	check_names "$d" >"$d.log" 2>&1
	local rc=$?
	grep '^FAIL' "$d.log"
	tail -1 "$d.log"
	[ $rc = 1 ] && grep '^FAIL' "$d.log" | grep -qF -- "$expect"
}

must_pass_copy() {
	local d=$work/names-copy
	names_copy "$d"
	check_names "$d" >"$d.log" 2>&1 || { cat "$d.log"; return 1; }
	tail -1 "$d.log"
}
step "check_names.py passes on an unaltered copy" must_pass_copy
step "check_names.py fails: stg.tfvars trips stream renamed" \
	must_fail stg-stream terraform/vars/stg.tfvars \
	's/^trips_stream_name *= *"stg_taxi_trip_events"/trips_stream_name = "stg_taxi_trips"/' \
	"stg trips stream: convention <env>_taxi_trip_events = 'stg_taxi_trip_events'  vs  terraform/vars/stg.tfvars trips_stream_name = 'stg_taxi_trips'"
step "check_names.py fails: template.yaml prod bucket mapping changed" \
	must_fail prod-bucket template.yaml \
	's/^      Bucket: rll-models-prod$/      Bucket: rll-models-production/' \
	"prod model bucket: terraform/vars/prod.tfvars model_bucket_name = 'rll-models-prod'  vs  template.yaml[Env=prod] Mappings.EnvMap.prod.Bucket = 'rll-models-production'"
step "check_names.py fails: .env.dev names another bucket than stg.tfvars" \
	must_fail env-dev-bucket .env.dev \
	's/^TD_MODEL_BUCKET=.*/TD_MODEL_BUCKET=example-org-taxi-models/' \
	"stg model bucket: terraform/vars/stg.tfvars model_bucket_name = 'rll-models-dev'  vs  .env.dev TD_MODEL_BUCKET = 'example-org-taxi-models'"
step "check_names.py fails: .env.prod predictions stream changed" \
	must_fail env-prod .env.prod \
	's/^TD_PREDICTIONS_STREAM=.*/TD_PREDICTIONS_STREAM=prod_taxi_prediction_events/' \
	".env.prod TD_PREDICTIONS_STREAM = 'prod_taxi_prediction_events'"
# shellcheck disable=SC2016  # ${Env} is CloudFormation's, literal here
step "check_names.py fails: template.yaml function name differs from stg.tfvars" \
	must_fail function template.yaml \
	's/FunctionName: !Sub "${Env}-taxi-trip-prediction"/FunctionName: !Sub "${Env}-trip-predictor"/' \
	"stg function name: terraform/vars/stg.tfvars lambda_function_name = 'stg-taxi-trip-prediction'  vs  template.yaml[Env=stg] FunctionName = 'stg-trip-predictor'"
step "check_names.py fails: template.yaml without bisect" \
	must_fail bisect template.yaml \
	's/BisectBatchOnFunctionError: true/BisectBatchOnFunctionError: false/' \
	"template.yaml BisectBatchOnFunctionError = False"

# rename_stg_bucket DIR NAME: the stg model bucket renamed in every file that names it.
rename_stg_bucket() {
	local d=$1 name=$2
	names_copy "$d"
	sed -i -e "s/^model_bucket_name *= *\"rll-models-dev\"/model_bucket_name = \"$name\"/" "$d/terraform/vars/stg.tfvars"
	sed -i -e "s/^TD_MODEL_BUCKET=rll-models-dev\$/TD_MODEL_BUCKET=$name/" "$d/.env.dev"
	sed -i -e "s/^      Bucket: rll-models-dev\$/      Bucket: $name/" "$d/template.yaml"
	if ! grep -q "\"$name\"" "$d/terraform/vars/stg.tfvars" || ! grep -q "=$name\$" "$d/.env.dev" ||
		! grep -q "Bucket: $name\$" "$d/template.yaml"; then
		echo "the rename did not apply"
		return 1
	fi
}

# A deployment's own bucket name, written in every file, passes.
own_bucket() {
	local d=$work/names-own-bucket
	rename_stg_bucket "$d" example-org-taxi-models-stg || return 1
	check_names "$d" >"$d.log" 2>&1 || { grep '^FAIL' "$d.log"; tail -1 "$d.log"; return 1; }
	grep -F "stg model bucket" "$d.log" | head -3
	tail -1 "$d.log"
}
step "check_names.py passes: the stg model bucket renamed everywhere (a deployment's own)" own_bucket

# The same with a name S3 refuses.
bad_bucket() {
	rename_stg_bucket "$work/names-bad-bucket" Example_Taxi_Models || return 1
	must_fail bad-bucket "" "" "stg model bucket: terraform/vars/stg.tfvars model_bucket_name = 'Example_Taxi_Models' is a valid S3 bucket name"
}
step "check_names.py fails: a model bucket name S3 refuses, even written everywhere" bad_bucket

# A compose file whose forwarder streams to the wrong stream (written in the copy,
# whether or not the real docker-compose.local.yaml exists yet).
compose_wrong() {
	local d=$work/names-compose
	names_copy "$d"
	cat > "$d/docker-compose.local.yaml" <<'EOF'
services:
  forwarder:
    env_file: [.env.dev]
    environment:
      TD_TRIPS_STREAM: ${TD_TRIPS_STREAM:-stg_taxi_trip_event}
  lambda:
    environment:
      PREDICTIONS_STREAM: stg_taxi_predictions
      TD_MODEL_URI: s3://rll-models-dev/taxi-duration/1/bundle.json
EOF
	must_fail compose "" "" "compose default of \${TD_TRIPS_STREAM}: .env.dev TD_TRIPS_STREAM = 'stg_taxi_trip_events'  vs  docker-compose.local.yaml default = 'stg_taxi_trip_event'"
}
step "check_names.py fails: docker-compose.local.yaml defaults a wrong stream" compose_wrong

echo
if [ ${#failures[@]} -gt 0 ]; then
	printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
