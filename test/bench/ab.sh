#!/usr/bin/env bash
# ----------------------------------------------------------------------------
# ab.sh
#     What a change costs the refresh: CALL tdgen_refresh (transfer copy, two
#     background workers, every sensitive column masked) with this tree's
#     tdgen against the same with an earlier commit's, on one throwaway
#     cluster holding the demo shop at a scale (default 1 = 1,000,000
#     customers).  Each round installs the base, sets the environment up
#     afresh and refreshes it, then does the same with this tree, so the
#     machine's drift falls on both alike; the figure is the ratio of the
#     medians of the refresh times.
#
#     bash test/bench/ab.sh BASE_COMMIT [SCALE]     (TDGEN_BENCH_ROUNDS, default 3)
# ----------------------------------------------------------------------------
set -euo pipefail
. "$(dirname "$0")/../../tools/lib.sh"
cd "$TDGEN_ROOT"

base=${1:?usage: ab.sh BASE_COMMIT [SCALE]}
scale=${2:-1}
rounds=${TDGEN_BENCH_ROUNDS:-3}
ensure_packages

# the base, built in a worktree of its own
base_dir=$(mktemp -d /tmp/tdgen-ab-base.XXXXXX)
git worktree add --detach -q "$base_dir" "$base"
trap 'cluster_stop; git worktree remove --force "$base_dir"' EXIT
make -C "$base_dir" -s PG_CONFIG="$PG_CONFIG" >/dev/null
make -C "$TDGEN_ROOT" -s PG_CONFIG="$PG_CONFIG" >/dev/null

cluster_init ab "${TDGEN_BENCH_PORT:-55434}" "autovacuum = off" >/dev/null
cluster_key
cluster_start
create_prod prod "$scale" >/dev/null
create_staging staging prod >/dev/null

# refresh_with DIR: install that tree's tdgen, set qa up afresh, and print
# how long its refresh takes, in milliseconds
refresh_with() {
	make -C "$1" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
	psql_run -d staging <<-'SQL' >/dev/null
		SET client_min_messages = warning;
		DROP EXTENSION IF EXISTS tdgen CASCADE;
		DROP SCHEMA IF EXISTS qa, tdgen_source_prod CASCADE;
		DROP USER MAPPING IF EXISTS FOR tdgen_qa_owner SERVER prod;
		SELECT format('DROP OWNED BY %I', rolname) FROM pg_roles WHERE rolname = 'tdgen_qa_owner' \gexec
		DROP ROLE IF EXISTS tdgen_qa_owner;
		CREATE EXTENSION tdgen CASCADE;
		SELECT tdgen_source('prod', 'prod');
		SELECT tdgen_environment('qa', 'prod', options => '{"transfer": "copy", "jobs": 2}');
		SELECT count(*) FROM tdgen_accept('prod');
		SELECT count(*) FROM (SELECT tdgen_keep(column_name, 'benchmark') FROM tdgen_check('qa') WHERE problem = 'unreviewed') AS k;
	SQL
	# a version with environment owners reads production with the owner's mapping
	if [ "$(psql -X -At -d staging -c "SELECT count(*) FROM pg_attribute WHERE attrelid = 'tdgen.environment'::regclass AND attname = 'owner'")" = 1 ]; then
		owner_mapping staging qa >/dev/null
	fi
	psql_run -d staging -c "VACUUM" -c "CHECKPOINT" >/dev/null
	psql_run -d prod -c "VACUUM" -c "CHECKPOINT" >/dev/null
	local t0
	t0=$(now_ms)
	psql_run -d staging -c "CALL tdgen_refresh('qa')" 2>/dev/null
	echo $(($(now_ms) - t0))
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "scale $scale, $rounds rounds, base $(git rev-parse --short "$base"), head $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' plus uncommitted changes')"
base_ms=()
head_ms=()
for round in $(seq "$rounds"); do
	b=$(refresh_with "$base_dir")
	h=$(refresh_with "$TDGEN_ROOT")
	base_ms+=("$b")
	head_ms+=("$h")
	printf 'round %d: base %d ms, head %d ms\n' "$round" "$b" "$h"
done
mb=$(median "${base_ms[@]}")
mh=$(median "${head_ms[@]}")
printf 'median: base %s ms, head %s ms; head / base = %s\n' "$mb" "$mh" "$(awk "BEGIN { printf \"%.3f\", $mh / $mb }")"
