# ----------------------------------------------------------------------------
# sampling.sh
#     What the refresh benchmarks share, sourced by refresh.sh and
#     subset.sh: the clock, medians of rounds, the machine's CPU time, and
#     bench_cluster, the cluster they measure on, and refresh ENV TRANSFER
#     JOBS, which times CALL tdgen_refresh(ENV) while it samples the
#     private memory of the refresh's processes.
# ----------------------------------------------------------------------------

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

# bench_cluster SCALE: a fresh throwaway cluster "bench" (default
# durability, shared_buffers 1GB, autovacuum off; stopped on exit) with the
# demo shop at SCALE as prod, and staging with tdgen, source prod and
# environment qa, its rules tdgen_accept's and every other column kept;
# sets rows to production's row count
bench_cluster() {
	local scale=$1
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
}

# refresh ENV TRANSFER JOBS: CALL tdgen_refresh(ENV) with that transfer and
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
	local env=$1 transfer=$2 jobs=$3 pid kb phase t0 now first_load= last_load= sum backend kind loading
	local -A phase_peak=()
	local sample="SELECT a.pid, CASE a.backend_type WHEN 'client backend' THEN 'leader' WHEN 'tdgen worker' THEN 'worker'
						 ELSE 'helper' END,
				   split_part(a.application_name, '|', 2),
				   EXISTS (SELECT FROM pg_stat_progress_copy AS c WHERE c.pid = a.pid)
			FROM pg_stat_activity AS a
			WHERE a.datname = 'staging' AND (a.backend_type = 'tdgen worker' OR a.application_name LIKE 'tdgen|%');"
	psql_run -d staging -q -c "SELECT tdgen_environment('$env', 'prod', options => '{\"transfer\": \"$transfer\", \"jobs\": $jobs}')" >/dev/null
	coproc SAMPLER { stdbuf -oL psql -X -At -F '|' -d staging 2>/dev/null; }
	settle
	cpu_mark
	t0=$(now_ms)
	psql -X -q -d staging -c "CALL tdgen_refresh('$env')" 2>/dev/null &
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
	for phase in gate keys schema load constraints swap; do
		if [ -n "${phase_peak[$phase]:-}" ]; then
			phase_peaks="$phase_peaks $phase $((phase_peak[$phase] / 1024)) MB,"
		fi
	done
}

