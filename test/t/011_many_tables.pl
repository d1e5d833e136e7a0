# ----------------------------------------------------------------------------
# A wide schema: a production database of 500 empty tables with 997
# foreign keys (each table with a primary key, a unique column, a CHECK, an
# index and references to up to two earlier tables) refreshes whole, every
# table and key in place.  Its time is noted, not asserted:
# test/bench/schema_scale.sh measures how it grows.
# ----------------------------------------------------------------------------
use strict;
use warnings;
use Test::More;
use Time::HiRes ();
use TdgenTest;

my $n = 500;
sql('postgres', 'DROP DATABASE IF EXISTS wide');
sql('postgres', 'CREATE DATABASE wide');
# in a schema of its own: rules name schema.table.column, and the demo
# shop's rules are on public
sql('wide', qq{CREATE SCHEMA wide_app; SET search_path = wide_app; DO \$\$ BEGIN
	FOR i IN 1 .. $n LOOP
		EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, code text UNIQUE, qty int CHECK (qty >= 0), note text%s%s)', i,
			CASE WHEN i / 2 >= 1 AND i / 2 < i THEN format(', a int REFERENCES t%s', i / 2) ELSE '' END,
			CASE WHEN i / 3 >= 1 AND i / 3 < i THEN format(', b int REFERENCES t%s', i / 3) ELSE '' END);
		EXECUTE format('CREATE INDEX ON t%s (note)', i);
	END LOOP;
END \$\$});
my $fks = sql('wide', q{SELECT count(*) FROM pg_constraint WHERE contype = 'f'});
is($fks, '997', 'production has 500 tables and 997 foreign keys');

attach_database('wide', ['wide_app']);
sql('staging', q{SELECT tdgen_environment('wide', 'wide')});
keep_everything('wide', ['wide_app'], 'wide');
owner_mapping('wide', 'wide');

my $t0 = Time::HiRes::time();
my ($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('wide')});
my $seconds = Time::HiRes::time() - $t0;
is($rc, 0, 'the refresh of 500 tables and 997 foreign keys completes') or diag($err);
note(sprintf('refresh of %d tables: %.1f s; phases %s', $n, $seconds,
	sql('staging', q{SELECT phase_seconds FROM tdgen.run WHERE environment = 'wide' ORDER BY id DESC LIMIT 1})));
is(sql('staging', q{SELECT count(*) FROM pg_class WHERE relnamespace = 'wide'::regnamespace AND relkind = 'r'}), $n,
	'every table is in the target');
is(sql('staging', q{SELECT count(*) FROM pg_constraint WHERE connamespace = 'wide'::regnamespace AND contype = 'f'}), $fks,
	'with every foreign key');
is(sql('staging', q{SELECT count(*) FROM pg_constraint WHERE connamespace = 'wide'::regnamespace AND contype IN ('p', 'u', 'c')}),
	3 * $n, 'every primary key, unique and check constraint');
is(sql('staging', q{SELECT count(*) FROM pg_indexes WHERE schemaname = 'wide' AND indexdef LIKE '%(note)'}), $n, 'and every index');
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('wide')});
is($rc, 0, 'a second refresh replaces the whole target') or diag($err);

sql('staging', q{SELECT tdgen_drop_environment('wide')});
sql('staging', q{SELECT tdgen_drop_source('wide')});
sql('staging', q{DROP SCHEMA wide CASCADE});
sql('staging', q{DROP OWNED BY tdgen_wide_owner; DROP ROLE tdgen_wide_owner; DROP USER MAPPING FOR CURRENT_USER SERVER wide; DROP SERVER wide});
sql('postgres', 'DROP DATABASE wide');

done_testing();
