#!/usr/bin/env bash
# ----------------------------------------------------------------------------
# refresh.sh
#     The masked refresh against the ways of moving the same data unmasked,
#     on the demo shop at the given scales (default 1 = 1,000,000 customers),
#     each on a fresh throwaway cluster with default durability:
#       - CALL tdgen_refresh, every sensitive column masked (rules from
#         tdgen_accept, every other column kept);
#       - CREATE TABLE ... AS SELECT * from the same foreign tables, same
#         fetch_size, no masking, no constraints;
#       - pg_dump -Fc of prod and pg_restore -j2 into an empty database;
#     and the staging backend's peak private memory during the refresh, per
#     phase.  Server settings are PostgreSQL's defaults but shared_buffers,
#     so maintenance_work_mem (which bounds index builds and foreign-key
#     checks, for the refresh and pg_restore alike) is 64MB.
#
#     bash test/bench/refresh.sh [SCALE ...]
# ----------------------------------------------------------------------------
set -euo pipefail
. "$(dirname "$0")/../../tools/lib.sh"
cd "$TDGEN_ROOT"

scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(1)
ensure_packages
build_and_install

now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }

for scale in "${scales[@]}"; do
	cluster_init bench "${TDGEN_BENCH_PORT:-55433}" "shared_buffers = 1GB"
	cluster_key
	trap cluster_stop EXIT
	cluster_start
	create_prod prod "$scale" >/dev/null
	create_staging staging prod >/dev/null
	psql_run -d staging -q -c "SELECT tdgen_source('prod', 'prod'), tdgen_environment('qa', 'prod')" >/dev/null
	psql_run -d staging -q -c "SELECT count(*) FROM tdgen_accept('prod')" >/dev/null
	psql_run -d staging -q -c "SELECT count(*) FROM (SELECT tdgen_keep(column_name, 'benchmark') FROM tdgen_check('qa') WHERE problem = 'unreviewed') AS k" >/dev/null
	rows=$(psql -X -At -d prod -c "SELECT sum(n_live_tup) FROM pg_stat_user_tables")
	# each measured step starts with no dirty buffers left by the one before
	settle() { psql -X -q -d postgres -c CHECKPOINT; }
	settle

	# the masked refresh; its backend's private memory (RssAnon: not the
	# shared buffers it touches) sampled every 0.2 s with the phase it is in
	t0=$(now_ms)
	psql -X -q -d staging -c "CALL tdgen_refresh('qa')" 2>/dev/null &
	refresh_pid=$!
	peak=0
	declare -A phase_peak=()
	backend=
	while kill -0 $refresh_pid 2>/dev/null; do
		[ -n "$backend" ] || backend=$(psql -X -At -d staging -c "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'tdgen|%' LIMIT 1")
		if [ -n "$backend" ] && [ -r "/proc/$backend/status" ]; then
			kb=$(awk '/^RssAnon:/ { print $2 }' "/proc/$backend/status")
			phase=$(psql -X -At -d staging -c "SELECT split_part(application_name, '|', 2) FROM pg_stat_activity WHERE pid = $backend")
			if [ -n "$kb" ] && [ -n "$phase" ]; then
				[ "$kb" -gt "$peak" ] && peak=$kb
				[ "$kb" -gt "${phase_peak[$phase]:-0}" ] && phase_peak[$phase]=$kb
			fi
		fi
		sleep 0.2
	done
	wait $refresh_pid
	refresh_ms=$(($(now_ms) - t0))
	load_ms=$(psql -X -At -d staging -c "SELECT round((phase_seconds->>'load')::numeric * 1000) FROM tdgen.run ORDER BY id DESC LIMIT 1")
	phases=$(psql -X -At -d staging -c "SELECT phase_seconds::text FROM tdgen.run ORDER BY id DESC LIMIT 1")

	# the same foreign tables copied unmasked
	settle
	t0=$(now_ms)
	psql_run -d staging -q <<-'SQL' >/dev/null
		CREATE SCHEMA plain;
		SELECT format('CREATE TABLE plain.%I AS SELECT * FROM tdgen_source_prod.%I', table_name, local_name)
		FROM tdgen.source_relation WHERE source = 'prod'
		\gexec
	SQL
	ctas_ms=$(($(now_ms) - t0))

	# pg_dump and pg_restore of the whole database, unmasked
	dump=$CLUSTER_DIR/prod.dump
	settle
	t0=$(now_ms)
	as_server_user pg_dump -h "$PGHOST" -p "$PGPORT" -Fc -d prod -f "$dump"
	psql_run -q -c "CREATE DATABASE restored"
	as_server_user pg_restore -h "$PGHOST" -p "$PGPORT" -j 2 -d restored "$dump"
	dump_ms=$(($(now_ms) - t0))

	echo "scale $scale: $rows rows, $(nproc) cores"
	echo "  masked refresh, whole:         $(secs $refresh_ms) s  ($((rows * 1000 / refresh_ms)) rows/s)  phases $phases"
	echo "  masked refresh, load phase:    $(secs $load_ms) s  ($((rows * 1000 / load_ms)) rows/s)"
	echo "  unmasked CTAS over the same foreign tables: $(secs $ctas_ms) s  ($((rows * 1000 / ctas_ms)) rows/s)"
	echo "  load throughput / CTAS throughput: $(awk "BEGIN { printf \"%.2f\", $ctas_ms / $load_ms }")"
	echo "  pg_dump -Fc + pg_restore -j2:  $(secs $dump_ms) s  (whole refresh / dump+restore: $(awk "BEGIN { printf \"%.2f\", $refresh_ms / $dump_ms }"))"
	echo "  staging backend peak private memory (RssAnon, sampled): $((peak / 1024)) MB"
	for phase in gate schema load constraints swap; do
		if [ -n "${phase_peak[$phase]:-}" ]; then
			echo "    in phase $phase: $((phase_peak[$phase] / 1024)) MB"
		fi
	done
	unset phase_peak
	cluster_stop
	trap - EXIT
done
