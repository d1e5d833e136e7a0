# ----------------------------------------------------------------------------
# CALL tdgen_refresh: a masked, complete copy of production in the target
# schema, and on every failure (gate, production unreachable, a transform
# error, a concurrent refresh, a cancel, a killed production connection, a
# crash of the server) the target keeps its previous data, the run is
# recorded as failed with its SQLSTATE, no lock or shadow schema stays, and
# the next refresh succeeds.  Weird identifiers are copied faithfully, and
# canary values planted in every sensitive production column appear nowhere
# in staging: not in a dump, the server log or a NOTICE.
# ----------------------------------------------------------------------------
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use TdgenTest;

# A table whose catalog entries take no lock to read (no defaults, checks
# or indexes): locking it on production holds a refresh in its load.
sql('prod', q{CREATE TABLE hold_point (v text); INSERT INTO hold_point VALUES ('x')});

my @tables = split /\n/, sql('prod', q{SELECT c.relname FROM pg_class AS c
	WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1});

# A fingerprint of the target schema's data: every row of every table.
sub fingerprint
{
	return sql('staging', 'SELECT ' . join(' || ', map { qq{(SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM qa."$_" AS t)} } @tables));
}

sub last_run
{
	return sql('staging', q{SELECT status || ' ' || coalesce(sqlstate, '-') FROM tdgen.run
		WHERE environment = 'qa' AND status NOT IN ('busy', 'denied') ORDER BY id DESC LIMIT 1});
}

