#!/usr/bin/env bash
# ----------------------------------------------------------------------------
# demo.sh
#     The demo: install what is missing, build and install tdgen, start a
#     throwaway cluster, fill "prod" with the demo shop, set up "staging"
#     with tdgen and a foreign server to prod, show what staging sees of
#     production, and stop the cluster.
#
# Environment: TDGEN_DEMO_SCALE (default 0.01 = 10,000 customers),
# TDGEN_DEMO_PORT (default 55431).
# ----------------------------------------------------------------------------
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$TDGEN_ROOT"

scale=${TDGEN_DEMO_SCALE:-0.01}

ensure_packages
build_and_install

say "starting a throwaway PostgreSQL 15 cluster in /tmp/tdgen-demo"
cluster_init demo "${TDGEN_DEMO_PORT:-55431}" "shared_preload_libraries = 'pg_cron'" "cron.database_name = 'staging'" \
	"cron.use_background_workers = on" "max_worker_processes = 16"
cluster_key
trap cluster_stop EXIT
cluster_start

say "creating prod with the demo shop (scale $scale)"
start=$(date +%s)
create_prod prod "$scale"
echo "generated in $(($(date +%s) - start)) s"

say "creating staging: CREATE EXTENSION tdgen CASCADE, foreign server \"prod\""
create_staging staging prod
psql -X -d staging -c "SELECT tdgen_version() AS tdgen, srvname AS foreign_server, array_to_string(srvoptions, ', ') AS options FROM pg_foreign_server"

say "production as staging sees it through the foreign server"
psql_run -d staging <<'SQL'
-- production's table list, read through a foreign table over its catalog
CREATE SCHEMA prod_view;
CREATE FOREIGN TABLE prod_view.remote_class
	(relname name, relnamespace oid, relkind "char", relispartition boolean)
	SERVER prod OPTIONS (schema_name 'pg_catalog', table_name 'pg_class');
CREATE FOREIGN TABLE prod_view.remote_namespace (oid oid, nspname name)
	SERVER prod OPTIONS (schema_name 'pg_catalog', table_name 'pg_namespace');
CREATE VIEW prod_view.remote_tables AS
	SELECT c.relname AS tablename
	FROM prod_view.remote_class AS c
	JOIN prod_view.remote_namespace AS n ON n.oid = c.relnamespace
	WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition;
-- a column-less foreign table per production table is enough to count rows
SELECT format('CREATE FOREIGN TABLE prod_view.%I () SERVER prod OPTIONS (schema_name %L, table_name %L)',
			  tablename, 'public', tablename)
FROM prod_view.remote_tables
\gexec
SQL
psql -X -q -d staging <<'SQL'
SELECT string_agg(format('SELECT %L AS "table", count(*) AS "rows" FROM prod_view.%I', tablename, tablename),
				  ' UNION ALL ' ORDER BY tablename) || ' ORDER BY 1'
FROM prod_view.remote_tables
\gexec

\echo 'A few customers, raw, as they are in production (read here through postgres_fdw, stored nowhere):'
IMPORT FOREIGN SCHEMA public LIMIT TO (customers) FROM SERVER prod INTO public;
SELECT id, full_name, email, phone, ssn, birth_date, signup_ip
FROM public.customers ORDER BY id LIMIT 5;
SQL

say "environment qa, and the scan: which production columns are sensitive, and the rules it suggests"
psql -X -q -d staging <<'SQL'
SELECT tdgen_source('prod', 'prod'), tdgen_environment('qa', 'prod') \g /dev/null
SELECT verdict, count(*) FROM tdgen_scan('prod') GROUP BY 1 ORDER BY 1;
SELECT column_name, category, transform, confidence, evidence
FROM tdgen_scan('prod') WHERE verdict = 'mask' ORDER BY column_name;
SQL
owner_mapping staging qa

say "review: the suggestions accepted with the keeps the scan has evidence for; the rest reviewed by hand"
psql -X -q -d staging <<'SQL'
SELECT action, count(*) FROM tdgen_accept('prod') GROUP BY 1 ORDER BY 1;
\echo 'What the scan is unsure about, with its evidence: a person decides.'
SELECT column_name, data_type, reason FROM tdgen_scan('prod') WHERE verdict = 'review' ORDER BY 1;
SELECT tdgen_keep('public.countries.code', 'ISO country code, a lookup'),
	   tdgen_keep('public.countries.name', 'country name, a lookup'),
	   tdgen_keep('public.products.sku', 'product code'),
	   tdgen_keep('public.products.name', 'product name'),
	   tdgen_keep('public.stores.name', 'store name'),
	   tdgen_keep('public.stores.state', 'the state a store is in'),
	   tdgen_keep('public.stores.city', 'the city a store is in'),
	   tdgen_keep('public.customer_events.occurred_at', 'when an event happened, not personal on its own') \g /dev/null
