#!/usr/bin/env bash
# tests/ops/validate_workflows.sh — check the GitHub Actions workflows.
#
#   bash tests/ops/validate_workflows.sh [ROOT]
#
# ROOT is a tree holding .github/ (default: this repository); pointing it at
# a copy is how the checks themselves are tested.  Needs what
# tests/ops/install-workflows.sh installs (actionlint in $TD_OPS_BIN, default
# /opt/td-ops-bin, or on PATH; shellcheck; PyYAML).
#
# Checks: actionlint on .github/workflows/*.yml, with shellcheck on every
# `run:` script and .github/actionlint.yaml's list of configuration
# variables (any finding fails); then structural checks of what ci.yml and
# cd.yml must do: the PostgreSQL matrix is exactly 15..18 from PGDG, the
# sanitizer, fuzz, lint and infrastructure jobs, artifacts, caches,
# least-privilege permissions, OIDC-only AWS access, the three images
# Terraform deploys (Lambda, PostgreSQL, forwarder) built and their tags
# passed to the plan, the stg -> prod environments with prod needing stg,
# Terraform plan/apply of a saved plan with the provider lock file read-only
# where there is one, and every action pinned to a commit SHA with its
# version in a comment.
# Ends with "N passed, N failed"; exits 1 on any failure.
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROOT=$(cd "${1:-$REPO}" && pwd) || exit 2
BIN=${TD_OPS_BIN:-/opt/td-ops-bin}
WF_DIR=$ROOT/.github/workflows

# shellcheck source=tests/lib/results.sh
. "$REPO/tests/lib/results.sh"

ACTIONLINT=
if [ -x "$BIN/actionlint" ]; then
	ACTIONLINT=$BIN/actionlint
elif command -v actionlint >/dev/null 2>&1; then
	ACTIONLINT=$(command -v actionlint)
fi