sub nothing_left
{
	my ($what) = @_;
	is(sql('staging', q{SELECT count(*) FROM tdgen.leftover_schemas('qa')})
	   . sql('staging', q{SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'}),
	   '00', "$what: no shadow schema and no lock left behind");
}

# Set-up (the rules of 006 cover prod; anything new is kept).  The
# transfer is copy (the default for postgres_fdw servers) unless
# TDGEN_TRANSFER says otherwise (009 runs these scenarios with fdw).
my $transfer = $ENV{TDGEN_TRANSFER} || 'copy';
sql('staging', q{SELECT tdgen_source('prod', 'prod')});
sql('staging', qq{SELECT tdgen_environment('qa', 'prod', options => '{"transfer": "$transfer"}')});
owner_mapping('qa');
sql('staging', q{SELECT tdgen_keep(column_name, 'reviewed: nothing personal') FROM tdgen_check('qa') WHERE problem = 'unreviewed'});
is(sql('staging', q{SELECT count(*) FROM tdgen_check('qa')}), '0', 'the rules of qa are complete');

like(sql('staging', q{SELECT string_agg(table_name || ':' || mode, ' ' ORDER BY load_order) FROM tdgen_plan('qa')}),
	qr/^public\.countries:copy .*public\.orders:copy .*public\.order_items:copy/, 'tdgen_plan lists the tables, referenced ones first');
sql('prod', 'ANALYZE customers');
is(sql('staging', q{SELECT estimated_bytes FROM tdgen_plan('qa') WHERE table_name = 'public.customers'}),
	sql('prod', q{SELECT pg_relation_size('customers')}), "with each table's estimated bytes, from production's statistics");

# The happy path.
my ($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('qa')});
is($rc, 0, 'the refresh succeeds') or diag($err);
like($err, qr/NOTICE:\s+(?:00000: )?tdgen qa: load public\.customers \(\d+ of \d+\)/, 'it reports its progress table by table');
is(last_run(), 'succeeded -', 'the run is recorded as succeeded');
is(sql('staging', q{SELECT transfer FROM tdgen.run ORDER BY id DESC LIMIT 1}), $transfer, "with its transfer, $transfer");
for my $t (@tables) {
	is(sql('staging', qq{SELECT count(*) FROM qa."$t"}), sql('prod', qq{SELECT count(*) FROM "$t"}), "qa.$t has production's row count");
}
is(sql('staging', q{SELECT count(*) FROM pg_constraint WHERE connamespace = 'qa'::regnamespace AND contype = 'f' AND convalidated}),
	sql('prod', q{SELECT count(*) FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype = 'f'}),
	'every foreign key is there and validated');
is(sql('staging', q{SELECT count(*) FROM pg_class WHERE relnamespace = 'qa'::regnamespace AND relkind = 'r'
	AND (reltuples < 0 OR relallvisible < relpages)}), '0', 'every table has statistics, its rows loaded frozen on all-visible pages');
my %prod_emails = map { $_ => 1 } split /\n/, sql('prod', 'SELECT email FROM customers');
my @qa_emails = split /\n/, sql('staging', 'SELECT email FROM qa.customers');
is(scalar(grep { $prod_emails{$_} } @qa_emails), 0, 'no production email survives in qa');
is(sql('staging', 'SELECT sum(total) FROM qa.orders'), sql('prod', 'SELECT sum(total) FROM orders'), 'kept columns are copied as they are');
is(sql('staging', q{SELECT count(*) FROM qa.customers WHERE full_name = first_name || ' ' || last_name}),
	sql('prod', 'SELECT count(*) FROM customers'), 'generated columns follow the masked names');
{
	my ($statements, $differences) = schema_differences('prod', { public => 'qa' });
	cmp_ok($statements, '>', 80, "the demo shop's schema has $statements statements");
	is($differences, 0, 'pg_dump --schema-only of qa and of production match statement by statement');
}
my $report = sql('staging', q{SELECT tdgen_report(max(id)) FROM tdgen.run});
like($report, qr/"format": "tdgen\.run\/1"/, 'tdgen_report returns the run as versioned JSON');
like($report, qr/"column": "public\.customers\.email", "params": \{\}, "transform": "email"/, 'with each masked column');

# Rows so far: another session sees a table's load advance.
sql('prod', 'CREATE TABLE counting AS SELECT g AS n FROM generate_series(1, 1000000) AS g');
sql('staging', q{SELECT tdgen_keep('public.counting.n', 'a counter')});
my $counting = sql_bg('staging', q{CALL tdgen_refresh('qa')});
is(poll_until('staging', q{SELECT rows_loaded > 0 AND rows_loaded < 1000000 FROM tdgen.progress WHERE table_name = 'public.counting'}, 't', 60),
	't', 'tdgen.progress shows the rows loaded so far into the table being loaded');
($rc, $out, $err) = bg_finish($counting);
is(($rc || 0) . ' ' . sql('staging', 'SELECT count(*) FROM qa.counting'), '0 1000000', 'and the refresh loads them all');
sql('prod', 'DROP TABLE counting');
sql('staging', q{SELECT tdgen_drop_rule('public.counting.n')});
my $good = fingerprint();

# jobs: 1 to 32; with 1 the refresh's own backend does all the work, to
# the same rows as its background workers
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen_environment('qa', 'prod', options => '{"jobs": 0}')});
is(sqlstate($err), '22023', 'jobs outside 1 to 32 is refused (22023)');
sql('staging', qq{SELECT tdgen_environment('qa', 'prod', options => '{"transfer": "$transfer", "jobs": 1}')});
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('qa')});
is(($rc || 0) . ' ' . fingerprint(), "0 $good", 'with jobs 1 the refresh gives the same rows');
sql('staging', qq{SELECT tdgen_environment('qa', 'prod', options => '{"transfer": "$transfer"}')});

# Fail safe: each failure leaves qa as it was and the next refresh works.
sub fails_safely
{
	my ($what, $sqlstate, $err) = @_;
	is(sqlstate($err), $sqlstate, "$what: the refresh fails with $sqlstate");
	my $status = $sqlstate eq '57014' ? 'cancelled' : 'failed';
	is(last_run(), "$status $sqlstate", "$what: the run is recorded as $status with $sqlstate");
	is(fingerprint(), $good, "$what: qa keeps its previous data");
	nothing_left($what);
}

sql('prod', 'ALTER TABLE customers ADD COLUMN passport_no text');
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('qa')});
fails_safely('a new production column', 'TG001', $err);
sql('prod', 'ALTER TABLE customers DROP COLUMN passport_no');

sql('staging', q{ALTER SERVER prod OPTIONS (SET dbname 'no_such_database')});
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('qa')});
fails_safely('production unreachable', '08001', $err);
sql('staging', q{ALTER SERVER prod OPTIONS (SET dbname 'prod')});

