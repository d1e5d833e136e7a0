# ----------------------------------------------------------------------------
# The staging database reaches prod through the foreign server, survives a
# killed production connection and a server crash, and loses nothing.
# ----------------------------------------------------------------------------
use strict;
use warnings;
use Test::More;
use TdgenTest;

is(sql('staging', "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname IN ('tdgen', 'postgres_fdw')"),
	'postgres_fdw,tdgen', 'staging has tdgen and the postgres_fdw it requires');
is(sql('prod', "SELECT count(*) FROM pg_extension WHERE extname = 'tdgen'"),
	'0', 'nothing of tdgen is installed on prod');

sql('staging', 'DROP SCHEMA IF EXISTS scenario_prod CASCADE; CREATE SCHEMA scenario_prod');
sql('staging', 'IMPORT FOREIGN SCHEMA public LIMIT TO (customers) FROM SERVER prod INTO scenario_prod');
my $customers = sql('prod', 'SELECT count(*) FROM customers');
cmp_ok($customers, '>', 0, 'prod holds customers');
is(sql('staging', 'SELECT count(*) FROM scenario_prod.customers'), $customers,
	'staging counts the same customers through the foreign server');

# A remote connection killed in the middle of a transaction: the staging
# session gets a connection error, and the next transaction reconnects.
my $bg = sql_bg('staging', q{
	BEGIN;
	SELECT count(*) FROM scenario_prod.customers;
	SELECT pg_sleep(5);
	SELECT count(*) FROM scenario_prod.customers;
	COMMIT;
});
is(poll_until('prod', "SELECT count(*) FROM pg_stat_activity WHERE datname = 'prod' AND application_name = 'postgres_fdw' AND state = 'idle in transaction'", '1', 30),
	'1', 'the staging transaction holds one remote transaction on prod');
sql('prod', "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'prod' AND application_name = 'postgres_fdw'");
my ($rc, $out, $err) = bg_finish($bg);
isnt($rc, 0, 'the staging transaction fails once its remote connection is gone');
like($err, qr/server closed the connection|terminating connection|could not receive data/,
	'with a connection error from postgres_fdw');
is(sql('staging', 'SELECT count(*) FROM scenario_prod.customers'), $customers,
	'the next staging query reconnects to prod');

# An immediate stop (a crash, as far as the data is concerned) and restart.
restart_server('immediate');
is(sql('staging', 'SELECT count(*) FROM scenario_prod.customers'), $customers,
	'after a crash and restart staging reads prod again');
is(sql('prod', 'SELECT count(*) FROM customers'), $customers, 'prod lost nothing');

sql('staging', 'DROP SCHEMA scenario_prod CASCADE');
done_testing();
