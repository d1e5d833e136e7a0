#!/usr/bin/env bash
# ----------------------------------------------------------------------------
# transforms.sh
#     Speed of every transform against md5() over 1,000,000 values, and
#     injectivity at 1,000,000, on a throwaway cluster with a random key.
#
#     bash test/bench/transforms.sh
# ----------------------------------------------------------------------------
set -euo pipefail
. "$(dirname "$0")/../../tools/lib.sh"
cd "$TDGEN_ROOT"

ensure_packages
build_and_install
cluster_init bench "${TDGEN_BENCH_PORT:-55433}" "shared_buffers = 1GB" "work_mem = 256MB"
cluster_key
trap cluster_stop EXIT
cluster_start
psql_run -c "CREATE DATABASE bench"
psql_run -d bench -c "SET client_min_messages = warning; CREATE EXTENSION tdgen CASCADE"
echo "transforms over 1,000,000 values, $(nproc) cores, one backend, medians of five runs"
psql -X -v ON_ERROR_STOP=1 -d bench -f test/bench/transforms.sql