my $ssn = sql('prod', 'SELECT ssn FROM employees WHERE id = 1');
sql('prod', q{UPDATE employees SET ssn = 'SECRET-not-an-ssn' WHERE id = 1});
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('qa')});
fails_safely('a transform error on one row', '22023', $err);
unlike($err, qr/SECRET/, 'the error quotes nothing of the value');
sql('prod', qq{UPDATE employees SET ssn = '$ssn' WHERE id = 1});

# A refresh held up by a lock on production: a second one is refused at
# once, the first shows its progress, a cancel ends it cleanly.
my $blocker = sql_bg('prod', 'BEGIN; LOCK TABLE hold_point IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT;');
sleep 1;
my $first = sql_bg('staging', [q{SET statement_timeout = '4s'}, q{CALL tdgen_refresh('qa')}]);
is(poll_until('staging', q{SELECT phase || ' ' || table_name FROM tdgen.progress
	WHERE environment = 'qa' AND table_name = 'public.hold_point'}, 'load public.hold_point', 10),
	'load public.hold_point', 'tdgen.progress shows the phase and table of a running refresh');
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('qa')});
is(sqlstate($err), '55P03', 'a second refresh of the same environment is refused at once (55P03)');
is(sql('staging', q{SELECT status || ' ' || sqlstate || ' ' || role FROM tdgen.run WHERE environment = 'qa' ORDER BY id DESC LIMIT 1}),
	'busy 55P03 postgres', 'and recorded as a busy run, with its role');
($rc, $out, $err) = bg_finish($first);
fails_safely('a cancelled refresh (statement_timeout)', '57014', $err);
# production's read waits for the lock for 4 s more unless it was cancelled
is(poll_until('prod', q{SELECT count(*) FROM pg_stat_activity WHERE datname = 'prod'
	AND application_name IN ('tdgen', 'postgres_fdw') AND state = 'active'}, '0', 2),
	'0', 'a cancelled refresh: its read on production is cancelled too');
bg_finish($blocker);

# The copy connection keeps postgres_fdw's password rules for a
# non-superuser: a password in the user mapping, which production must
# ask for, unless a superuser set password_required false.
if ($transfer eq 'copy')
{
	sql('staging', q{CREATE ROLE tdgen_reader; GRANT tdgen_admin TO tdgen_reader;
		GRANT USAGE ON FOREIGN SERVER prod TO tdgen_reader;
		GRANT EXECUTE ON FUNCTION tdgen.remote_begin(name, text, boolean) TO tdgen_reader;
		CREATE USER MAPPING FOR tdgen_reader SERVER prod OPTIONS (user 'postgres')});
	my $open = [q{SET ROLE tdgen_reader}, q{SELECT tdgen.remote_begin('prod')}];
	($rc, $out, $err) = sql_result('staging', $open);
	is(sqlstate($err), '2F003', 'copy connection: a non-superuser needs a password in the user mapping');
	sql('staging', q{ALTER USER MAPPING FOR tdgen_reader SERVER prod OPTIONS (ADD password 'not-asked-for')});
	($rc, $out, $err) = sql_result('staging', $open);
	is(sqlstate($err), '2F003', 'copy connection: and production must ask for it');
	sql('staging', q{ALTER USER MAPPING FOR tdgen_reader SERVER prod OPTIONS (ADD password_required 'false')});
	($rc, $out, $err) = sql_result('staging', $open);
	is($rc, 0, 'copy connection: unless a superuser set password_required false') or diag($err);
	sql('staging', q{DROP USER MAPPING FOR tdgen_reader SERVER prod; DROP OWNED BY tdgen_reader; DROP ROLE tdgen_reader});

	# the transfer option and the copy step refuse what they cannot do,
	# before a row moves
	($rc, $out, $err) = sql_result('staging', q{SELECT tdgen_environment('qa', 'prod', options => '{"transfer": "ftp"}')});
	is(sqlstate($err), '22023', 'an unknown transfer is refused (22023)');
	sql('staging', 'CREATE TABLE copy_target (code char(2), name text)');
	my $countries = sql('staging', q{SELECT quote_ident(local_name) FROM tdgen.source_relation WHERE table_name = 'countries'});
	my $copy = sub { sprintf(q{SELECT tdgen.copy_rows('copy_target', 'SELECT %s FROM tdgen_source_prod.%s')}, $_[0], $countries) };
	my @open = ('BEGIN', q{SELECT tdgen.remote_begin('prod')});
	($rc, $out, $err) = sql_result('staging', $copy->('code, name'));
	is(sqlstate($err), '08003', 'copy_rows without tdgen\'s connection open: 08003');
	($rc, $out, $err) = sql_result('staging', [@open, $copy->('code, name') =~ s/'\)$/ WHERE code = ''US'''\)/r]);
	is(sqlstate($err), '22023', 'copy_rows refuses a query with a WHERE (22023)');
	($rc, $out, $err) = sql_result('staging', [@open, $copy->('name, code')]);
	is(sqlstate($err), '42804', 'copy_rows refuses columns of the wrong types (42804)');
	($rc, $out, $err) = sql_result('staging', [@open, $copy->('code, name'), 'COMMIT']);
	is($rc || 0, 0, 'copy_rows copies a table') or diag($err);
	is(sql('staging', 'SELECT count(*) FROM copy_target'), sql('prod', 'SELECT count(*) FROM countries'), 'whole, committed with its transaction');
	sql('staging', 'DROP TABLE copy_target');
}

