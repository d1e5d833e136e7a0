#!/usr/bin/env bash
# ----------------------------------------------------------------------------
# scan_scale.sh
#     How the sensitivity scan grows with the number of columns: for each
#     count, a production database of tables of eleven columns each (a key,
#     a foreign key, names, an email, a phone, a ZIP, a note of free text, a
#     status code, an amount and a timestamp; every name but the keys' its
#     own, t7_first_name), 1,000 rows a table; prints the
#     seconds of tdgen_scan with the default sample of 200 values a column,
#     and, as the baseline of the same run, with no sample (names, types and
#     context only).
#
#     bash test/bench/scan_scale.sh [COLUMNS ...]     (default 100 1000 3000)
# ----------------------------------------------------------------------------
set -euo pipefail
. "$(dirname "$0")/../../tools/lib.sh"
cd "$TDGEN_ROOT"

counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100 1000 3000)
ensure_packages
build_and_install

cluster_init scanscale "${TDGEN_BENCH_PORT:-55436}" "max_locks_per_transaction = 1024" >/dev/null
cluster_key
trap cluster_stop EXIT
cluster_start

for n in "${counts[@]}"; do
	tables=$(((n + 9) / 10))
	psql_run -c "DROP DATABASE IF EXISTS staging" -c "DROP DATABASE IF EXISTS prod" -c "CREATE DATABASE prod" >/dev/null
	psql_run -d prod -v n="$tables" <<-'SQL' >/dev/null
		-- every column name its own (t7_first_name...), as in real schemas,
		-- where few names repeat: each is matched once
		SELECT format('CREATE TABLE t%1$s (id int PRIMARY KEY, parent_id int%2$s, t%1$s_first_name text,
						t%1$s_last_name text, t%1$s_email text, t%1$s_phone text, t%1$s_zip text, t%1$s_note text,
						t%1$s_status text, t%1$s_amount numeric(10,2), t%1$s_updated_at timestamptz)', i,
					  CASE WHEN i > 1 THEN format(' REFERENCES t%s', i / 2) ELSE '' END)
		FROM generate_series(1, :n) AS i \gexec
		SELECT format($$INSERT INTO t%s SELECT g, CASE WHEN %s > 1 THEN 1 + g %% 1000 END,
						(ARRAY['Mary', 'James', 'Linda', 'Robert', 'Maria', 'David'])[1 + g %% 6],
						(ARRAY['Smith', 'Johnson', 'Garcia', 'Miller', 'Davis', 'Lopez'])[1 + g %% 6],
						'user' || g || '@example.com', format('(617) 555-%%s', lpad((g %% 10000)::text, 4, '0')),
						lpad((g * 7 %% 99999)::text, 5, '0'),
						'Called ' || (ARRAY['Mary', 'James', 'Linda'])[1 + g %% 3] || ' about the order, she will call back on Monday',
						(ARRAY['new', 'paid', 'shipped'])[1 + g %% 3], g * 1.25, now() - g * interval '1 hour'
					  FROM generate_series(1, 1000) AS g$$, i, i)
		FROM generate_series(1, :n) AS i \gexec
	SQL
	create_staging staging prod >/dev/null
	psql_run -d staging -c "SELECT tdgen_source('prod', 'prod')" >/dev/null
	cols=$(psql -X -At -d prod -c "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public'")
	t0=$(now_ms)
	psql -X -At -d staging -c "SELECT count(*) FROM tdgen_scan('prod', 0)" >/dev/null
	base=$(($(now_ms) - t0))
	t0=$(now_ms)
	flagged=$(psql -X -At -d staging -c "SELECT count(*) FILTER (WHERE verdict = 'mask') FROM tdgen_scan('prod')")
	ms=$(($(now_ms) - t0))
	printf '%5d columns (%4d tables): scan %6.1f s (%.2f ms a column, %d to mask); without samples %6.1f s; ratio %.1f\n' \
		"$cols" "$tables" "$(awk "BEGIN { print $ms / 1000 }")" "$(awk "BEGIN { print $ms / $cols }")" "$flagged" \
		"$(awk "BEGIN { print $base / 1000 }")" "$(awk "BEGIN { print $ms / ($base > 0 ? $base : 1) }")"
done
