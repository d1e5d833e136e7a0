#!/usr/bin/env bash
# ----------------------------------------------------------------------------
# schedule.sh
#     What scheduling and the CI client cost, on a fresh throwaway cluster
#     with the demo shop at SCALE (the same settings as refresh.sh):
#
#     - a skipped call: CALL tdgen_refresh(qa, on_busy => 'skip') while
#       another session holds qa's refresh lock, CALLS times in one psql
#       session, against as many SELECT 1 in another: milliseconds a call;
#     - the CI client: full refreshes of qa by tdgen_refresh against the
#       same CALL from psql, ROUNDS of each, alternating which goes first:
#       the medians and their ratio.
#
#     bash test/bench/schedule.sh [SCALE]        # default 0.5
#     TDGEN_BENCH_ROUNDS (default 6: as many rounds with each going first),
#     TDGEN_BENCH_CALLS (default 200)
# ----------------------------------------------------------------------------
set -euo pipefail
. "$(dirname "$0")/../../tools/lib.sh"
cd "$TDGEN_ROOT"

scale=${1:-0.5}
rounds=${TDGEN_BENCH_ROUNDS:-6}
calls=${TDGEN_BENCH_CALLS:-200}
ensure_packages
build_and_install
. "$TDGEN_ROOT/test/bench/sampling.sh"
bench_cluster "$scale"
client="$("$PG_CONFIG" --bindir)/tdgen_refresh"
echo "scale $scale: $rows rows in production, $(nproc) cores"
psql_run -d staging -q -c "CALL tdgen_refresh('qa')" 2>/dev/null

# timed COMMAND...: sets ms to the command's wall time; stops on failure
timed() {
	local t0
	t0=$(now_ms)
	"$@" >/dev/null 2>&1 || die "failed: $*"
	ms=$(($(now_ms) - t0))
}

# a skipped call on a busy environment: another session holds qa's lock
PGAPPNAME=bench_holder psql -X -q -d staging -c "SELECT pg_advisory_lock(tdgen.refresh_lock_key('qa')), pg_sleep(600)" >/dev/null 2>&1 &
holder=$!
sleep 1
skip_sql=$(mktemp)
base_sql=$(mktemp)
for _ in $(seq "$calls"); do
	echo "CALL tdgen_refresh('qa', on_busy => 'skip');" >>"$skip_sql"
	echo "SELECT 1;" >>"$base_sql"
done
timed psql -X -q -d staging -f "$base_sql"
base_ms=$ms
timed psql -X -q -d staging -f "$skip_sql"
skip_ms=$ms
skipped=$(psql -X -At -d staging -c "SELECT count(*) FROM tdgen.run WHERE environment = 'qa' AND status = 'skipped'")
psql -X -q -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bench_holder'" >/dev/null
wait "$holder" 2>/dev/null || true
rm -f "$skip_sql" "$base_sql"
echo " skipped call on a busy environment: $calls calls in $(secs $skip_ms) s, $calls SELECT 1 in $(secs $base_ms) s: $(awk "BEGIN { printf \"%.1f\", ($skip_ms - $base_ms) / $calls }") ms a call ($skipped runs recorded skipped; target: under 50 ms)"

# the CI client against psql, alternating, which goes first too
declare -A figures=()
by_psql() {
	settle
	timed psql -X -q -v ON_ERROR_STOP=1 -d staging -c "CALL tdgen_refresh('qa')"
	keep psql "$ms"
	psql_ms=$ms
}
by_client() {
	settle
	timed "$client" --dbname staging --environment qa
	keep client "$ms"
	client_ms=$ms
}
for round in $(seq "$rounds"); do
	if [ $((round % 2)) = 1 ]; then by_psql; by_client; else by_client; by_psql; fi
	echo " round $round: psql CALL $(secs $psql_ms) s, tdgen_refresh $(secs $client_ms) s"
done
status=$(psql -X -At -d staging -c "SELECT string_agg(DISTINCT status || ' ' || \"trigger\", ', ') FROM tdgen.run WHERE environment = 'qa' AND status <> 'skipped'")
echo " medians of $rounds rounds: psql CALL $(secs "$(mid psql)") s, tdgen_refresh $(secs "$(mid client)") s (runs: $status)"
echo " CI client overhead: $(awk "BEGIN { printf \"%+.1f%%\", ($(mid client) - $(mid psql)) * 100 / $(mid psql) }") (target: under 2%)"