# Two environments refresh at the same time; a second refresh of one with
# on_busy => 'wait' queues behind the first and then runs.
sql('staging', q{SELECT tdgen_environment('qa_two', 'prod')});
owner_mapping('qa_two');
my $runs_before = sql('staging', q{SELECT count(*) FROM tdgen.run WHERE status = 'succeeded'});
$blocker = sql_bg('prod', 'BEGIN; LOCK TABLE hold_point IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;');
sleep 1;
$first = sql_bg('staging', q{CALL tdgen_refresh('qa')});
my $other = sql_bg('staging', q{CALL tdgen_refresh('qa_two')});
is(poll_until('staging', q{SELECT string_agg(DISTINCT environment, ',' ORDER BY environment) FROM tdgen.progress}, 'qa,qa_two', 10),
	'qa,qa_two', 'two environments refresh at the same time');
my $queued = sql_bg('staging', q{CALL tdgen_refresh('qa', on_busy => 'wait')});
($rc) = bg_finish($first);
is($rc || 0, 0, 'the first refresh of qa succeeds');
($rc) = bg_finish($other);
is($rc || 0, 0, 'so does the one of qa_two');
($rc, $out, $err) = bg_finish($queued);
is($rc || 0, 0, 'the refresh that waited for the lock runs after them') or diag($err);
is(sql('staging', q{SELECT count(*) FROM tdgen.run WHERE status = 'succeeded'}) - $runs_before, 3, 'three runs succeeded');
bg_finish($blocker);
sql('staging', q{SELECT tdgen_drop_environment('qa_two')});
sql('staging', 'DROP SCHEMA qa_two CASCADE');
$good = fingerprint();

# The production connection killed in the middle of the copy.
$blocker = sql_bg('prod', 'BEGIN; LOCK TABLE hold_point IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;');
sleep 1;
$first = sql_bg('staging', q{CALL tdgen_refresh('qa')});
poll_until('staging', q{SELECT table_name FROM tdgen.progress WHERE environment = 'qa' AND table_name = 'public.hold_point'},
		   'public.hold_point', 10);
sql('prod', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'prod' AND application_name IN ('postgres_fdw', 'tdgen')});
($rc, $out, $err) = bg_finish($first);
isnt($rc, 0, 'a refresh whose production connection is killed fails');
like(last_run(), qr/^failed (08|57)/, 'and is recorded as failed with a connection SQLSTATE');
is(fingerprint(), $good, 'qa keeps its previous data');
nothing_left('a killed production connection');
bg_finish($blocker);

# The staging server stopped at once in the middle of a refresh.
$blocker = sql_bg('prod', 'BEGIN; LOCK TABLE hold_point IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(30); COMMIT;');
sleep 1;
$first = sql_bg('staging', q{CALL tdgen_refresh('qa')});
poll_until('staging', q{SELECT table_name FROM tdgen.progress WHERE environment = 'qa' AND table_name = 'public.hold_point'},
		   'public.hold_point', 10);