SELECT count(*) AS still_unreviewed FROM tdgen_check('qa') WHERE problem = 'unreviewed';
SQL

say "CALL tdgen_refresh('qa')"
psql -X -q -d staging -c "CALL tdgen_refresh('qa')"

say "the same customers in production and in qa"
psql -X -q -d staging <<'SQL'
SELECT p.id, p.full_name AS prod_name, q.full_name AS qa_name, p.email AS prod_email, q.email AS qa_email,
	   p.ssn AS prod_ssn, q.ssn AS qa_ssn
FROM public.customers AS p JOIN qa.customers AS q USING (id) ORDER BY id LIMIT 5;
\echo 'The run, as CI reads it (tdgen_report):'
SELECT jsonb_pretty(tdgen_report(max(id)) - 'tables' - 'columns') FROM tdgen.run;
SELECT table_name, mode, rows, pg_size_pretty(bytes) AS size, seconds
FROM tdgen.run_table WHERE run_id = (SELECT max(id) FROM tdgen.run) ORDER BY table_name;
SQL

say "a 1% subset beside it: environment qa_small, 1% of customers and every row they need"
psql -X -q -d staging <<'SQL'
SELECT tdgen_environment('qa_small', 'prod') \g /dev/null
SELECT tdgen_subset_target('qa_small', 'public.customers', percent => 1.0);
\echo 'What it would load (tdgen_subset_plan, computed on production''s keys only):'
SELECT table_name, target_rows, downward_rows, upward_rows, total_rows FROM tdgen_subset_plan('qa_small');
SQL
owner_mapping staging qa_small
psql -X -q -d staging -c "CALL tdgen_refresh('qa_small')"
psql -X -q -d staging <<'SQL'
\echo 'qa and qa_small side by side:'
SELECT f.table_name, f.rows AS qa_rows, s.rows AS qa_small_rows
FROM tdgen.run_table AS f JOIN tdgen.run_table AS s USING (schema_name, table_name)
WHERE f.run_id = (SELECT max(id) FROM tdgen.run WHERE environment = 'qa' AND status = 'succeeded')
  AND s.run_id = (SELECT max(id) FROM tdgen.run WHERE environment = 'qa_small')
ORDER BY 1;
\echo 'Why a product is in qa_small: the path back to a sampled customer (tdgen_subset_why):'
SELECT * FROM tdgen_subset_why('qa_small', 'public.products', (SELECT jsonb_build_object('id', min(id)) FROM qa_small.products));
SQL

say "from CI: the client tdgen_refresh refreshes qa_small, prints its progress, writes its report"
"$PG_BINDIR/tdgen_refresh" --dbname staging --environment qa_small --skip-if-busy --report "$CLUSTER_DIR/qa_small-report.json"
echo "exit code 0 (succeeded); the report: $(wc -c <"$CLUSTER_DIR/qa_small-report.json") bytes of JSON, format tdgen.run/1"

say "on a schedule: qa at 02:30 Berlin time every night, through pg_cron"
psql -X -q -d staging <<'SQL'
CREATE EXTENSION pg_cron;
SELECT tdgen_schedule('qa', '30 2 * * *', tz => 'Europe/Berlin') \g /dev/null
\echo 'The schedule, and the UTC times pg_cron fires at (the refresh runs at the one that is 02:30 in Berlin):'
SELECT environment, cron, tz, job_schedule, next_runs FROM tdgen.schedule;
\echo 'Across the spring change: 03:30 local on the night 02:30 does not exist:'
SELECT u AS utc, u AT TIME ZONE 'Europe/Berlin' AS berlin FROM tdgen_next_runs('qa', '2027-03-26', 4) AS u;
\echo 'Each environment at a glance (tdgen_status):'
SELECT environment, last_success, last_status, next_run FROM tdgen_status();
SQL

say "a migration adds customers.passport_no in production: the next refresh refuses"
psql_run -d prod -c "ALTER TABLE customers ADD COLUMN passport_no text"
echo "(the error below is the expected outcome: nothing is copied, qa keeps its data)"
psql -X -q -d staging -c "CALL tdgen_refresh('qa')" 2>&1 || true
psql -X -q -d staging -c "SELECT id, kind, message FROM tdgen.alert ORDER BY id"
psql_run -d prod -c "ALTER TABLE customers DROP COLUMN passport_no"

say "stopping the cluster"
