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

# clock: sets now to the wall clock in milliseconds, without a fork
clock() { now=${EPOCHREALTIME/./}; now=$((now / 1000)); }
secs() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }
# each measured step starts with nothing left to vacuum (hint bits set,
# pages frozen) and no dirty buffers left by the one before
settle() {
	vacuumdb -a -q
	psql -X -q -d postgres -c CHECKPOINT
}
# median VALUE...: the middle value (the mean of the two middle ones)
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
# keep NAME VALUE: add a round's figure to the list of NAME
keep() { figures[$1]="${figures[$1]:-} $2"; }
# mid NAME: the median of NAME's figures
mid() { median ${figures[$1]}; }
# most NAME: the largest of NAME's figures
most() { printf '%s\n' ${figures[$1]} | sort -n | tail -1; }
# the whole machine's CPU time (user, system, idle, steal; clock ticks)
# since cpu_mark: the kernel's share of a step varies most between runs
cpu_mark() { read -r _ cpu_user _ cpu_sys cpu_idle cpu_wait _ _ cpu_steal _ </proc/stat; }
cpu_since() {
	local tick user sys idle wait steal
	tick=$(getconf CLK_TCK)
	read -r _ user _ sys idle wait _ _ steal _ </proc/stat
	echo "machine CPU: user $(((user - cpu_user) / tick)) s, system $(((sys - cpu_sys) / tick)) s," \
		"idle $(((idle + wait - cpu_idle - cpu_wait) / tick)) s, steal $(((steal - cpu_steal) / tick)) s"
}

# rss_anon PID: sets kb to the process's private memory (RssAnon: not the
# shared buffers it touches), empty if it has ended; bash builtins only, so
# sampling forks nothing
rss_anon() {
	local key value
	kb=
	{ while read -r key value _; do
		[ "$key" = RssAnon: ] && { kb=$value; return; }
	done <"/proc/$1/status"; } 2>/dev/null || true
}

# refresh TRANSFER JOBS: CALL tdgen_refresh('qa') with that transfer and
# number of workers.  Every 0.2 s it samples the private memory of the
# refresh's backend and of each background worker, and whether a table is
# being loaded (a row in pg_stat_progress_copy); the parallel workers of
# index builds and queries are counted too.  The samples are read over one
# psql session held open for the refresh, and nothing is forked per
# sample: a new psql and backend per sample took CPU from the refresh it
# measured, which dump and restore, not sampled, did not pay.  Sets
# refresh_ms, load_ms (the seconds of the table loads, one after another,
# from tdgen.run_table), span_ms (first to last sample with a load
# running), phases, leader_peak (and per phase), worker_peak (one
# background worker's), helper_peak (one parallel worker's) and sum_peak
# (all of them at one time).
refresh() {
	local transfer=$1 jobs=$2 pid kb phase t0 now first_load= last_load= sum backend kind loading
	local -A phase_peak=()
	local sample="SELECT a.pid, CASE a.backend_type WHEN 'client backend' THEN 'leader' WHEN 'tdgen worker' THEN 'worker'
						 ELSE 'helper' END,
				   split_part(a.application_name, '|', 2),
				   EXISTS (SELECT FROM pg_stat_progress_copy AS c WHERE c.pid = a.pid)
			FROM pg_stat_activity AS a
			WHERE a.datname = 'staging' AND (a.backend_type = 'tdgen worker' OR a.application_name LIKE 'tdgen|%');"
	psql_run -d staging -q -c "SELECT tdgen_environment('qa', 'prod', options => '{\"transfer\": \"$transfer\", \"jobs\": $jobs}')" >/dev/null
	coproc SAMPLER { stdbuf -oL psql -X -At -F '|' -d staging 2>/dev/null; }
	settle
	cpu_mark
	t0=$(now_ms)
	psql -X -q -d staging -c "CALL tdgen_refresh('qa')" 2>/dev/null &
	pid=$!
	leader_peak=0 worker_peak=0 helper_peak=0 sum_peak=0
	while kill -0 $pid 2>/dev/null; do
		sum=0
		printf '%s\n' "$sample" '\echo .' >&"${SAMPLER[1]}"
		while IFS='|' read -r -u "${SAMPLER[0]}" backend kind phase loading; do
			[ "$backend" = . ] && break
			# a process may end between the listing and the read
			rss_anon "$backend"
			[ -n "$kb" ] || continue
			sum=$((sum + kb))
			case $kind in
			leader)
				[ "$kb" -gt "$leader_peak" ] && leader_peak=$kb
				[ "$kb" -gt "${phase_peak[$phase]:-0}" ] && phase_peak[$phase]=$kb ;;
			worker) [ "$kb" -gt "$worker_peak" ] && worker_peak=$kb ;;
			*) [ "$kb" -gt "$helper_peak" ] && helper_peak=$kb ;;
			esac
			if [ "$loading" = t ]; then
				clock
				[ -n "$first_load" ] || first_load=$now
				last_load=$now
			fi
		done
		[ "$sum" -gt "$sum_peak" ] && sum_peak=$sum
		sleep 0.2
	done
	wait $pid
	refresh_ms=$(($(now_ms) - t0))
	exec {SAMPLER[1]}>&-
	wait $SAMPLER_PID 2>/dev/null || true
	cpu=$(cpu_since)
	span_ms=$((${last_load:-0} - ${first_load:-0}))
	load_ms=$(psql -X -At -d staging -c "SELECT round(sum(seconds) * 1000) FROM tdgen.run_table WHERE run_id = (SELECT max(id) FROM tdgen.run)")
	phases=$(psql -X -At -d staging -c "SELECT phase_seconds::text FROM tdgen.run ORDER BY id DESC LIMIT 1")
	phase_peaks=
	for phase in gate schema load constraints swap; do
		if [ -n "${phase_peak[$phase]:-}" ]; then
			phase_peaks="$phase_peaks $phase $((phase_peak[$phase] / 1024)) MB,"
		fi
	done
}

rounds=${TDGEN_BENCH_ROUNDS:-3}
for scale in "${scales[@]}"; do
	cluster_init bench "${TDGEN_BENCH_PORT:-55433}" "shared_buffers = 1GB" "autovacuum = off"
	cluster_key
	trap cluster_stop EXIT
	cluster_start
	create_prod prod "$scale" >/dev/null
	create_staging staging prod >/dev/null
	psql_run -d staging -q -c "SELECT tdgen_source('prod', 'prod'), tdgen_environment('qa', 'prod')" >/dev/null
	owner_mapping staging qa >/dev/null
	psql_run -d staging -q -c "SELECT count(*) FROM tdgen_accept('prod')" >/dev/null
	psql_run -d staging -q -c "SELECT count(*) FROM (SELECT tdgen_keep(column_name, 'benchmark') FROM tdgen_check('qa') WHERE problem = 'unreviewed') AS k" >/dev/null
	rows=$(psql -X -At -d prod -c "SELECT sum(n_live_tup) FROM pg_stat_user_tables")
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
			refresh "$transfer" "$jobs"
			echo "  masked refresh ($transfer, jobs $jobs), whole: $(secs $refresh_ms) s  ($((rows * 1000 / refresh_ms)) rows/s)  phases $phases; $cpu"
			echo "  masked refresh ($transfer, jobs $jobs), table loads one after another: $(secs $load_ms) s  ($((rows * 1000 / load_ms)) rows/s)"
			if [ "$jobs" -gt 1 ]; then
				echo "  masked refresh ($transfer, jobs $jobs), first to last load running (sampled): $(secs $span_ms) s  ($((rows * 1000 / span_ms)) rows/s)"
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