restart_server('immediate');
bg_finish($first);
bg_finish($blocker);
is(last_run(), 'running -', 'after a crash the run still reads running');
is(fingerprint(), $good, 'qa has its previous data after the crash');
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('qa')});
is($rc, 0, 'the next refresh succeeds') or diag($err);
is(sql('staging', q{SELECT string_agg(status || ' ' || coalesce(sqlstate, '-'), ', ' ORDER BY id DESC) FROM (SELECT * FROM tdgen.run WHERE environment = 'qa' ORDER BY id DESC LIMIT 2) AS r}),
	'succeeded -, failed 57P01', 'and records the interrupted one as failed');
nothing_left('after the crash');

# One snapshot: while a refresh is held between reading customers and
# orders, a writer on production keeps adding customers with two orders
# each and deleting earlier ones with theirs.  The refresh succeeds (every
# foreign key validates) and qa holds exactly two orders per writer
# customer, as any single moment of production does.
sql('prod', q{
	CREATE PROCEDURE pg_temp_writer(seconds int) LANGUAGE plpgsql AS $$
	DECLARE
		stop timestamptz := clock_timestamp() + seconds * interval '1 second';
		id bigint;
		i int := 0;
	BEGIN
		WHILE clock_timestamp() < stop LOOP
			i := i + 1;
			INSERT INTO customers (first_name, last_name, email)
			VALUES ('Writer', 'Row' || i, 'writer' || i || '@snapshot.example') RETURNING customers.id INTO id;
			INSERT INTO orders (customer_id, ordered_at, total) VALUES (id, now(), 1), (id, now(), 2);
			COMMIT;
			IF i % 2 = 0 THEN
				DELETE FROM orders WHERE customer_id = (SELECT min(c.id) FROM customers AS c WHERE c.first_name = 'Writer');
				DELETE FROM customers WHERE customers.id = (SELECT min(c.id) FROM customers AS c WHERE c.first_name = 'Writer');
				COMMIT;
			END IF;
			PERFORM pg_sleep(0.01);
		END LOOP;
	END
	$$;
});
$blocker = sql_bg('prod', 'BEGIN; LOCK TABLE hold_point IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(5); COMMIT;');
sleep 1;
my $writer = sql_bg('prod', 'CALL pg_temp_writer(6)');
$first = sql_bg('staging', q{CALL tdgen_refresh('qa')});
($rc, $out, $err) = bg_finish($first);
is($rc || 0, 0, 'a refresh during continuous production writes succeeds: every foreign key validates') or diag($err);
bg_finish($writer);
bg_finish($blocker);
my ($writer_customers, $writer_orders) = split /\|/, sql('staging', q{
	SELECT (SELECT count(*) FROM qa.customers WHERE created_at > now() - interval '1 hour'),
		   (SELECT count(*) FROM qa.orders AS o JOIN qa.customers AS c ON c.id = o.customer_id
			WHERE c.created_at > now() - interval '1 hour')});
cmp_ok($writer_customers, '>', 0, "qa holds customers the writer added ($writer_customers)");
is($writer_orders, 2 * $writer_customers, 'each with both its orders: one point in time of production');
sql('prod', q{DELETE FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE first_name = 'Writer');
	DELETE FROM customers WHERE first_name = 'Writer'; DROP PROCEDURE pg_temp_writer(int)});

