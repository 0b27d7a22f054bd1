#!/usr/bin/env bash
# tests/ops/validate_containers.sh — validate the container files without a
# Docker engine: docker/ (postgres, forwarder, mlflow, flows, localstack init),
# lambda/Dockerfile, .dockerignore and docker-compose.local.yaml, with the real
# tools (installed by tests/ops/install-containers.sh):
#
#   hadolint         every Dockerfile, with docker/.hadolint.yaml
#   dfcheck          BuildKit's own Dockerfile frontend (docker/tools/dfcheck):
#                    `docker build --check` rules + conversion to LLB of every
#                    stage, base images per PG_MAJOR, the build context after
#                    .dockerignore and every COPY source in it
#   docker compose   `config` of docker-compose.local.yaml with --env-file .env.dev,
#                    checked field by field
#   postgres/psql    the server's own parser on docker/postgres/postgresql.conf,
#                    and the init script against a throwaway cluster started with
#                    that file (when the extension is installed on this machine)
#   make             the builder stages' compilation, from exactly the build
#                    context (this machine is Debian bookworm like the images)
#   ShellCheck       the init scripts and these scripts
#
# Prints one PASS/FAIL/SKIP line per check and ends with "N passed, N failed"
# (", N skipped" when some were); exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD

OPS_VENV=${TD_OPS_VENV:-/opt/td-ops-venv}
OPS_BIN=${TD_OPS_BIN:-/opt/td-ops-bin}
COMPOSE_VERSION=2.40.3
HADOLINT=$OPS_VENV/bin/hadolint
SHELLCHECK=$OPS_VENV/bin/shellcheck
DFCHECK=$OPS_BIN/dfcheck
COMPOSE_FILE=docker-compose.local.yaml
ENV_FILE=.env.dev
PG_MAJORS="15 16 17 18"
DOCKERFILES=(docker/postgres/Dockerfile docker/forwarder/Dockerfile docker/mlflow/Dockerfile docker/flows/Dockerfile lambda/Dockerfile)

TMP=$(mktemp -d /tmp/td-validate-containers.XXXXXX)
chmod 755 "$TMP"
PG_DIR=
cleanup() {
	if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
		as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "PASS  $*"; }
