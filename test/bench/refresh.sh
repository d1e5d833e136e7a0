#!/usr/bin/env bash
# ----------------------------------------------------------------------------
# refresh.sh
#     The masked refresh, by each transfer, against the ways of moving the
#     same data unmasked, on the demo shop at the given scales (default 1 =
#     1,000,000 customers), each on a fresh throwaway cluster with default
#     durability:
#       - CALL tdgen_refresh with transfer fdw, then with transfer copy,
#         every sensitive column masked (rules from tdgen_accept, every
#         other column kept);
#       - CREATE TABLE ... AS SELECT * from the same foreign tables, same
#         fetch_size, no masking, no constraints;
#       - a binary COPY pipe per table (psql COPY TO STDOUT | psql COPY FROM
#         STDIN, FORMAT binary) into logged tables of the same columns;
#       - pg_dump -Fc of prod and pg_restore -j2 into an empty database;
#     and the staging backend's peak private memory during each refresh,
#     per phase.  Server settings are PostgreSQL's defaults but
#     shared_buffers, so maintenance_work_mem (which bounds index builds
#     and foreign-key checks, for the refresh and pg_restore alike) is 64MB.
#     Each measured step starts after a CHECKPOINT.
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
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }
# each measured step starts with no dirty buffers left by the one before
settle() { psql -X -q -d postgres -c CHECKPOINT; }

# refresh TRANSFER: CALL tdgen_refresh('qa') with that transfer, sampling
# its backend's private memory (RssAnon: not the shared buffers it
# touches) every 0.2 s with the phase it is in.  Sets refresh_ms, load_ms,
# phases, peak and phase_peaks.
refresh() {
	local transfer=$1 pid backend= kb phase t0
	local -A phase_peak=()
	psql_run -d staging -q -c "SELECT tdgen_environment('qa', 'prod', options => '{\"transfer\": \"$transfer\"}')" >/dev/null
	settle
	t0=$(now_ms)
	psql -X -q -d staging -c "CALL tdgen_refresh('qa')" 2>/dev/null &
	pid=$!
	peak=0
	while kill -0 $pid 2>/dev/null; do
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
	wait $pid
	refresh_ms=$(($(now_ms) - t0))
	load_ms=$(psql -X -At -d staging -c "SELECT round((phase_seconds->>'load')::numeric * 1000) FROM tdgen.run ORDER BY id DESC LIMIT 1")
	phases=$(psql -X -At -d staging -c "SELECT phase_seconds::text FROM tdgen.run ORDER BY id DESC LIMIT 1")
	phase_peaks=
	for phase in gate schema load constraints swap; do
		if [ -n "${phase_peak[$phase]:-}" ]; then
			phase_peaks="$phase_peaks $phase $((phase_peak[$phase] / 1024)) MB,"
		fi
	done
}

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
	echo "scale $scale: $rows rows, $(nproc) cores"

	for transfer in fdw copy; do
		refresh $transfer
		echo "  masked refresh ($transfer), whole:  $(secs $refresh_ms) s  ($((rows * 1000 / refresh_ms)) rows/s)  phases $phases"
		echo "  masked refresh ($transfer), load:   $(secs $load_ms) s  ($((rows * 1000 / load_ms)) rows/s)"
		echo "  staging backend peak private memory ($transfer, RssAnon, sampled): $((peak / 1024)) MB;$phase_peaks"
		eval "${transfer}_refresh_ms=$refresh_ms ${transfer}_load_ms=$load_ms"
	done

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
	echo "  unmasked CTAS over the same foreign tables: $(secs $ctas_ms) s  ($((rows * 1000 / ctas_ms)) rows/s)"

	# the same tables through a binary COPY pipe, one after the other, into
	# logged tables of the foreign tables' columns
	psql_run -d staging -q <<-'SQL' >/dev/null
		CREATE SCHEMA pipe;
		SELECT format('CREATE TABLE pipe.%I AS SELECT * FROM tdgen_source_prod.%I WITH NO DATA', table_name, local_name)
		FROM tdgen.source_relation WHERE source = 'prod'
		\gexec
	SQL
	settle
	t0=$(now_ms)
	while IFS='|' read -r schema_name table_name; do
		psql -X -q -d prod -c "COPY (SELECT * FROM \"$schema_name\".\"$table_name\") TO STDOUT (FORMAT binary)" |
			psql -X -q -d staging -c "COPY pipe.\"$table_name\" FROM STDIN (FORMAT binary)"
	done < <(psql -X -At -d staging -c "SELECT schema_name, table_name FROM tdgen.source_relation WHERE source = 'prod'")
	pipe_ms=$(($(now_ms) - t0))
	echo "  unmasked binary COPY pipe over the same tables: $(secs $pipe_ms) s  ($((rows * 1000 / pipe_ms)) rows/s)"

	# pg_dump and pg_restore of the whole database, unmasked
	dump=$CLUSTER_DIR/prod.dump
	settle
	t0=$(now_ms)
	as_server_user pg_dump -h "$PGHOST" -p "$PGPORT" -Fc -d prod -f "$dump"
	psql_run -q -c "CREATE DATABASE restored"
	as_server_user pg_restore -h "$PGHOST" -p "$PGPORT" -j 2 -d restored "$dump"
	dump_ms=$(($(now_ms) - t0))
	echo "  pg_dump -Fc + pg_restore -j2: $(secs $dump_ms) s"

	echo "  fdw load throughput / CTAS throughput:   $(ratio $ctas_ms $fdw_load_ms)"
	echo "  fdw whole refresh time / dump+restore:   $(ratio $fdw_refresh_ms $dump_ms)"
	echo "  copy load throughput / CTAS throughput:  $(ratio $ctas_ms $copy_load_ms)"
	echo "  copy load throughput / COPY pipe:        $(ratio $pipe_ms $copy_load_ms)"
	echo "  dump+restore time / copy whole refresh:  $(ratio $dump_ms $copy_refresh_ms)"
	cluster_stop
	trap - EXIT
done
