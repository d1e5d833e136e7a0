#!/usr/bin/env bash
# ----------------------------------------------------------------------------
# test.sh
#     The whole test suite: install what is missing, build with warnings as
#     errors, start a throwaway cluster with a "prod" database holding the
#     demo shop and a "staging" database with tdgen, run every suite, stop
#     the cluster, and close with "N passed, N failed".
#
#     pg_regress      sql/*.sql against expected/*.out (REGRESS in Makefile)
#     isolation       test/isolation/specs/*.spec
#     scenarios       test/t/*.pl (TAP, run by prove), which may kill
#                     connections and restart the server
#
# Environment: TDGEN_TEST_SCALE (demo data scale, default 0.002 = 2,000
# customers), TDGEN_TEST_PORT (default 55432).
# ----------------------------------------------------------------------------
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$TDGEN_ROOT"

scale=${TDGEN_TEST_SCALE:-0.002}
passed=0
failed=0
failures=""

# record SUITE PASSED FAILED
record() {
	passed=$((passed + $2))
	failed=$((failed + $3))
	[ "$3" -gt 0 ] && failures="$failures $1"
	printf '%s: %d passed, %d failed\n' "$1" "$2" "$3"
}

# pg_regress (and pg_isolation_regress) close with "All N tests passed." or
# "K of N tests failed."; no such line means the suite itself broke.
record_regress() {
	local suite=$1 log=$2 n k
	if n=$(sed -n 's/^ *All \([0-9]*\) tests passed.*/\1/p' "$log") && [ -n "$n" ]; then
		record "$suite" "$n" 0
	elif k=$(sed -n 's/^ *\([0-9]*\) of \([0-9]*\) tests failed.*/\1 \2/p' "$log") && [ -n "$k" ]; then
		set -- $k
		record "$suite" $(($2 - $1)) "$1"
	else
		tail -20 "$log"
		record "$suite" 0 1
	fi
}

finish() {
	cluster_stop
	echo
	[ -n "$failures" ] && echo "failed suites:$failures"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

ensure_packages || { record setup 0 1; finish; exit 1; }
build_and_install || { record build 0 1; finish; exit 1; }

say "starting a throwaway cluster (scale $scale)"
cluster_init test "${TDGEN_TEST_PORT:-55432}" \
	"fsync = off" \
	"synchronous_commit = off" \
	"shared_preload_libraries = 'pg_cron'" \
	"cron.database_name = 'staging'" \
	"cron.use_background_workers = on" \
	"max_worker_processes = 16" \
	"max_locks_per_transaction = 256" ||
	{ record cluster 0 1; finish; exit 1; }
cluster_key test/fixtures/test.key
trap 'cluster_stop immediate' INT TERM
cluster_start &&
	create_staging staging prod &&
	create_prod prod "$scale" ||
	{ record cluster 0 1; finish; exit 1; }
export TDGEN_TEST_SCALE=$scale

say "pg_regress"
mkdir -p test/output
rm -f regression.diffs
make -s PG_CONFIG="$PG_CONFIG" installcheck >test/output/regress.log 2>&1
cat test/output/regress.log
[ -f regression.diffs ] && cat regression.diffs
record_regress pg_regress test/output/regress.log

say "isolation"
specs=$(cd test/isolation/specs && ls -- *.spec | sed 's/\.spec$//')
rm -rf test/isolation/output
"$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/isolation/pg_isolation_regress" \
	--inputdir=test/isolation --outputdir=test/isolation/output \
	--bindir="$PG_BINDIR" --dbname=isolation_regression \
	$specs >test/output/isolation.log 2>&1
cat test/output/isolation.log
[ -f test/isolation/output/regression.diffs ] && cat test/isolation/output/regression.diffs
record_regress isolation test/output/isolation.log

say "scenarios"
perl test/run_tap.pl test/t/*.pl | tee test/output/tap.log
read -r tp tf < <(sed -n 's/^TAP totals: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' test/output/tap.log)
record scenarios "${tp:-0}" "${tf:-1}"

finish
