#!/usr/bin/env bash
# ----------------------------------------------------------------------------
# demo_generate.sh
#     Time the demo shop generator at a scale (default 1 = 1,000,000
#     customers) on a throwaway cluster with default durability settings,
#     and print the time of each step and the rows made.
#
#     bash test/bench/demo_generate.sh [SCALE]
# ----------------------------------------------------------------------------
set -euo pipefail
. "$(dirname "$0")/../../tools/lib.sh"
cd "$TDGEN_ROOT"

scale=${1:-1}
ensure_packages
cluster_init bench "${TDGEN_BENCH_PORT:-55433}" "maintenance_work_mem = 512MB"
trap cluster_stop EXIT
cluster_start
psql_run -c "CREATE DATABASE prod"

show() { printf '%-12s %6d.%d s\n' "$1" $(($2 / 1000)) $(($2 % 1000 / 100)); }

# step NAME COMMAND...: run and print its wall time
step() {
	local name=$1 t0
	shift
	t0=$(now_ms)
	"$@"
	show "$name" $(($(now_ms) - t0))
}

echo "demo shop generator, scale $scale, $(nproc) cores"
start=$(now_ms)
step schema psql_run -d prod -f demo/shop_schema.sql
step data psql_run -d prod -v scale="$scale" -f demo/shop_data.sql
step constraints psql_run -d prod -f demo/shop_constraints.sql
show total $(($(now_ms) - start))
psql -X -At -d prod <<'SQL'
SELECT format('%s customers, %s rows in %s tables, %s on disk',
			  (SELECT count(*) FROM customers), sum(n), count(*), pg_size_pretty(pg_database_size('prod')))
FROM (SELECT (xpath('/row/n/text()',
					query_to_xml(format('SELECT count(*) AS n FROM %I.%I', schemaname, tablename),
								 false, true, '')))[1]::text::bigint AS n
	  FROM pg_tables
	  WHERE schemaname = 'public'
		AND tablename NOT IN (SELECT inhrelid::regclass::text FROM pg_inherits)) AS t;
SQL
