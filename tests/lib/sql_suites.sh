# tests/lib/sql_suites.sh — the SQL-level suites as functions, shared by
# tests/run_all.sh and tests/matrix.sh (which runs them in a chroot of
# another PostgreSQL major).
#
# Sourced, after tests/lib/cluster.sh, by a script in the repository's root
# that sets
#   WORK   a directory for results and clusters, writable by `postgres`
#   PORT   the preloaded pgTAP cluster's port (pg_regress uses PORT + 2)
# and optionally PG_CONFIG (default pg_config), SQL_FUZZ_SECONDS (default 20).
#
#   regress    make installcheck (pg_regress, tests/regress/), as postgres,
#              its output in $WORK/regress
#   pgtap      tests/pgtap/run.sh preload; the cluster ($WORK/pgtap) stays up
#              for sql_fuzz and parity (td_cluster_stop "$WORK/pgtap" after)
#   sql_fuzz   hostile arguments to every SQL entry point; no backend crash
#   parity     every 2021-02 trip bit-identical to XGBoost
# shellcheck shell=bash

# make installcheck, as the server's OS user, with its output outside the tree.
regress() {
	local out=$WORK/regress
	mkdir -p "$out"
	[ "$(id -u)" = 0 ] && chown postgres: "$out"
	if td_as_pg make -s installcheck PG_CONFIG="${PG_CONFIG:-pg_config}" REGRESS_OUT="$out" \
		EXTRA_REGRESS_OPTS="--port=$((PORT + 2))"; then
		return 0
	fi
	head -200 "$out/regression.diffs" 2>/dev/null
	return 1
}

pgtap() {
	TD_PGTAP_DIR=$WORK/pgtap TD_PGTAP_PORT=$PORT bash tests/pgtap/run.sh preload
}

sql_fuzz() {
	mkdir -p "$WORK/sqlfuzz" && chmod 755 "$WORK/sqlfuzz"
	python3 tests/sqlfuzz/fuzz_sql.py \
		--dsn "host=$WORK/pgtap port=$PORT user=postgres dbname=postgres" \
		--workdir "$WORK/sqlfuzz" --seconds "${SQL_FUZZ_SECONDS:-20}" || return 1
	# a crash would show in the server log even if the client missed it
	! grep -E "terminated by signal|server process .* was terminated" "$WORK/pgtap/server.log"
}

parity() {
	python3 tests/parity/parity.py \
		--dsn "host=$WORK/pgtap port=$PORT user=postgres dbname=postgres" \
		--bundle python/taxi_duration_ml/default_bundle.json --month 2021-02
}