# Weird identifiers are copied faithfully.
my $long = 'x' x 63;
sql('prod', qq{CREATE TABLE "Weird ""Tbl"".x" ("Select" int PRIMARY KEY, "Mixed Case" text, "$long" text, "from" date)});
sql('prod', qq{INSERT INTO "Weird ""Tbl"".x" VALUES (1, 'a', 'b', '2020-01-01'), (2, 'O''Brien', NULL, NULL)});
sql('staging', q{SELECT tdgen_keep(column_name, 'test data') FROM tdgen_check('qa') WHERE problem = 'unreviewed'});
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('qa')});
is($rc, 0, 'a refresh with weird identifiers succeeds') or diag($err);
is(sql('staging', qq{SELECT string_agg(concat_ws('|', "Select", "Mixed Case", "$long", "from"), ',' ORDER BY "Select") FROM qa."Weird ""Tbl"".x"}),
	q{1|a|b|2020-01-01,2|O'Brien}, 'mixed case, spaces, quotes, dots, reserved words and 63-byte names arrive intact');
sql('prod', q{DROP TABLE "Weird ""Tbl"".x"});
sql('staging', q{SELECT tdgen_drop_rule(column_name) FROM tdgen_check('qa') WHERE problem = 'column_gone'});

# Production's NOT VALID constraints stay NOT VALID: rows that break them
# (an orphan, a value the check would refuse) do not fail the refresh.
sql('prod', q{CREATE TABLE legacy_note (id int PRIMARY KEY, customer_id bigint, score int);
	INSERT INTO legacy_note VALUES (1, -1, -5), (2, NULL, 3);
	ALTER TABLE legacy_note ADD CONSTRAINT legacy_note_customer_fkey FOREIGN KEY (customer_id) REFERENCES customers NOT VALID;
	ALTER TABLE legacy_note ADD CONSTRAINT legacy_note_score_check CHECK (score >= 0) NOT VALID});
sql('staging', q{SELECT tdgen_keep(column_name, 'test data') FROM tdgen_check('qa') WHERE problem = 'unreviewed'});
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('qa')});
is($rc, 0, 'a refresh over rows that break NOT VALID constraints succeeds') or diag($err);
is(sql('staging', q{SELECT string_agg(conname || ' ' || convalidated, ', ' ORDER BY conname) FROM pg_constraint
	WHERE conrelid = 'qa.legacy_note'::regclass AND contype IN ('c', 'f')}),
	'legacy_note_customer_fkey false, legacy_note_score_check false', 'with both constraints NOT VALID, as in production');
is(sql('staging', 'SELECT count(*) FROM qa.legacy_note'), '2', 'and every row');
sql('prod', 'DROP TABLE legacy_note');
sql('staging', q{SELECT tdgen_drop_rule(column_name) FROM tdgen_check('qa') WHERE problem = 'column_gone'});

# Canaries: a marker in every sensitive value of production.  After a
# refresh none appears in a dump of staging, the server log or a NOTICE.
sql('prod', q{
	UPDATE customers SET first_name = 'Canaryf' || id, last_name = 'Canaryl' || id,
		email = 'canary' || id || '@canary.example',
		notes = 'Canary note ' || id, profile = jsonb_build_object('name', jsonb_build_object('first', 'Canaryp' || id));
	UPDATE employees SET first_name = 'Canaryf' || id, last_name = 'Canaryl' || id, email = 'canarye' || id || '@canary.example';
	UPDATE payment_cards SET cardholder = 'CANARY HOLDER ' || id;
	UPDATE addresses SET street = id || ' Canary Street', city = 'Canaryville';
	UPDATE customers SET other_emails = ARRAY['canarya' || id || '@canary.example'] WHERE other_emails IS NOT NULL;
});
my $log_before = length(server_log());
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('qa')});
is($rc, 0, 'a refresh over the canaries succeeds') or diag($err);
my $dir = tempdir(CLEANUP => 1);
chmod 0777, $dir;
system('pg_dump', '-d', 'staging', '-f', "$dir/staging.sql") == 0 or die "pg_dump failed\n";
my $dump = do { local $/; open my $fh, '<', "$dir/staging.sql" or die $!; <$fh> };
my @found = $dump =~ /(canary)/gi;
is(scalar(@found), 0, 'no canary in pg_dump of staging');
my $log = substr(server_log(), $log_before);
unlike($log, qr/canary/i, 'no canary in the server log');
unlike($err . $out, qr/canary/i, 'no canary in any NOTICE or message');
like($dump, qr/COPY qa\.customers /, 'while the dump does hold the masked customers');

sql('prod', 'DROP TABLE hold_point');
sql('staging', q{SELECT tdgen_drop_rule(column_name) FROM tdgen_check('qa') WHERE problem = 'column_gone'});

done_testing();
