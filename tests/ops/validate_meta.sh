#!/usr/bin/env bash
# tests/ops/validate_meta.sh — check META.json, the PGXN distribution metadata
# (PGXN Meta Spec 1.0.0, https://pgxn.org/meta/spec.txt), and that every file
# stating the release's version agrees with it.
#
#   bash tests/ops/validate_meta.sh [ROOT]     # ROOT: a tree to check (default: this repository)
#
# Checks, on ROOT:
#   - META.json parses as JSON, holds the spec's required keys (name, version,
#     abstract, maintainer, license, provides, meta-spec) with the spec's
#     types, meta-spec 1.0.0, SemVer versions, version ranges in prereqs, a
#     release_status of the spec, https resources;
#   - the name is the extension's (taxi_duration.control, the Makefile's
#     EXTENSION); META.json's version, provides.taxi_duration.version,
#     taxi_duration.control's default_version, the Makefile's EXTVERSION and
#     pyproject.toml's [project] version are one version; provides' file is
#     the script `make` builds, sql/<name>--<version>.sql;
#   - the license is "postgresql", as LICENSE and pyproject.toml say;
#   - prereqs require PostgreSQL >= the oldest major README.md supports.
# Then, for this repository only, the same checks on altered copies (a
# version out of step, a missing key, another license), each of which must
# fail.  Ends with "N passed, N failed"; exit status 1 on any failure.
# Needs python3 (3.11+: tomllib) and nothing else.
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROOT=$(cd "${1:-$REPO}" && pwd) || exit 2

# shellcheck source=tests/lib/results.sh
. "$REPO/tests/lib/results.sh"

