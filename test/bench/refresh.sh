#!/usr/bin/env bash
# ----------------------------------------------------------------------------
# refresh.sh
#     The masked refresh, by each transfer, against the ways of moving the
#     same data unmasked, on the demo shop at the given scales (default 1 =
#     1,000,000 customers), each on a fresh throwaway cluster with default
#     durability:
#       - CALL tdgen_refresh with transfer fdw, then with transfer copy
#         with one job and with two background workers, every sensitive
#         column masked (rules from tdgen_accept, every other column kept);
#       - CREATE TABLE ... AS SELECT * from the same foreign tables, same
#         fetch_size, no masking, no constraints;
#       - a binary COPY pipe per table (psql COPY TO STDOUT | psql COPY FROM
#         STDIN, FORMAT binary) into logged tables of the same columns;
#       - pg_dump -Fc of prod and pg_restore -j2 into an empty database;
#     and the peak private memory of the refresh's backend (per phase) and
#     of its background workers during each refresh, and the whole
#     machine's CPU time (user, system, idle, steal) over each measured
#     step.  Server settings are PostgreSQL's defaults but shared_buffers,
#     so maintenance_work_mem (which bounds index builds and foreign-key
#     checks, for the refresh and pg_restore alike) is 64MB.
#
#     The steps run in turn TDGEN_BENCH_ROUNDS times (default 3), and the
#     ratios are taken between their medians: this machine's speed drifts
#     within minutes.  Autovacuum is off so that no step pays for vacuuming
#     another's tables; before each step every database is vacuumed and
#     checkpointed, and each step's unmasked copies are dropped after it.
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
. "$TDGEN_ROOT/test/bench/sampling.sh"

