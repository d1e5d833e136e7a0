#!/usr/bin/env bash
# ----------------------------------------------------------------------------
# subset.sh
#     A subset refresh against the full masked refresh of the same demo
#     shop, in one run on a fresh throwaway cluster per scale (default
#     durability, shared_buffers 1GB, autovacuum off, the copy transfer
#     with two background workers, the rules tdgen_accept writes): each
#     round refreshes environment qa whole, then environment qa_small with
#     a target of PERCENT of customers, each replacing its own data of the
#     round before.  Printed per round and as medians: the two refreshes,
#     the key phase, the rows written and the rows read from production
#     (keys and rows), and the peak private memory of the refresh's backend
#     and workers (sampled as refresh.sh does).
#
#     bash test/bench/subset.sh [SCALE PERCENT ...]      # default 1 1 3 10
# ----------------------------------------------------------------------------
set -euo pipefail
. "$(dirname "$0")/../../tools/lib.sh"
cd "$TDGEN_ROOT"

pairs=("$@")
[ ${#pairs[@]} -gt 0 ] || pairs=(1 1 3 10)
ensure_packages
build_and_install
. "$TDGEN_ROOT/test/bench/sampling.sh"

rounds=${TDGEN_BENCH_ROUNDS:-3}
for ((i = 0; i < ${#pairs[@]}; i += 2)); do
	scale=${pairs[i]} percent=${pairs[i + 1]}
	bench_cluster "$scale"
	echo "scale $scale, $percent% of customers: $rows rows in production, $(nproc) cores, $rounds rounds"
	declare -A figures=()
	psql_run -d staging -q -c "SELECT tdgen_environment('qa_small', 'prod')" >/dev/null
	owner_mapping staging qa_small >/dev/null
	psql_run -d staging -q -c "SELECT tdgen_subset_target('qa_small', 'public.customers', percent => $percent)" >/dev/null

	for round in $(seq "$rounds"); do
		echo " round $round"
		refresh qa copy 2
		echo "  full masked refresh: $(secs $refresh_ms) s, phases $phases; backend $((leader_peak / 1024)) MB, one worker $((worker_peak / 1024)) MB, all at once $((sum_peak / 1024)) MB"
		keep full "$refresh_ms"
		keep full_sum "$sum_peak"

		refresh qa_small copy 2
		read -r keys_ms written read_keys < <(psql -X -At -F ' ' -d staging -c "
			SELECT round((r.phase_seconds ->> 'keys')::numeric * 1000), r.rows,
				   (SELECT sum(s.target_rows) FROM tdgen.run_subset AS s WHERE s.run_id = r.id)
				   + (SELECT coalesce(sum(g.keys_read), 0) FROM tdgen.run_subset_edge AS g WHERE g.run_id = r.id)
			FROM tdgen.run AS r WHERE r.environment = 'qa_small' ORDER BY r.id DESC LIMIT 1")
		echo "  subset refresh: $(secs $refresh_ms) s, key phase $(secs $keys_ms) s, phases $phases; $written rows written, $read_keys keys and $written rows read; backend $((leader_peak / 1024)) MB, one worker $((worker_peak / 1024)) MB, all at once $((sum_peak / 1024)) MB"
		keep subset "$refresh_ms"
		keep keys "$keys_ms"
		keep subset_leader "$leader_peak"
		keep subset_worker "$worker_peak"
		keep subset_sum "$sum_peak"
	done

	echo " medians of $rounds rounds, scale $scale, $percent% of customers"
	echo "  full masked refresh: $(secs "$(mid full)") s; subset refresh: $(secs "$(mid subset)") s; key phase: $(secs "$(mid keys)") s"
	echo "  subset / full refresh time:              $(ratio "$(mid subset)" "$(mid full)")"
	echo "  key phase / subset refresh time:         $(ratio "$(mid keys)" "$(mid subset)")"
	echo "  rows read from production / rows written: $(ratio $((read_keys + written)) "$written")  (last round: $read_keys keys + $written rows)"
	echo "  peak private memory of the subset refresh (largest of the rounds): backend $(($(most subset_leader) / 1024)) MB, one worker $(($(most subset_worker) / 1024)) MB, all at once $(($(most subset_sum) / 1024)) MB (full refresh, all at once: $(($(most full_sum) / 1024)) MB)"
	unset figures
	cluster_stop
	trap - EXIT
done
