#!/usr/bin/env bash
# ----------------------------------------------------------------------------
# valgrind.sh
#     Run the transform regression tests against a server running under
#     valgrind (memcheck), and report every error whose stack passes through
#     tdgen.  Slow (minutes), so not part of tools/test.sh.
#
#     bash test/valgrind.sh
# ----------------------------------------------------------------------------
set -euo pipefail
. "$(dirname "$0")/../tools/lib.sh"
cd "$TDGEN_ROOT"

TDGEN_PACKAGES="$TDGEN_PACKAGES valgrind"
ensure_packages
build_and_install
cluster_init valgrind "${TDGEN_VALGRIND_PORT:-55434}" "fsync = off" "max_connections = 10" \
	"shared_buffers = 64MB" "autovacuum = off"
cluster_key test/fixtures/test.key
logs=$CLUSTER_DIR/valgrind
mkdir -p "$logs"
[ "$(id -u)" = 0 ] && chown postgres: "$logs"

as_server_user valgrind --quiet --trace-children=yes --track-origins=yes \
	--read-var-info=yes --num-callers=40 --leak-check=no \
	--log-file="$logs/%p.log" \
	postgres -D "$CLUSTER_DIR/data" >"$CLUSTER_DIR/server.log" 2>&1 &
trap cluster_stop EXIT
for _ in $(seq 1 120); do
	pg_isready -q && break
	sleep 1
done
pg_isready -q || die "the server did not start under valgrind"

# the transform tests by default; TDGEN_VALGRIND_TESTS picks others
tests="${TDGEN_VALGRIND_TESTS:-install transform_fpe transform_values transform_properties transform_registry catalog_rules}"
echo "running under valgrind: $tests"
rm -rf test/output/valgrind
"$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress" \
	--inputdir=. --outputdir=test/output/valgrind --bindir="$PG_BINDIR" \
	--dbname=contrib_regression $tests || true
cluster_stop

# errors with a tdgen frame in their stack
errors=$(awk '
	/^==[0-9]+== [A-Z]/ && !/ERROR SUMMARY/ && !/HEAP SUMMARY/ { if (block != "" && tdgen) print block; block = $0; tdgen = 0; next }
	/^==[0-9]+== *$/ { if (block != "" && tdgen) print block "\n"; block = ""; tdgen = 0; next }
	{ if (block != "") { block = block "\n" $0; if ($0 ~ /tdgen/) tdgen = 1 } }
	END { if (block != "" && tdgen) print block }
' "$logs"/*.log)
total=$(cat "$logs"/*.log | grep -c '^==[0-9]*== [A-Z]' || true)
if [ -n "$errors" ]; then
	printf '%s\n' "$errors"
	echo "valgrind: errors in tdgen code (errors in all processes, PostgreSQL's own included: $total)"
	exit 1
fi
echo "valgrind: no error in tdgen code (errors in all processes, PostgreSQL's own included: $total; logs in $logs)"