rounds=${TDGEN_BENCH_ROUNDS:-3}
for scale in "${scales[@]}"; do
	bench_cluster "$scale"
	echo "scale $scale: $rows rows, $(nproc) cores, $rounds rounds"
	declare -A figures=()

	for round in $(seq "$rounds"); do
		echo " round $round"
		# the fdw transfer loads in the refresh's backend; the copy transfer
		# once with one job (its backend loads the tables one after another,
		# like the CTAS and the pipe below) and once with the default two
		# workers side by side
		for run in fdw:1 copy:1 copy:2; do
			transfer=${run%:*} jobs=${run#*:}
			refresh qa "$transfer" "$jobs"
			echo "  masked refresh ($transfer, jobs $jobs), whole: $(secs $refresh_ms) s  ($((rows * 1000 / refresh_ms)) rows/s)  phases $phases; $cpu"
			echo "  masked refresh ($transfer, jobs $jobs), table loads one after another: $(secs $load_ms) s  ($((rows * 1000 / load_ms)) rows/s)"
			if [ "$jobs" -gt 1 ]; then
				echo "  masked refresh ($transfer, jobs $jobs), first to last load running (sampled): $(secs $span_ms) s  ($((rows * 1000 / (span_ms > 0 ? span_ms : 1))) rows/s)"
			fi
			echo "  private memory ($transfer, jobs $jobs, RssAnon, sampled): refresh's backend $((leader_peak / 1024)) MB;$phase_peaks one background worker $((worker_peak / 1024)) MB, one parallel worker $((helper_peak / 1024)) MB, all at once $((sum_peak / 1024)) MB"
			keep "${run}_refresh" "$refresh_ms"
			keep "${run}_load" "$load_ms"
			keep "${run}_span" "$span_ms"
			keep "${run}_leader" "$leader_peak"
			keep "${run}_worker" "$worker_peak"
			keep "${run}_sum" "$sum_peak"
		done

		# the same foreign tables copied unmasked
		settle
		cpu_mark
		t0=$(now_ms)
		psql_run -d staging -q <<-'SQL' >/dev/null
			CREATE SCHEMA plain;
			SELECT format('CREATE TABLE plain.%I AS SELECT * FROM tdgen_source_prod.%I', table_name, local_name)
			FROM tdgen.source_relation WHERE source = 'prod'
			\gexec
		SQL
		ms=$(($(now_ms) - t0))
		echo "  unmasked CTAS over the same foreign tables: $(secs $ms) s  ($((rows * 1000 / ms)) rows/s); $(cpu_since)"
		keep ctas "$ms"
		psql_run -d staging -q -c "SET client_min_messages = warning; DROP SCHEMA plain CASCADE" >/dev/null

		# the same tables through a binary COPY pipe, one after the other,
		# into logged tables of the foreign tables' columns
		psql_run -d staging -q <<-'SQL' >/dev/null
			CREATE SCHEMA pipe;
			SELECT format('CREATE TABLE pipe.%I AS SELECT * FROM tdgen_source_prod.%I WITH NO DATA', table_name, local_name)
			FROM tdgen.source_relation WHERE source = 'prod'
			\gexec
		SQL
		settle
		cpu_mark
		t0=$(now_ms)
		while IFS='|' read -r schema_name table_name; do
			psql -X -q -d prod -c "COPY (SELECT * FROM \"$schema_name\".\"$table_name\") TO STDOUT (FORMAT binary)" |
				psql -X -q -d staging -c "COPY pipe.\"$table_name\" FROM STDIN (FORMAT binary)"
		done < <(psql -X -At -d staging -c "SELECT schema_name, table_name FROM tdgen.source_relation WHERE source = 'prod'")
		ms=$(($(now_ms) - t0))
		echo "  unmasked binary COPY pipe over the same tables: $(secs $ms) s  ($((rows * 1000 / ms)) rows/s); $(cpu_since)"
		keep pipe "$ms"
		psql_run -d staging -q -c "SET client_min_messages = warning; DROP SCHEMA pipe CASCADE" >/dev/null

		# pg_dump and pg_restore of the whole database, unmasked
		dump=$CLUSTER_DIR/prod.dump
		settle
		cpu_mark
		t0=$(now_ms)
		as_server_user pg_dump -h "$PGHOST" -p "$PGPORT" -Fc -d prod -f "$dump"
		psql_run -q -c "CREATE DATABASE restored"
		as_server_user pg_restore -h "$PGHOST" -p "$PGPORT" -j 2 -d restored "$dump"
		ms=$(($(now_ms) - t0))
		echo "  pg_dump -Fc + pg_restore -j2: $(secs $ms) s; $(cpu_since)"
		keep dump "$ms"
		psql_run -q -c "DROP DATABASE restored" >/dev/null
		rm -f "$dump"
	done

	echo " medians of $rounds rounds"
	for run in fdw:1 copy:1 copy:2; do
		echo "  masked refresh (${run%:*}, jobs ${run#*:}), whole: $(secs "$(mid "${run}_refresh")") s; table loads one after another: $(secs "$(mid "${run}_load")") s"
	done
	echo "  masked refresh (copy, jobs 2), first to last load running: $(secs "$(mid copy:2_span)") s"
	echo "  unmasked CTAS: $(secs "$(mid ctas)") s; unmasked binary COPY pipe: $(secs "$(mid pipe)") s; pg_dump -Fc + pg_restore -j2: $(secs "$(mid dump)") s"
	echo "  fdw load throughput / CTAS throughput:                        $(ratio "$(mid ctas)" "$(mid fdw:1_load)")"
	echo "  copy load throughput, one after another / CTAS throughput:    $(ratio "$(mid ctas)" "$(mid copy:1_load)")"
	echo "  copy load throughput, one after another / COPY pipe:          $(ratio "$(mid pipe)" "$(mid copy:1_load)")"
	echo "  copy load throughput, two workers / CTAS throughput:          $(ratio "$(mid ctas)" "$(mid copy:2_span)")"
	echo "  copy load throughput, two workers / COPY pipe:                $(ratio "$(mid pipe)" "$(mid copy:2_span)")"
	echo "  dump+restore time / fdw whole refresh:                        $(ratio "$(mid dump)" "$(mid fdw:1_refresh)")"
	echo "  dump+restore time / copy whole refresh, one job:              $(ratio "$(mid dump)" "$(mid copy:1_refresh)")"
	echo "  dump+restore time / copy whole refresh, two workers:          $(ratio "$(mid dump)" "$(mid copy:2_refresh)")"
	for run in fdw:1 copy:1 copy:2; do
		echo "  peak private memory (${run%:*}, jobs ${run#*:}, largest of the rounds): refresh's backend $(($(most "${run}_leader") / 1024)) MB, one background worker $(($(most "${run}_worker") / 1024)) MB, all at once $(($(most "${run}_sum") / 1024)) MB"
	done
	unset figures
	cluster_stop
	trap - EXIT
done
