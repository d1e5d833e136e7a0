# ----------------------------------------------------------------------------
# lib.sh
#     Shared plumbing of the demo, test and benchmark scripts: packages,
#     build, and throwaway PostgreSQL 15 clusters with a prod and a staging
#     database.  Sourced, never run.
#
# A cluster lives in /tmp/tdgen-NAME (data/, sock/, server.log), listens on a
# unix socket in its own directory only, and runs as the "postgres" OS user
# when the caller is root (initdb and postgres refuse to run as root).
# ----------------------------------------------------------------------------

TDGEN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BINDIR=/usr/lib/postgresql/15/bin
PG_CONFIG=$PG_BINDIR/pg_config
export PATH="$PG_BINDIR:$PATH"

# Debian packages the project needs to build, run and test.
TDGEN_PACKAGES="make gcc libc6-dev perl libipc-run-perl
	postgresql-15 postgresql-server-dev-15 postgresql-15-cron
	libsodium-dev libssl-dev"

say() { printf '\n== %s\n' "$*"; }

# now_ms: the wall clock in milliseconds, for the benchmarks
now_ms() { local us=${EPOCHREALTIME/./}; echo $((us / 1000)); }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Install whatever of TDGEN_PACKAGES is missing; no network when nothing is.
ensure_packages() {
	local missing="" pkg
	for pkg in $TDGEN_PACKAGES; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $pkg"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages:$missing (run as root, or install them first)"
	say "installing Debian packages:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# Build with warnings as errors and install into PostgreSQL 15.
build_and_install() {
	say "building tdgen"
	make -C "$TDGEN_ROOT" -s PG_CONFIG="$PG_CONFIG" >/dev/null
	make -C "$TDGEN_ROOT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# Run a server-side command as the server's OS user, from a directory that
# user can enter (a checkout under /root is closed to it).
as_server_user() {
	if [ "$(id -u)" = 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# cluster_init NAME PORT [SETTING ...]
#     Create an empty cluster, removing one left by an earlier run, and export
#     the libpq variables that reach it.  Settings are postgresql.conf lines.
cluster_init() {
	local name=$1 port=$2
	shift 2
	CLUSTER_DIR=/tmp/tdgen-$name
	cluster_stop immediate
	rm -rf "$CLUSTER_DIR"
	mkdir -p "$CLUSTER_DIR/sock"
	[ "$(id -u)" = 0 ] && chown -R postgres: "$CLUSTER_DIR"
	as_server_user initdb -D "$CLUSTER_DIR/data" -U postgres --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 >"$CLUSTER_DIR/initdb.log" 2>&1 ||
		{ cat "$CLUSTER_DIR/initdb.log" >&2; die "initdb failed"; }
	{
		echo "# tdgen throwaway cluster"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$CLUSTER_DIR/sock'"
		echo "port = $port"
		echo "max_connections = 50"
		echo "shared_buffers = 256MB"
		echo "log_line_prefix = '%m [%p] %d '"
		printf '%s\n' "$@"
	} >>"$CLUSTER_DIR/data/postgresql.conf"
	export TDGEN_CLUSTER_DIR=$CLUSTER_DIR PGHOST=$CLUSTER_DIR/sock PGPORT=$port \
		PGUSER=postgres PGDATABASE=postgres
}

# cluster_key [FILE]: give the cluster a masking key, a copy of FILE or a
# fresh random key, as tdgen.key in its data directory, private to the
# server user.
cluster_key() {
	local key=$CLUSTER_DIR/data/tdgen.key
	(
		umask 077
		if [ -n "${1:-}" ]; then
			cp "$1" "$key"
		else
			printf '1:%s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >"$key"
		fi
	)
	[ "$(id -u)" = 0 ] && chown postgres: "$key"
	return 0
}

cluster_start() {
	as_server_user pg_ctl -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" \
		-w -t 120 start >/dev/null ||
		{ tail -20 "$CLUSTER_DIR/server.log" >&2; die "the server did not start"; }
}

# cluster_stop [MODE]: stop the cluster if it runs (fast by default).
cluster_stop() {
	local dir=${CLUSTER_DIR:-}
	[ -n "$dir" ] && [ -f "$dir/data/postmaster.pid" ] || return 0
	as_server_user pg_ctl -D "$dir/data" -m "${1:-fast}" -w -t 120 stop >/dev/null 2>&1 || true
}

psql_run() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# owner_mapping DB ENVIRONMENT: a user mapping on server prod for the
# environment's owner, which its refreshes read production with: the
# cluster's superuser, without a password (this throwaway cluster trusts
# its socket; only a superuser may waive the password).
owner_mapping() {
	psql_run -d "$1" -v env="$2" <<-'SQL'
		SELECT format('CREATE USER MAPPING IF NOT EXISTS FOR %I SERVER prod OPTIONS (user %L, password_required %L)',
					  owner, current_user, 'false')
		FROM tdgen.environment WHERE name = :'env' \gexec
	SQL
}

# create_prod DB SCALE: the demo shop at a scale factor (1 = 1M customers).
create_prod() {
	local db=$1 scale=$2
	psql_run -c "CREATE DATABASE $db"
	(cd "$TDGEN_ROOT" &&
		psql_run -d "$db" -f demo/shop_schema.sql &&
		psql_run -d "$db" -v scale="$scale" -f demo/shop_data.sql &&
		psql_run -d "$db" -f demo/shop_constraints.sql)
}

# create_staging DB PROD_DB: tdgen installed, foreign server "prod" with a
# user mapping for the current user.
create_staging() {
	local db=$1 prod=$2
	psql_run -c "CREATE DATABASE $db"
	psql_run -d "$db" <<-SQL
		SET client_min_messages = warning;
		CREATE EXTENSION tdgen CASCADE;
		CREATE SERVER prod FOREIGN DATA WRAPPER postgres_fdw
			OPTIONS (host '$PGHOST', port '$PGPORT', dbname '$prod');
		CREATE USER MAPPING FOR CURRENT_USER SERVER prod OPTIONS (user '$PGUSER');
	SQL
}