shopt -s nullglob
workflows=("$WF_DIR"/*.yml "$WF_DIR"/*.yaml)
shopt -u nullglob

echo "=== workflows in $WF_DIR: ${#workflows[@]}"
[ ${#workflows[@]} -gt 0 ]
result "workflow files present" $?

# --- actionlint (+ shellcheck) ----------------------------------------------
if [ -z "$ACTIONLINT" ]; then
	echo "actionlint not found in $BIN nor on PATH: run tests/ops/install-workflows.sh"
	result "actionlint" 1
elif [ ${#workflows[@]} -gt 0 ]; then
	sc_opt=()
	if command -v shellcheck >/dev/null 2>&1; then
		sc_label="shellcheck $(shellcheck --version | sed -n 's/^version: //p')"
	else
		sc_label="no shellcheck: run scripts not checked"
		sc_opt=(-shellcheck=)
	fi
	cfg_opt=()
	[ -f "$ROOT/.github/actionlint.yaml" ] && cfg_opt=(-config-file "$ROOT/.github/actionlint.yaml")
	echo "=== actionlint $("$ACTIONLINT" -version | head -n 1) ($sc_label)"
	(cd "$ROOT" && "$ACTIONLINT" -no-color "${cfg_opt[@]}" "${sc_opt[@]}" "${workflows[@]}")
	result "actionlint ($sc_label)" $?

	# actionlint knows the inputs and outputs of popular actions by their tags
	# (owner/repo@v4), not by commit: check a copy in which every
	# `@<sha> # vX.Y.Z` reads `@vX`, so a misspelt `with:` key still fails.
	echo "=== actionlint: inputs/outputs of the pinned actions, as their major tags"
	tagged=$(mktemp -d)
	mkdir -p "$tagged/.github/workflows"
	[ -f "$ROOT/.github/actionlint.yaml" ] && cp "$ROOT/.github/actionlint.yaml" "$tagged/.github/"
	for wf in "${workflows[@]}"; do
		sed -E 's/^([[:space:]]*(-[[:space:]]+)?uses:[[:space:]]*[^@[:space:]]+)@[0-9a-f]{40}[[:space:]]+#[[:space:]]*(v[0-9]+)[.0-9]*.*$/\1@\3/' \
			"$wf" >"$tagged/.github/workflows/$(basename "$wf")"
	done
	(cd "$tagged" && "$ACTIONLINT" -no-color "${cfg_opt[@]/$ROOT/$tagged}" -shellcheck= .github/workflows/*)
	result "actionlint: action inputs and outputs" $?
	rm -rf "$tagged"
fi

# --- structural checks ------------------------------------------------------
counts=$(mktemp)
trap 'rm -f "$counts"' EXIT
echo "=== structural checks"
python3 - "$WF_DIR" "$counts" <<'PY'
import os
import re
import sys

import yaml

wf_dir, counts_file = sys.argv[1], sys.argv[2]
results = []


def check(name):
    def deco(fn):
        try:
            problems = fn() or []
        except Exception as exc:  # a missing key, a file that is not there
            problems = [f"{type(exc).__name__}: {exc}"]
        results.append((name, problems))
        print(("ok: " if not problems else "FAIL: ") + name)
        for p in problems:
            print(f"    - {p}")
        return fn
    return deco


def load(name):
    path = os.path.join(wf_dir, name)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return yaml.safe_load(text), text


def triggers(wf):
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {k: None for k in on}
    return on or {}


def steps(job):
    return job.get("steps") or []


def runs(job):
    return "\n".join(s.get("run", "") for s in steps(job))


def uses(job, action):
    return [s for s in steps(job) if str(s.get("uses", "")).split("@")[0] == action]


def env_name(job):
    e = job.get("environment")
    return e.get("name") if isinstance(e, dict) else e


def needs(job):
    n = job.get("needs") or []
    return [n] if isinstance(n, str) else list(n)


def ancestors(jobs, jid):
    seen, todo = set(), list(needs(jobs[jid]))
    while todo:
        j = todo.pop()
        if j not in seen:
            seen.add(j)
            todo.extend(needs(jobs.get(j, {})))
    return seen


def write_perms(perms):
    if perms in ("write-all",):
        return ["write-all"]
    if isinstance(perms, dict):
        return [k for k, v in perms.items() if v == "write"]
    return []


files = sorted(f for f in os.listdir(wf_dir) if f.endswith((".yml", ".yaml")))
ci, ci_text = load("ci.yml") if "ci.yml" in files else ({}, "")
cd, cd_text = load("cd.yml") if "cd.yml" in files else ({}, "")
ci_jobs, cd_jobs = ci.get("jobs") or {}, cd.get("jobs") or {}


# --- every workflow ---
@check("every action pinned to a full commit SHA with '# vX.Y.Z'")
def _():
    bad = []
    for name in files:
        with open(os.path.join(wf_dir, name), encoding="utf-8") as f:
            for no, line in enumerate(f, 1):
                m = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", line)
                if not m or m.group(1).startswith(("./", "docker://")):
                    continue
                ref = m.group(1).rsplit("@", 1)
                comment = re.match(r"\s*#\s*(v\d+\.\d+\.\d+)\b", m.group(2))
                if len(ref) != 2 or not re.fullmatch(r"[0-9a-f]{40}", ref[1]) or not comment:
                    bad.append(f"{name}:{no}: {m.group(1)}{m.group(2)}")
    return bad


@check("every workflow declares top-level permissions")
def _():
    bad = []
    for name in files:
        wf, _ = load(name)
        if "permissions" not in wf:
            bad.append(f"{name}: no top-level permissions")
        elif write_perms(wf["permissions"]):
            bad.append(f"{name}: top-level write permissions {write_perms(wf['permissions'])}")
    return bad


@check("every job has timeout-minutes; checkouts keep no credentials")
def _():
    bad = []
    for name in files:
        wf, _ = load(name)
        for jid, job in (wf.get("jobs") or {}).items():
            if "uses" not in job and "timeout-minutes" not in job:
                bad.append(f"{name}: job {jid} has no timeout-minutes")
            for s in uses(job, "actions/checkout"):
                if (s.get("with") or {}).get("persist-credentials") is not False:
                    bad.append(f"{name}: job {jid} checks out without persist-credentials: false")
    return bad


# --- ci.yml ---
@check("ci: runs on push and pull_request, with a concurrency group")
def _():
    t = triggers(ci)
    bad = [f"no {k} trigger" for k in ("push", "pull_request") if k not in t]
    if not (ci.get("concurrency") or {}).get("group"):
        bad.append("no top-level concurrency group")
    return bad


@check("ci: read-only (no write permission anywhere)")
def _():
    bad = [f"job {j}: {write_perms(job.get('permissions'))}"
           for j, job in ci_jobs.items() if write_perms(job.get("permissions"))]
    return bad + ([] if ci else ["ci.yml missing"])


@check("ci: build-test matrix is exactly PostgreSQL 15, 16, 17, 18 from PGDG, PG_MAJOR passed")
def _():
    mats = [(j, job) for j, job in ci_jobs.items()
            if "pg" in ((job.get("strategy") or {}).get("matrix") or {})]
    if len(mats) != 1:
        return [f"expected one job with a `pg` matrix, found {[j for j, _ in mats]}"]
    jid, job = mats[0]
    bad = []
    pg = job["strategy"]["matrix"]["pg"]
    if [str(v) for v in pg] != ["15", "16", "17", "18"]:
        bad.append(f"{jid}: matrix pg is {pg}")
    if str((job.get("env") or {}).get("PG_MAJOR", "")).replace(" ", "") != "${{matrix.pg}}":
        bad.append(f"{jid}: env PG_MAJOR is not ${{{{ matrix.pg }}}}")
    r = runs(job)
    if "apt.postgresql.org/pub/repos/apt" not in r:
        bad.append(f"{jid}: no PGDG apt source")
    if "PGDG_KEY_FINGERPRINT" not in r and "B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8" not in r:
        bad.append(f"{jid}: the PGDG key's fingerprint is not checked")
    for cmd in ("scripts/install-deps.sh", "tests/run_all.sh"):
        if cmd not in r:
            bad.append(f"{jid}: does not run {cmd}")
    return bad


def job_running(jobs, *needles):
    return [j for j, job in jobs.items() if all(n in runs(job) for n in needles)]


LIB_LOOP = "for lib in common model stats aws; do"


@check("ci: sanitizer job (every library under ASan/UBSan)")
def _():
    return [] if job_running(ci_jobs, LIB_LOOP, 'make -C "lib/$lib" test-sanitize') \
        else ["no job runs `make -C lib/<name> test-sanitize` for every library"]


@check("ci: fuzz job, FUZZ_SECONDS=30, every library")
def _():
    js = job_running(ci_jobs, LIB_LOOP, 'make -C "lib/$lib" fuzz-run')
    if not js:
        return ["no job runs both fuzz-run targets"]
    return [] if any(str((ci_jobs[j].get("env") or {}).get("FUZZ_SECONDS")) == "30" for j in js) \
        else [f"{js}: FUZZ_SECONDS is not 30"]


@check("ci: lint job (make lint; pre-commit run --all-files)")
def _():
    return [] if job_running(ci_jobs, "make lint", "pre-commit run --all-files") \
        else ["no job runs `make lint` and `pre-commit run --all-files`"]


@check("ci: infrastructure validation (containers, IaC, workflows)")
def _():
    return [f"no job runs {s}" for s in ("tests/ops/validate_containers.sh", "tests/ops/validate_iac.sh",
                                         "tests/ops/validate_workflows.sh")
            if not job_running(ci_jobs, s)]


@check("ci: test logs and the monitoring screenshot uploaded, even on failure")
def _():
    paths = []
    for job in ci_jobs.values():
        for s in uses(job, "actions/upload-artifact"):
            if "always()" in str(s.get("if", "")):
                paths.append(str((s.get("with") or {}).get("path", "")))
    bad = []
    if not any("tests/monitoring/artifacts" in p for p in paths):
        bad.append("no `if: always()` upload of tests/monitoring/artifacts/")
    if not any("log" in p.lower() for p in paths):
        bad.append("no `if: always()` upload of test logs")
    return bad


def expand_env(text, *envs):
    """${{ env.NAME }} in TEXT, from the job's then the workflow's env."""
    def sub(m):
        for e in envs:
            if m.group(1) in (e or {}):
                return str(e[m.group(1)])
        return m.group(0)
    return re.sub(r"\$\{\{\s*env\.(\w+)\s*\}\}", sub, text)


@check("ci: pip and Go caches")
def _():
    cached = []
    for job in ci_jobs.values():
        for s in uses(job, "actions/cache"):
            cached.append(expand_env(str((s.get("with") or {}).get("path", "")), job.get("env"), ci.get("env")))
        for s in uses(job, "actions/setup-go"):
            if (s.get("with") or {}).get("cache", True) is not False:
                cached.append("go")
    bad = []
    if not any("pip" in p for p in cached):
        bad.append("no pip cache")
    if "go" not in cached and not any("go-build" in p or "pkg/mod" in p for p in cached):
        bad.append("no Go cache")
    return bad


# --- cd.yml ---
@check("cd: runs on tag pushes v* only")
def _():
    t = triggers(cd)
    bad = [f"unexpected trigger {k}" for k in t if k != "push"]
    push = t.get("push") or {}
    if push.get("tags") != ["v*"]:
        bad.append(f"push.tags is {push.get('tags')}")
    if "branches" in push:
        bad.append("push.branches set")
    return bad


@check("cd: least privilege (id-token: write only where AWS roles are assumed)")
def _():
    bad = []
    for j, job in cd_jobs.items():
        w = write_perms(job.get("permissions"))
        aws = bool(uses(job, "aws-actions/configure-aws-credentials"))
        if aws and w != ["id-token"]:
            bad.append(f"job {j} assumes an AWS role with write permissions {w}")
        if not aws and w:
            bad.append(f"job {j} has write permissions {w} without assuming an AWS role")
    return bad + ([] if cd_jobs else ["cd.yml has no jobs"])


@check("cd: AWS through OIDC role-to-assume only (no static keys)")
def _():
    bad = []
    steps_ = [(j, s) for j, job in cd_jobs.items() for s in uses(job, "aws-actions/configure-aws-credentials")]
    if not steps_:
        bad.append("no aws-actions/configure-aws-credentials step")
    for j, s in steps_:
        w = s.get("with") or {}
        if not w.get("role-to-assume"):
            bad.append(f"job {j}: no role-to-assume")
        for k in ("aws-access-key-id", "aws-secret-access-key", "aws-session-token"):
            if k in w:
                bad.append(f"job {j}: static credential input {k}")
    if re.search(r"secrets\.AWS_(ACCESS|SECRET)", cd_text):
        bad.append("static AWS keys referenced from secrets")
    return bad


# Each image Terraform deploys: its Dockerfile, its repository suffix
# (terraform/modules/ecr), the terraform variable of its tag.
IMAGES = {
    "lambda/Dockerfile": ("-taxi-duration-lambda", "lambda_image_tag"),
    "docker/postgres/Dockerfile": ("-taxi-duration-postgres", "postgres_image_tag"),
    "docker/forwarder/Dockerfile": ("-taxi-duration-forwarder", "forwarder_image_tag"),
}


@check("cd: images to ECR (Lambda, PostgreSQL with PG_MAJOR, forwarder), to stg and prod")
def _():
    bad = []
    builds = [(j, s.get("with") or {}) for j, job in cd_jobs.items()
              for s in uses(job, "docker/build-push-action")]
    if not any(uses(job, "aws-actions/amazon-ecr-login") for job in cd_jobs.values()):
        bad.append("no amazon-ecr-login")
    files_ = {w.get("file"): w for _, w in builds}
    for f, (repo, _var) in IMAGES.items():
        if f not in files_:
            bad.append(f"{f} is not built")
            continue
        if files_[f].get("push") is not True:
            bad.append(f"{f} is not pushed")
        tags = str(files_[f].get("tags", ""))
        for env in ("stg", "prod"):
            if f"/{env}{repo}:" not in tags:
                bad.append(f"{f} is not tagged for the repository {env}{repo}")
    if "docker/postgres/Dockerfile" in files_ and \
            "PG_MAJOR=" not in str(files_["docker/postgres/Dockerfile"].get("build-args", "")):
        bad.append("docker/postgres/Dockerfile built without the PG_MAJOR build arg")
    return bad


@check("cd: environments stg and prod, prod needing stg")
def _():
    by_env = {}
    for j, job in cd_jobs.items():
        if env_name(job):
            by_env.setdefault(env_name(job), []).append(j)
    bad = [f"no job in environment {e}" for e in ("stg", "prod") if e not in by_env]
    if bad:
        return bad
    for p in by_env["prod"]:
        if not set(by_env["stg"]) & ancestors(cd_jobs, p):
            bad.append(f"prod job {p} does not need the stg job(s) {by_env['stg']}")
    for s in by_env["stg"]:
        if set(by_env["prod"]) & ancestors(cd_jobs, s):
            bad.append(f"stg job {s} needs a prod job")
    return bad


@check("cd: terraform init/plan per environment, apply of the saved plan behind the environment")
def _():
    bad = []
    for env in ("stg", "prod"):
        plan_jobs = [j for j, job in cd_jobs.items() if re.search(r"terraform -chdir=terraform plan\b", runs(job))
                     and (f"vars/{env}.tfvars" in runs(job) or
                          (str((job.get("env") or {}).get("TF_ENV")) == env and "vars/$TF_ENV.tfvars" in runs(job)))]
        apply_jobs = [j for j, job in cd_jobs.items() if env_name(job) == env
                      and re.search(r"terraform -chdir=terraform apply\b", runs(job))]
        if len(plan_jobs) != 1:
            bad.append(f"{env}: expected one plan job with vars/{env}.tfvars, found {plan_jobs}")
            continue
        if len(apply_jobs) != 1:
            bad.append(f"{env}: expected one apply job in environment {env}, found {apply_jobs}")
            continue
        pj, aj = plan_jobs[0], apply_jobs[0]
        pr, ar = runs(cd_jobs[pj]), runs(cd_jobs[aj])
        if env_name(cd_jobs[pj]):
            bad.append(f"{env}: plan job {pj} is itself gated by an environment")
        for where, r in ((pj, pr), (aj, ar)):
            if not re.search(r"terraform -chdir=terraform init\b[^\n]*(\\\n[^\n]*)*-backend-config=", r):
                bad.append(f"{env}: job {where} has no `terraform -chdir=terraform init -backend-config=...`")
        if not re.search(r"plan\b[\s\S]*-out=", pr):
            bad.append(f"{env}: plan is not saved (-out=)")
        for f, (_repo, var) in IMAGES.items():
            if f"{var}=" not in pr:
                bad.append(f"{env}: {var} ({f}) is not passed to terraform plan")
        if "-lockfile=readonly" not in pr or ".terraform.lock.hcl" not in pr:
            bad.append(f"{env}: plan's init does not use the committed provider lock file "
                       "(-lockfile=readonly when terraform/.terraform.lock.hcl exists)")
        if "-lockfile=readonly" not in ar:
            bad.append(f"{env}: apply's init does not keep the plan's provider lock file (-lockfile=readonly)")
        if pj not in ancestors(cd_jobs, aj):
            bad.append(f"{env}: apply job {aj} does not need plan job {pj}")
        apply_line = re.search(r"terraform -chdir=terraform apply\b[^\n]*", ar).group(0)
        if "tfplan" not in apply_line or "-auto-approve" in apply_line or "-var" in apply_line:
            bad.append(f"{env}: apply does not apply the saved plan: {apply_line}")
    return bad


with open(counts_file, "w") as f:
    f.write(f"{sum(1 for _, p in results if not p)} {sum(1 for _, p in results if p)}\n")
PY
py_rc=$?
read -r sp sf <"$counts" 2>/dev/null || { sp=0; sf=1; }
[ "$py_rc" = 0 ] || { [ "$sf" -gt 0 ] || sf=1; }
passed=$((passed + sp))
failed=$((failed + sf))
[ "$sf" -gt 0 ] && failed_names+=("structural checks: $sf")

echo
[ $failed -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
