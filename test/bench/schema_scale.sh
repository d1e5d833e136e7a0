#!/usr/bin/env bash
# ----------------------------------------------------------------------------
# schema_scale.sh
#     How a refresh's catalog and DDL work grows with the number of tables:
#     for each count, a production database of that many empty tables
#     (each with a primary key, a unique column, a CHECK, an index and
#     foreign keys to up to two earlier tables: about 1.8 per table), every
#     column kept, and one refresh (copy transfer, two workers); prints the
#     refresh's seconds per phase (tdgen.run.phase_seconds) and per table.
#
#     bash test/bench/schema_scale.sh [TABLES ...]     (default 100 500 2000)
# ----------------------------------------------------------------------------
set -euo pipefail
. "$(dirname "$0")/../../tools/lib.sh"
cd "$TDGEN_ROOT"

counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100 500 2000)
ensure_packages
build_and_install

cluster_init scale "${TDGEN_BENCH_PORT:-55435}" "max_locks_per_transaction = 1024" >/dev/null
cluster_key
trap cluster_stop EXIT
cluster_start

for n in "${counts[@]}"; do
	psql_run -c "DROP DATABASE IF EXISTS staging" -c "DROP DATABASE IF EXISTS prod" -c "CREATE DATABASE prod" >/dev/null
	# table i references tables i/2 and i/3 (when they are earlier ones)
	psql_run -d prod -v n="$n" <<-'SQL' >/dev/null
		SELECT format('CREATE TABLE t%s (id int PRIMARY KEY, code text UNIQUE, qty int CHECK (qty >= 0), note text%s%s)',
					  i,
					  CASE WHEN i / 2 >= 1 AND i / 2 < i THEN format(', a int REFERENCES t%s', i / 2) ELSE '' END,
					  CASE WHEN i / 3 >= 1 AND i / 3 < i THEN format(', b int REFERENCES t%s', i / 3) ELSE '' END)
		FROM generate_series(1, :n) AS i \gexec
		SELECT format('CREATE INDEX ON t%s (note)', i) FROM generate_series(1, :n) AS i \gexec
	SQL
	create_staging staging prod >/dev/null
	# every column kept, written straight from production's column list
	# (the scan, which samples each table, is measured elsewhere)
	columns=$(psql -X -At -d prod -c "SELECT string_agg(quote_literal(format('public.%I.%I', table_name, column_name)), ',')
		FROM information_schema.columns WHERE table_schema = 'public'")
	psql_run -d staging <<-SQL >/dev/null
		SELECT tdgen_source('prod', 'prod');
		SELECT tdgen_environment('qa', 'prod');
		SELECT count(tdgen_keep(c, 'benchmark')) FROM unnest(ARRAY[$columns]) AS c;
	SQL
	owner_mapping staging qa >/dev/null
	fks=$(psql -X -At -d prod -c "SELECT count(*) FROM pg_constraint WHERE contype = 'f'")
	t0=$(now_ms)
	psql_run -d staging -c "CALL tdgen_refresh('qa')" 2>/dev/null
	ms=$(($(now_ms) - t0))
	phases=$(psql -X -At -d staging -c "SELECT phase_seconds FROM tdgen.run ORDER BY id DESC LIMIT 1")
	printf '%5d tables, %5d foreign keys: refresh %6.1f s (%.1f ms a table); phases %s\n' \
		"$n" "$fks" "$(awk "BEGIN { print $ms / 1000 }")" "$(awk "BEGIN { print $ms / $n }")" "$phases"
done