# check_tree DIR: the checks on DIR; prints one line per check, exit 1 if any failed.
check_tree() {
	python3 - "$1" <<'PY'
import json
import os
import re
import sys
import tomllib

root = sys.argv[1]
bad = 0


def check(ok, text):
    global bad
    print(("ok    " if ok else "FAIL  ") + text)
    bad += not ok


def read(rel):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return f.read()


# PGXN's SemVer (spec: "Version") and version range ("Version Range").
SEMVER = r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?"
RANGE_ONE = r"((==|!=|<=|>=|<|>)\s*)?" + SEMVER
RANGE = re.compile(r"^(0|" + RANGE_ONE + r"(,\s*" + RANGE_ONE + r")*)$")
LICENSES = {
    "agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd", "freebsd",
    "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1", "lgpl_3_0", "mit",
    "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5", "postgresql", "qpl_1_0", "ssleay", "sun",
    "zlib", "open_source", "restricted", "unrestricted", "unknown",
}

try:
    meta = json.loads(read("META.json"))
except (OSError, ValueError) as e:
    check(False, f"META.json parses as JSON: {e}")
    sys.exit(1)
check(isinstance(meta, dict), "META.json is a JSON object")
if not isinstance(meta, dict):
    sys.exit(1)

# -- the spec ------------------------------------------------------------------
required = ["name", "version", "abstract", "maintainer", "license", "provides", "meta-spec"]
missing = [k for k in required if k not in meta]
check(not missing, f"required keys present {required}" + (f": missing {missing}" if missing else ""))

spec = meta.get("meta-spec")
check(isinstance(spec, dict) and spec.get("version") == "1.0.0",
      f"meta-spec.version is 1.0.0 (got {spec.get('version') if isinstance(spec, dict) else spec!r})")
check(isinstance(spec, dict) and str(spec.get("url", "")).startswith("https://pgxn.org/meta/spec"),
      "meta-spec.url names the PGXN spec")

name = meta.get("name")
check(isinstance(name, str) and re.fullmatch(r"[^\s/\\:]{2,}", name or "") is not None,
      f"name is a PGXN term (at least 2 characters, no space, slash, backslash or colon): {name!r}")
version = meta.get("version")
check(isinstance(version, str) and re.fullmatch(SEMVER, version) is not None,
      f"version is SemVer: {version!r}")
for key in ("abstract", "description"):
    if key in meta or key == "abstract":
        v = meta.get(key)
        check(isinstance(v, str) and v.strip() != "", f"{key} is a non-empty string")
maint = meta.get("maintainer")
check((isinstance(maint, str) and maint.strip() != "")
      or (isinstance(maint, list) and maint and all(isinstance(m, str) and m.strip() for m in maint)),
      f"maintainer is a string or a list of strings: {maint!r}")
lic = meta.get("license")
check(lic in LICENSES, f"license is one of the spec's keywords: {lic!r}")
if "release_status" in meta:
    check(meta["release_status"] in ("stable", "testing", "unstable"),
          f"release_status is stable, testing or unstable: {meta['release_status']!r}")
if "tags" in meta:
    t = meta["tags"]
    check(isinstance(t, list) and all(isinstance(x, str) and 0 < len(x) <= 255 for x in t),
          "tags are strings of 1-255 characters")

provides = meta.get("provides")
check(isinstance(provides, dict) and provides, "provides is a non-empty object")
for ext, p in (provides or {}).items() if isinstance(provides, dict) else []:
    ok = isinstance(p, dict) and isinstance(p.get("file"), str) and isinstance(p.get("version"), str)
    check(ok, f"provides.{ext} has a file and a version")
    if ok:
        check(re.fullmatch(SEMVER, p["version"]) is not None, f"provides.{ext}.version is SemVer: {p['version']!r}")
        if "docfile" in p:
            check(os.path.isfile(os.path.join(root, p["docfile"])), f"provides.{ext}.docfile exists: {p['docfile']}")

prereqs = meta.get("prereqs", {})
check(isinstance(prereqs, dict), "prereqs is an object")
for phase, rels in prereqs.items() if isinstance(prereqs, dict) else []:
    check(phase in ("configure", "build", "test", "runtime", "develop"), f"prereqs phase {phase!r} is the spec's")
    for rel, deps in (rels or {}).items():
        check(rel in ("requires", "recommends", "suggests", "conflicts"), f"prereqs.{phase} relationship {rel!r} is the spec's")
        for dep, rng in (deps or {}).items():
            check(rng == 0 or (isinstance(rng, str) and RANGE.match(rng) is not None),
                  f"prereqs.{phase}.{rel}.{dep} is a version range: {rng!r}")

res = meta.get("resources", {})
urls = []
if isinstance(res, dict):
    urls = [res.get("homepage")] + [(res.get(k) or {}).get(f) for k in ("bugtracker", "repository") for f in ("web", "url")]
check(all(u is None or (isinstance(u, str) and u.startswith("https://")) for u in urls) and any(urls),
      f"resources are https URLs: {[u for u in urls if u]}")
repo = (res or {}).get("repository") or {}
check(repo.get("type") == "git", "resources.repository.type is git")
for d in ((meta.get("no_index") or {}).get("directory") or []):
    check(os.path.isdir(os.path.join(root, d)), f"no_index directory exists: {d}")

# -- agreement with the rest of the repository --------------------------------
control = read("taxi_duration.control")
m = re.search(r"^\s*default_version\s*=\s*'([^']*)'", control, re.M)
default_version = m.group(1) if m else None
makefile = read("Makefile")
m = re.search(r"^EXTENSION\s*=\s*(\S+)", makefile, re.M)
mk_ext = m.group(1) if m else None
m = re.search(r"^EXTVERSION\s*=\s*(\S+)", makefile, re.M)
mk_version = m.group(1) if m else None
pyproject = tomllib.loads(read("pyproject.toml"))
py_version = pyproject.get("project", {}).get("version")
py_license = pyproject.get("project", {}).get("license")

ext_name = mk_ext
check(os.path.isfile(os.path.join(root, f"{name}.control")) and name == mk_ext,
      f"name {name!r} is the extension's: {name}.control exists, Makefile EXTENSION = {mk_ext!r}")
versions = {
    "META.json version": version,
    f"META.json provides.{ext_name}.version": ((provides or {}).get(ext_name) or {}).get("version")
    if isinstance(provides, dict) else None,
    "taxi_duration.control default_version": default_version,
    "Makefile EXTVERSION": mk_version,
    "pyproject.toml [project] version": py_version,
}
check(len(set(versions.values())) == 1 and None not in versions.values(),
      "one version everywhere: " + ", ".join(f"{k} = {v!r}" for k, v in versions.items()))
want_file = f"sql/{mk_ext}--{mk_version}.sql"
got_file = ((provides or {}).get(ext_name) or {}).get("file") if isinstance(provides, dict) else None
check(got_file == want_file,
      f"provides.{ext_name}.file is the script make builds (DATA_built): {got_file!r} vs {want_file!r}")
check("DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql" in makefile,
      "the Makefile builds sql/$(EXTENSION)--$(EXTVERSION).sql")
lic_text = read("LICENSE").lstrip()
check(lic == "postgresql" and lic_text.startswith("PostgreSQL License") and py_license == "PostgreSQL",
      f"license: META.json {lic!r}, LICENSE {lic_text.splitlines()[0]!r}, pyproject.toml {py_license!r}")
m = re.search(r"\*\*Supported PostgreSQL:\*\*\s*(\d+)", read("README.md"))
oldest = int(m.group(1)) if m else None
pg = (((prereqs or {}).get("runtime") or {}).get("requires") or {}).get("PostgreSQL")
m = re.fullmatch(r"(>=\s*)?(\d+)\.(\d+)\.(\d+)", pg or "")
check(m is not None and oldest is not None and int(m.group(2)) == oldest and m.group(3) == "0",
      f"prereqs.runtime.requires.PostgreSQL {pg!r} is the oldest major README.md supports ({oldest}), from .0")

print(f"META.json: {'ok' if not bad else str(bad) + ' problem(s)'}")
sys.exit(1 if bad else 0)
PY
}