ko() { fail=$((fail + 1)); echo "FAIL  $*"; }
sk() { skip=$((skip + 1)); echo "SKIP  $*"; }
# check "description" command...: PASS if the command exits 0; its output is
# shown (indented) only on failure.
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		ko "$what"
		printf '%s\n' "$out" | sed 's/^/      /' | head -60
	fi
}
# Count PASS/FAIL lines printed by a helper (the Python compose checks).
tally() {
	local line
	while IFS= read -r line; do
		case $line in
		PASS*) pass=$((pass + 1)); echo "$line" ;;
		FAIL*) fail=$((fail + 1)); echo "$line" ;;
		*) echo "      $line" ;;
		esac
	done
}
envval() { sed -n "s/^$1=//p" "$ENV_FILE" | tail -1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

echo "== tools"
tools_ok=1
for t in "$HADOLINT" "$SHELLCHECK" "$DFCHECK" "$OPS_BIN/docker-compose"; do
	[ -x "$t" ] || { ko "tool $t missing: run tests/ops/install-containers.sh"; tools_ok=0; }
done
if [ "$tools_ok" = 1 ]; then
	if command -v docker >/dev/null 2>&1 &&
		[ "$(docker compose version --short 2>/dev/null)" = "$COMPOSE_VERSION" ]; then
		COMPOSE=(docker compose)           # the CLI plugin, as a developer runs it
	else
		COMPOSE=("$OPS_BIN/docker-compose") # the same binary, standalone
	fi
	check "tools: $("$HADOLINT" --version), shellcheck $("$SHELLCHECK" --version | sed -n 's/^version: //p'), ${COMPOSE[*]} $("${COMPOSE[@]}" version --short), dfcheck" \
		test "$("${COMPOSE[@]}" version --short)" = "$COMPOSE_VERSION"
else
	echo "$pass passed, $fail failed"
	exit 1
fi

echo "== hadolint ($("$HADOLINT" --version | awk '{print $NF}'), docker/.hadolint.yaml)"
for f in "${DOCKERFILES[@]}"; do
	check "hadolint $f" "$HADOLINT" --no-color --config docker/.hadolint.yaml "$f"
done
# every ignored rule is preceded by a comment that gives the reason
# shellcheck disable=SC2016  # awk programs: $0 is awk's, not the shell's
check "docker/.hadolint.yaml: every ignored rule has a justification comment" \
	awk '/^ignored:/ {inl = 1; c = 0; next}
	     inl && /^[^ #-]/ {inl = 0}
	     inl && /^ *#/ {c++; next}
	     inl && /^ *- *DL[0-9]+/ {if (c == 0) {print "no comment before " $0; bad = 1} c = 0}
	     END {exit bad}' docker/.hadolint.yaml
# shellcheck disable=SC2016  # awk program
check "hadolint inline ignores carry a reason on the line above" \
	awk 'FNR == 1 {prev = ""}
	     /^# hadolint ignore=/ {if (prev !~ /^#/) {print FILENAME ":" FNR ": no reason above"; bad = 1}}
	     {prev = $0} END {exit bad}' "${DOCKERFILES[@]}"

echo "== BuildKit frontend (dfcheck: docker build --check rules, LLB conversion)"
for f in "${DOCKERFILES[@]}"; do
	check "buildkit lint+convert $f" "$DFCHECK" lint -f "$f"
done
for v in $PG_MAJORS; do
	[ "$v" = 15 ] && continue
	check "buildkit lint+convert docker/postgres/Dockerfile --build-arg PG_MAJOR=$v" \
		"$DFCHECK" lint -f docker/postgres/Dockerfile --build-arg "PG_MAJOR=$v"
done

echo "== PG_MAJOR and base image tags"
pg_stages() {
	local v out n bad=0
	for v in "" $PG_MAJORS; do
		if [ -z "$v" ]; then
			out=$("$DFCHECK" stages -f docker/postgres/Dockerfile) || return 1
			v=15
		else
			out=$("$DFCHECK" stages -f docker/postgres/Dockerfile --build-arg "PG_MAJOR=$v") || return 1
		fi
		n=$(printf '%s\n' "$out" | wc -l)
		echo "PG_MAJOR=$v: $(printf '%s\n' "$out" | awk '{print $2 "<-" $3}' | xargs)"
		[ "$n" -ge 2 ] || { echo "expected a builder and a final stage"; bad=1; }
		printf '%s\n' "$out" | awk -v want="postgres:$v-bookworm" '$3 != want {print "stage " $1 ": " $3 " != " want; bad = 1} END {exit bad}' || bad=1
	done
	return $bad
}
check "docker/postgres/Dockerfile: every stage FROM postgres:\${PG_MAJOR}-bookworm for PG_MAJOR 15-18 (default 15)" pg_stages
pg_args() {
	local f=docker/postgres/Dockerfile bad=0 stages args
	grep -n -m1 -E '^(FROM|ARG PG_MAJOR=15$)' "$f" | grep -q 'ARG PG_MAJOR=15' ||
		{ echo "ARG PG_MAJOR=15 must come before the first FROM"; bad=1; }
	stages=$(grep -c '^FROM ' "$f")
	args=$(awk '/^FROM /{s++} s && /^ARG PG_MAJOR$/ {n++} END {print n + 0}' "$f")
	[ "$stages" = "$args" ] || { echo "$stages stages but $args stage-level 'ARG PG_MAJOR'"; bad=1; }
	# literal ${PG_MAJOR}: the Dockerfile's own variable
	# shellcheck disable=SC2016
	grep -q 'postgresql-server-dev-${PG_MAJOR}' "$f" || { echo "server headers not selected by PG_MAJOR"; bad=1; }
	# shellcheck disable=SC2016
	grep -q 'postgresql-${PG_MAJOR}-cron' "$f" || { echo "pg_cron not selected by PG_MAJOR"; bad=1; }
	# shellcheck disable=SC2016
	grep -q '/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config' "$f" || { echo "PG_CONFIG not the image's major"; bad=1; }
	return $bad
}
check "docker/postgres/Dockerfile: PG_MAJOR declared globally and in both stages, selects headers, pg_cron, pg_config" pg_args
pinned() {
	local f out bad=0 base
	for f in "${DOCKERFILES[@]}"; do
		out=$("$DFCHECK" stages -f "$f") || return 1
		while read -r _ _ base; do
			case $base in
			*@sha256:*) echo "$f: $base (digest)" ;;
			*:latest | *:latest@*) echo "$f: $base uses latest"; bad=1 ;;
			*/*:* | [a-z]*:*) echo "$f: $base" ;;
			*) echo "$f: $base has no tag"; bad=1 ;;
			esac
		done <<<"$out"
	done
	[ $bad = 0 ] || return 1
}
if out=$(pinned 2>&1); then
	ok "base images carry explicit tags, none 'latest': $(printf '%s\n' "$out" | awk '{print $2}' | sort -u | xargs)"
else
	ko "base image tags"
	printf '%s\n' "$out" | sed 's/^/      /'
fi

echo "== build contexts (.dockerignore, COPY sources)"
for f in docker/postgres/Dockerfile docker/forwarder/Dockerfile docker/flows/Dockerfile lambda/Dockerfile; do
	check "context . for $f: every COPY source present after .dockerignore" "$DFCHECK" context -C . -f "$f"
done
check "context docker/mlflow for docker/mlflow/Dockerfile" "$DFCHECK" context -C docker/mlflow -f docker/mlflow/Dockerfile
CTX=$TMP/context
ctx_clean() {
	"$DFCHECK" context -C . -f docker/postgres/Dockerfile -export "$CTX" >/dev/null || return 1
	local junk
	junk=$(cd "$CTX" && find . \( -name '*.o' -o -name '*.bc' -o -name '*.so' -o -name '*.a' \
		-o -path '*/build/*' -o -name td-forwarder -o -name 'taxi_duration--*.sql' -o -path './.git/*' \
		-o -path './tests/*' -o -path './bench/*' \) -print | head -20)
	[ -z "$junk" ] || { echo "host build products or unneeded trees in the context:"; echo "$junk"; return 1; }
	echo "$(find "$CTX" -type f | wc -l) files"
}
check "context . holds no host build products (.o .bc .so, build/, td-forwarder, generated SQL) nor tests/.git" ctx_clean

echo "== builder stages compiled from the build context on this machine"
if [ "$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null)" = bookworm ] &&
	command -v cc >/dev/null && [ -x "/usr/lib/postgresql/15/bin/pg_config" ] && [ -d "$CTX" ]; then
	build_ext() {
		cd "$CTX" || return 1
		if ! { make -j"$(nproc)" PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config &&
			make install PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config DESTDIR="$TMP/out"; } >"$TMP/ext.log" 2>&1; then
			tail -30 "$TMP/ext.log"
			return 1
		fi
		local f
		for f in usr/lib/postgresql/15/lib/taxi_duration.so usr/share/postgresql/15/extension/taxi_duration.control \
			usr/share/postgresql/15/extension/taxi_duration--0.1.0.sql \
			usr/share/postgresql/15/extension/taxi_duration/default_bundle.json; do
			[ -f "$TMP/out/$f" ] || { echo "make install DESTDIR did not install /$f"; return 1; }
		done
	}
	check "postgres builder: make && make install DESTDIR (PG 15 headers) installs .so, control, SQL, bundle" build_ext
	check "forwarder builder: make -C forwarder" make -C "$CTX" -C forwarder
	if [ -f /usr/include/cjson/cJSON.h ]; then
		check "lambda builder: make -C lambda (Debian gcc; the image uses AL2023's)" make -C "$CTX/lambda"
	else
		sk "lambda builder: cJSON headers not installed"
	fi
else
	sk "builder stages: needs Debian bookworm with gcc and postgresql-server-dev-15 (scripts/install-deps.sh)"
fi

echo "== docker/postgres/postgresql.conf and the init script"
PG_BINDIR=/usr/lib/postgresql/15/bin
if [ -x "$PG_BINDIR/postgres" ] && id postgres >/dev/null 2>&1; then
	conf_values() {
		local d=$TMP/pgconf g v bad=0
		mkdir -p "$d/data" && cp docker/postgres/postgresql.conf "$d/" &&
			{ [ "$(id -u)" != 0 ] || chown -R postgres: "$d"; }
		for g in "shared_preload_libraries=taxi_duration, pg_cron" "wal_level=logical" \
			"max_replication_slots=4" "max_wal_senders=4" "cron.database_name=postgres" \
			"dynamic_shared_memory_type=posix" "listen_addresses=*"; do
			v=$(as_pg "$PG_BINDIR/postgres" -D "$d/data" -c "config_file=$d/postgresql.conf" -C "${g%%=*}" 2>"$d/err") ||
				{ cat "$d/err"; return 1; }
			echo "${g%%=*} = $v"
			[ "$v" = "${g#*=}" ] || { echo "  expected ${g#*=}"; bad=1; }
		done
		return $bad
	}
	check "postgresql.conf: parsed by postgres 15 itself (-C), preload/wal/slots/cron/dsm/listen as required" conf_values

	if [ -f "$("$PG_BINDIR/pg_config" --sharedir)/extension/taxi_duration.control" ] &&
		[ -f "$("$PG_BINDIR/pg_config" --sharedir)/extension/pg_cron.control" ]; then
		PG_DIR=$TMP/pg
		PG_PORT=$((55000 + RANDOM % 5000))
		init_live() {
			mkdir -p "$PG_DIR" && cp docker/postgres/postgresql.conf "$PG_DIR/" &&
				{ [ "$(id -u)" != 0 ] || chown -R postgres: "$PG_DIR"; }
			as_pg "$PG_BINDIR/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
				{ cat "$PG_DIR/initdb.log"; return 1; }
			local opts="-c config_file=$PG_DIR/postgresql.conf -c listen_addresses='' -c port=$PG_PORT -c unix_socket_directories=$PG_DIR -c fsync=off"
			# this machine's server build lists its loadable output plugins
			local gucs
			gucs=$(as_pg "$PG_BINDIR/postgres" --describe-config 2>/dev/null)
			if grep -q '^output_plugin_libraries' <<<"$gucs"; then
				opts="$opts -c output_plugin_libraries=pgoutput,test_decoding,taxi_duration"
			fi
			as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 -o "$opts" start >/dev/null ||
				{ tail -20 "$PG_DIR/server.log"; return 1; }
			# as the entrypoint runs it: executable, as postgres, POSTGRES_USER set, socket connection
			as_pg env POSTGRES_USER=postgres PGHOST="$PG_DIR" PGPORT="$PG_PORT" TD_FORWARDER_PASSWORD=probe \
				docker/postgres/initdb.d/10-taxi-duration.sh >"$PG_DIR/init.log" 2>&1 ||
				{ cat "$PG_DIR/init.log"; return 1; }
			local q r
			q="SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname IN ('taxi_duration','pg_cron')
			   UNION ALL SELECT plugin || ':' || slot_type FROM pg_replication_slots WHERE slot_name = 'taxi_trips_kinesis'
			   UNION ALL SELECT rolcanlogin::text || ',' || rolreplication::text FROM pg_roles WHERE rolname = 'td_forwarder'
			   UNION ALL SELECT to_regclass('public.trips')::text"
			r=$(psql -X -At -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres -c "$q" | xargs)
			echo "extensions, slot, forwarder role, trips: $r"
			[ "$r" = "pg_cron,taxi_duration taxi_duration:logical true,true trips" ] || return 1
			# the forwarder's own statements, as td_forwarder
			psql -X -At -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U td_forwarder -d postgres >"$PG_DIR/fwd.log" 2>&1 <<-'SQL' ||
				SELECT count(*) FROM pg_catalog.pg_logical_slot_peek_changes('taxi_trips_kinesis', NULL, 10, 'tables', 'public.trips');
				INSERT INTO taxi_duration.forwarder_status AS f (slot, updated_at) VALUES ('probe', now())
				  ON CONFLICT (slot) DO UPDATE SET updated_at = now(), records_sent = f.records_sent + 1;
				INSERT INTO taxi_duration.forwarder_dead_letters (slot, reason) VALUES ('probe', 'probe');
				SELECT pg_catalog.pg_replication_slot_advance('taxi_trips_kinesis', pg_catalog.pg_current_wal_lsn());
			SQL
				{ cat "$PG_DIR/fwd.log"; return 1; }
			echo "td_forwarder: peek, status upsert, dead letter, slot advance: ok"
		}
		check "init script on a cluster started with postgresql.conf: extensions, trips, slot, td_forwarder's statements" init_live
		as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1
	else
		sk "init script on a live cluster: taxi_duration or pg_cron not installed on this machine (make install)"
	fi
else
	sk "postgresql.conf / init script: no PostgreSQL 15 server on this machine"
fi

echo "== scripts (shellcheck $("$SHELLCHECK" --version | sed -n 's/^version: //p'))"
check "shellcheck init scripts and tests/ops/*containers*.sh" \
	"$SHELLCHECK" -S style docker/postgres/initdb.d/*.sh docker/localstack/init/ready.d/*.sh \
	tests/ops/install-containers.sh tests/ops/validate_containers.sh
execbits() {
	local f bad=0 mode
	for f in docker/postgres/initdb.d/*.sh docker/localstack/init/ready.d/*.sh; do
		[ -x "$f" ] || { echo "$f is not executable"; bad=1; }
		# what a clone gets is the index's mode
		mode=$(git ls-files -s -- "$f" | cut -d' ' -f1)
		[ -z "$mode" ] || [ "$mode" = 100755 ] || { echo "$f is $mode in git (needs 100755)"; bad=1; }
	done
	return $bad
}
check "init scripts executable (LocalStack runs only executable hooks), in git too once added" execbits

echo "== docker compose config ($COMPOSE_FILE, --env-file $ENV_FILE)"
CFG=$TMP/config.json
if "${COMPOSE[@]}" -f "$COMPOSE_FILE" --env-file "$ENV_FILE" config --format json >"$CFG" 2>"$TMP/config.err"; then
	ok "${COMPOSE[*]} -f $COMPOSE_FILE --env-file $ENV_FILE config"
else
	ko "${COMPOSE[*]} -f $COMPOSE_FILE --env-file $ENV_FILE config"
	sed 's/^/      /' "$TMP/config.err"
fi
# quiet is the compose-spec validation alone (schema, references)
check "compose config --quiet (schema and references)" \
	"${COMPOSE[@]}" -f "$COMPOSE_FILE" --env-file "$ENV_FILE" config --quiet

# a probe env file: same as .env.dev with other names, to prove the names are
# interpolated rather than re-typed
sed -e 's/^TD_MODEL_BUCKET=.*/TD_MODEL_BUCKET=probe-bucket-x/' \
	-e 's/^TD_TRIPS_STREAM=.*/TD_TRIPS_STREAM=probe_trips_x/' \
	-e 's/^TD_PREDICTIONS_STREAM=.*/TD_PREDICTIONS_STREAM=probe_predictions_x/' \
	-e 's/^AWS_REGION=.*/AWS_REGION=probe-region-1/' "$ENV_FILE" >"$TMP/probe.env"
"${COMPOSE[@]}" -f "$COMPOSE_FILE" --env-file "$TMP/probe.env" config --format json >"$TMP/probe.json" 2>"$TMP/probe.err"
PG_MAJOR=16 "${COMPOSE[@]}" -f "$COMPOSE_FILE" --env-file "$ENV_FILE" config --format json >"$TMP/pg16.json" 2>"$TMP/pg16.err"
# without --env-file (and no .env), the :? guards must stop it
noenv_err=$(env -u TD_MODEL_BUCKET -u TD_TRIPS_STREAM -u TD_PREDICTIONS_STREAM -u AWS_REGION \
	-u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	"${COMPOSE[@]}" -f "$COMPOSE_FILE" --env-file /dev/null config --quiet 2>&1) && noenv_rc=0 || noenv_rc=$?

if [ -s "$CFG" ]; then
	TD_MODEL_BUCKET=$(envval TD_MODEL_BUCKET) TD_TRIPS_STREAM=$(envval TD_TRIPS_STREAM) \
		TD_PREDICTIONS_STREAM=$(envval TD_PREDICTIONS_STREAM) AWS_REGION=$(envval AWS_REGION) \
		NOENV_RC=$noenv_rc NOENV_ERR=$noenv_err \
		python3 - "$CFG" "$TMP/probe.json" "$TMP/pg16.json" "$COMPOSE_FILE" "$ROOT" >"$TMP/compose-checks.out" <<'PY'

import json, os, re, sys

cfg_path, probe_path, pg16_path, compose_file, root = sys.argv[1:6]
cfg = json.load(open(cfg_path))
S = cfg.get("services", {})
E = {k: os.environ[k] for k in ("TD_MODEL_BUCKET", "TD_TRIPS_STREAM", "TD_PREDICTIONS_STREAM", "AWS_REGION")}

def check(ok, what, detail=""):
    print(("PASS  " if ok else "FAIL  ") + what + (f"  [{detail}]" if detail else ""))

def env(svc, cfg_=None):
    return ((cfg_ or cfg)["services"].get(svc, {}).get("environment") or {})

def deps(svc):
    return {k: v.get("condition") for k, v in (S.get(svc, {}).get("depends_on") or {}).items()}

want = {"postgres", "localstack", "mlflow", "lambda", "forwarder", "prefect", "flows"}
check(set(S) == want, "services: " + ", ".join(sorted(S)), f"want {sorted(want)}")

pg = S.get("postgres", {})
shm = pg.get("shm_size")
check(shm is not None and int(shm) >= 256 * 1024 * 1024, f"postgres shm_size = {shm} bytes (>= 256 MiB)")
b = pg.get("build") or {}
check(b.get("context") == root and b.get("dockerfile") == "docker/postgres/Dockerfile"
      and (b.get("args") or {}).get("PG_MAJOR") == "15",
      "postgres builds docker/postgres/Dockerfile from the repo root with PG_MAJOR=15",
      json.dumps(b))
hc = " ".join(pg.get("healthcheck", {}).get("test") or [])
check("pg_isready" in hc, "postgres healthcheck runs pg_isready", hc)
vols = [v.get("target") for v in pg.get("volumes") or []]
check("/var/lib/postgresql/data" in vols and any(v.get("type") == "volume" for v in pg.get("volumes") or []),
      "postgres data on a named volume at /var/lib/postgresql/data", str(vols))
check(env("postgres").get("TD_MODEL_NAME") == "taxi-duration" and "POSTGRES_PASSWORD" in env("postgres"),
      "postgres gets .env.dev (env_file) and POSTGRES_PASSWORD")

ls = S.get("localstack", {})
img = ls.get("image", "")
check(re.fullmatch(r"localstack/localstack:\d+\.\d+\.\d+", img) is not None,
      f"localstack image pinned to a release: {img}")
svcs = set((env("localstack").get("SERVICES") or "").split(","))
check({"s3", "kinesis"} <= svcs, "localstack SERVICES has s3 and kinesis", str(sorted(svcs)))
mounts = {v.get("target"): v.get("source") for v in ls.get("volumes") or []}
src = mounts.get("/etc/localstack/init/ready.d", "")
check(src == os.path.join(root, "docker/localstack/init/ready.d") and os.path.isdir(src),
      "localstack mounts docker/localstack/init/ready.d as its READY hooks", src)
lhc = " ".join(ls.get("healthcheck", {}).get("test") or [])
check("/_localstack/init/ready" in lhc, "localstack healthy only after the READY hooks", lhc[:80])

# names equal .env.dev's, everywhere they are used
le = env("localstack")
check(all(le.get(k) == E[k] for k in ("TD_MODEL_BUCKET", "TD_TRIPS_STREAM", "TD_PREDICTIONS_STREAM", "AWS_REGION")),
      "localstack init gets bucket/streams/region of .env.dev: "
      + ", ".join(f"{k}={le.get(k)}" for k in ("TD_MODEL_BUCKET", "TD_TRIPS_STREAM", "TD_PREDICTIONS_STREAM")))
check(env("forwarder").get("TD_TRIPS_STREAM") == E["TD_TRIPS_STREAM"],
      f"forwarder TD_TRIPS_STREAM = {env('forwarder').get('TD_TRIPS_STREAM')} (.env.dev)")
check(env("lambda").get("PREDICTIONS_STREAM") == E["TD_PREDICTIONS_STREAM"],
      f"lambda PREDICTIONS_STREAM = {env('lambda').get('PREDICTIONS_STREAM')} (.env.dev TD_PREDICTIONS_STREAM)")
mcmd = " ".join(S.get("mlflow", {}).get("command") or [])
check(f"s3://{E['TD_MODEL_BUCKET']}/" in mcmd and "sqlite:" in mcmd,
      f"mlflow: sqlite store, artifacts to s3://{E['TD_MODEL_BUCKET']}/... (.env.dev)", mcmd)
check(env("mlflow").get("MLFLOW_S3_ENDPOINT_URL") == "http://localstack:4566",
      "mlflow writes artifacts to LocalStack (MLFLOW_S3_ENDPOINT_URL=http://localstack:4566)")

# interpolated, not re-typed: a probe env file with other names changes them all
try:
    P = json.load(open(probe_path))
    pe = {s: env(s, P) for s in P["services"]}
    probe_ok = (pe["localstack"].get("TD_MODEL_BUCKET") == "probe-bucket-x"
                and pe["localstack"].get("TD_TRIPS_STREAM") == "probe_trips_x"
                and pe["localstack"].get("TD_PREDICTIONS_STREAM") == "probe_predictions_x"
                and pe["localstack"].get("AWS_REGION") == "probe-region-1"
                and pe["forwarder"].get("TD_TRIPS_STREAM") == "probe_trips_x"
                and pe["lambda"].get("PREDICTIONS_STREAM") == "probe_predictions_x"
                and "s3://probe-bucket-x/" in " ".join(P["services"]["mlflow"].get("command") or []))
except Exception as e:  # noqa: BLE001
    probe_ok = False
check(probe_ok, "names follow the env file: a probe copy of .env.dev with other bucket/streams/region resolves to them")
text = open(compose_file).read()
typed = [v for v in E.values() if v in text]
check(not typed, f"{compose_file} does not re-type .env.dev's names", ", ".join(typed))
check(os.environ["NOENV_RC"] != "0" and "env-file" in os.environ["NOENV_ERR"],
      "config without --env-file .env.dev fails with a message naming it",
      os.environ["NOENV_ERR"].strip()[:120])
try:
    P16 = json.load(open(pg16_path))["services"]["postgres"]
    ok16 = P16["build"]["args"]["PG_MAJOR"] == "16" and P16["image"].endswith(":pg16")
except Exception:  # noqa: BLE001
    ok16 = False
check(ok16, "PG_MAJOR=16 in the environment reaches the postgres build arg and image tag")

# endpoints: inside the network, never .env.dev's host addresses
bad = []
for name, s in S.items():
    for k, v in (s.get("environment") or {}).items():
        if (k.startswith("AWS_ENDPOINT_URL")
                or k in ("MLFLOW_TRACKING_URI", "MLFLOW_S3_ENDPOINT_URL", "PREFECT_API_URL")) \
                and v and re.search(r"//(127\.0\.0\.1|localhost)[:/]", v):
            bad.append(f"{name}.{k}={v}")
check(not bad, "no service keeps a 127.0.0.1/localhost endpoint from .env.dev", ", ".join(bad))
for name in ("postgres", "lambda", "forwarder"):
    e = env(name)
    check(e.get("AWS_ENDPOINT_URL") == "http://localstack:4566"
          and e.get("AWS_ACCESS_KEY_ID") == "test" and e.get("AWS_REGION") == E["AWS_REGION"],
          f"{name}: .env.dev credentials/region, AWS_ENDPOINT_URL=http://localstack:4566")

# dependencies and their health
check(deps("forwarder") == {"postgres": "service_healthy", "localstack": "service_healthy"},
      "forwarder waits for postgres and localstack to be healthy", str(deps("forwarder")))
for name in ("lambda", "mlflow"):
    check(deps(name).get("localstack") == "service_healthy", f"{name} waits for localstack to be healthy")
for name, s in S.items():
    for d, cond in deps(name).items():
        if cond == "service_healthy":
            check(bool(S.get(d, {}).get("healthcheck", {}).get("test")),
                  f"{name} -> {d}: {d} has a healthcheck")

lam = S.get("lambda", {})
lb = lam.get("build") or {}
ports = [(p.get("published"), p.get("target")) for p in lam.get("ports") or []]
check(lb.get("dockerfile") == "lambda/Dockerfile" and lb.get("context") == root and ("9000", 8080) in ports,
      "lambda: lambda/Dockerfile from the repo root, RIE port 8080 published as 9000", str(ports))
check(env("lambda").get("TD_MODEL_URI", "").startswith(("file:///opt/model/", "s3://", "models:/")),
      f"lambda TD_MODEL_URI = {env('lambda').get('TD_MODEL_URI')}")
# Prefect: the server, and the service that runs the flows reporting to it
pf = S.get("prefect", {})
pimg = pf.get("image", "")
lock = open(os.path.join(root, "python/requirements.lock")).read()
lock_prefect = (re.search(r"(?m)^prefect==(\S+)$", lock) or [None, None])[1]
check(re.fullmatch(r"prefecthq/prefect:\d+\.\d+\.\d+-python3\.\d+", pimg) is not None
      and pimg.split(":")[1].split("-")[0] == lock_prefect,
      f"prefect image pinned to the client's release: {pimg} (python/requirements.lock prefect=={lock_prefect})")
pcmd = " ".join(pf.get("command") or [])
check(pcmd.startswith("prefect server start") and "--host 0.0.0.0" in pcmd,
      "prefect runs `prefect server start --host 0.0.0.0`", pcmd)
pe = env("prefect")
check(pe.get("PREFECT_SERVER_ANALYTICS_ENABLED") == "false", "prefect server analytics off")
pvols = {v.get("target"): v for v in pf.get("volumes") or []}
db = pe.get("PREFECT_API_DATABASE_CONNECTION_URL", "")
db_dir = db.rsplit("/", 1)[0].replace("sqlite+aiosqlite:///", "", 1)
check(db.startswith("sqlite+aiosqlite:////") and db_dir in pvols and pvols[db_dir].get("type") == "volume",
      "prefect database (SQLite) on a named volume", f"{db}; volumes {sorted(pvols)}")
phc = " ".join(pf.get("healthcheck", {}).get("test") or [])
check("/api/health" in phc, "prefect healthcheck asks /api/health", phc[:100])
check(("4200", 4200) in [(p.get("published"), p.get("target")) for p in pf.get("ports") or []]
      and all(p.get("host_ip") == "127.0.0.1" for p in pf.get("ports") or []),
      "prefect API/UI published on 127.0.0.1:4200 only")
fl = S.get("flows", {})
fe = env("flows")
check((fl.get("build") or {}).get("dockerfile") == "docker/flows/Dockerfile"
      and (fl.get("build") or {}).get("context") == root,
      "flows: docker/flows/Dockerfile from the repo root")
check((fl.get("command") or [None])[0] == "serve", "flows runs `taxi-duration serve`",
      " ".join(fl.get("command") or []))
check(fe.get("PREFECT_API_URL") == "http://prefect:4200/api",
      f"flows reports to the prefect service: PREFECT_API_URL={fe.get('PREFECT_API_URL')}")
check(deps("flows").get("prefect") == "service_healthy", "flows waits for prefect to be healthy")
check(fe.get("MLFLOW_TRACKING_URI") == "http://mlflow:5000" and fe.get("AWS_ENDPOINT_URL") == "http://localstack:4566"
      and "host=postgres" in fe.get("TD_MONITOR_DSN", "") and "password" not in fe.get("TD_MONITOR_DSN", ""),
      "flows: in-network MLflow, S3 and PostgreSQL (no password in the DSN)", fe.get("TD_MONITOR_DSN", ""))
runs_flows = sorted(n for n, s in S.items() if (s.get("command") or [None])[0] == "serve")
check(all(env(n).get("PREFECT_API_URL") == "http://prefect:4200/api" for n in runs_flows) and runs_flows,
      "every service running flows points PREFECT_API_URL at the prefect service", ", ".join(runs_flows))

fw = S.get("forwarder", {})
check((fw.get("build") or {}).get("dockerfile") == "docker/forwarder/Dockerfile"
      and "host=postgres" in env("forwarder").get("TD_FORWARDER_DSN", ""),
      "forwarder: docker/forwarder/Dockerfile, DSN to the postgres service",
      env("forwarder").get("TD_FORWARDER_DSN", ""))
PY
	tally <"$TMP/compose-checks.out"
else
	ko "compose checks skipped: no config output"
fi

echo "== pins shared with the rest of the repository"
mlflow_pin() {
	local a b
	a=$(grep -E '^(mlflow|boto3)==' docker/mlflow/requirements.txt | sort)
	b=$(grep -E '^(mlflow|boto3)==' tests/requirements-servers.txt | sort)
	echo "docker/mlflow: $(echo "$a" | xargs); tests/requirements-servers.txt: $(echo "$b" | xargs)"
	[ -n "$a" ] && [ "$a" = "$b" ]
}
check "docker/mlflow pins mlflow and boto3 as tests/requirements-servers.txt" mlflow_pin
lambda_env() {
	local v
	v=$(sed -n 's/^ *PREDICTIONS_STREAM=\([^ ]*\).*/\1/p' lambda/Dockerfile)
	echo "lambda/Dockerfile PREDICTIONS_STREAM default: $v; .env.dev: $(envval TD_PREDICTIONS_STREAM)"
	[ "$v" = "$(envval TD_PREDICTIONS_STREAM)" ]
}
check "lambda/Dockerfile's default PREDICTIONS_STREAM is .env.dev's TD_PREDICTIONS_STREAM" lambda_env

echo
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" = 0 ]