echo "=== META.json in $ROOT"
check_tree "$ROOT"
result "META.json: PGXN Meta Spec 1.0.0, versions and license agree" $?

# must_fail NAME EXPECTED PYTHON-EDIT: a copy of what the checks read, edited
# by PYTHON-EDIT (run in the copy's directory), must fail, with a FAIL line
# containing EXPECTED.
must_fail() {
	local name=$1 expect=$2 edit=$3 d f
	d=$(mktemp -d "${TMPDIR:-/tmp}/validate-meta.XXXXXX")
	for f in META.json taxi_duration.control Makefile pyproject.toml LICENSE README.md; do
		cp "$ROOT/$f" "$d/$f"
	done
	python3 -c 'import json, os, sys
for x in (json.load(open(sys.argv[1])).get("no_index") or {}).get("directory") or []:
    os.makedirs(os.path.join(sys.argv[2], x), exist_ok=True)' "$ROOT/META.json" "$d"
	(cd "$d" && python3 -c "$edit") || {
		rm -rf "$d"
		result "fails: $name (the edit did not apply)" 1
		return
	}
	local out rc
	out=$(check_tree "$d" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep '^FAIL' | sed 's/^/    /'
	rm -rf "$d"
	[ $rc = 1 ] && printf '%s\n' "$out" | grep '^FAIL' | grep -qF -- "$expect"
	result "fails: $name" $?
}

if [ "$ROOT" = "$REPO" ]; then
	echo "=== altered copies must fail"
	must_fail "META.json version out of step" "one version everywhere: META.json version = '9.9.9'" '
import re; p = "META.json"; s = open(p).read()
t = re.sub(r"\"version\": \"([0-9.]+)\",\n   \"release_status\"", "\"version\": \"9.9.9\",\n   \"release_status\"", s, count=1)
assert t != s; open(p, "w").write(t)'
	must_fail "taxi_duration.control default_version out of step" \
		"taxi_duration.control default_version = '0.2.0'" '
import re; p = "taxi_duration.control"; s = open(p).read()
t = re.sub(r"default_version = .*", "default_version = '"'"'0.2.0'"'"'", s)
assert t != s; open(p, "w").write(t)'
	must_fail "pyproject.toml version out of step" "pyproject.toml [project] version = '0.2.0'" '
import re; p = "pyproject.toml"; s = open(p).read()
t = re.sub(r"(?m)^version = .*", "version = \"0.2.0\"", s, count=1)
assert t != s; open(p, "w").write(t)'
	must_fail "META.json without an abstract" "missing ['abstract']" '
import json; p = "META.json"; d = json.load(open(p))
del d["abstract"]; json.dump(d, open(p, "w"))'
	must_fail "META.json with a license PGXN does not know" "license is one of the spec's keywords: 'PostgreSQL'" '
import json; p = "META.json"; d = json.load(open(p))
d["license"] = "PostgreSQL"; json.dump(d, open(p, "w"))'
	must_fail "META.json requiring PostgreSQL 14" "prereqs.runtime.requires.PostgreSQL '>= 14.0.0'" '
import json; p = "META.json"; d = json.load(open(p))
d["prereqs"]["runtime"]["requires"]["PostgreSQL"] = ">= 14.0.0"; json.dump(d, open(p, "w"))'
fi

echo
[ ${#failed_names[@]} -gt 0 ] && printf 'failed: %s\n' "${failed_names[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
