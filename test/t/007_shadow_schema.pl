# ----------------------------------------------------------------------------
# Schema fidelity: a refresh reproduces production's whole schema, one
# target schema per production schema.  On a fixture built to be hard
# (test/fixtures/hard_schema.sql: three schemas with the same table,
# sequence and constraint names, foreign keys between them, a fourth schema
# the source does not list whose domain, function, sequence and collation
# they use, functions in CHECKs, indexes and defaults, views, a trigger, a
# materialized view, btree_gist, constraint triggers, RLS, clustered
# tables...) pg_dump --schema-only of production and of the targets match
# statement by statement, but for what docs/limitations.md lists, and the
# fixture's own queries give the same answers on both.  Pagila too when
# ../shared has it (the demo shop's comparison is in 008).
# ----------------------------------------------------------------------------
use strict;
use warnings;
use Test::More;
use TdgenTest;

my %hard = (app => 'hard_app', billing => 'hard_billing', audit => 'hard_audit', shared => 'hard_shared');

sql('postgres', 'DROP DATABASE IF EXISTS hard');
sql('postgres', 'CREATE DATABASE hard');
system('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'hard', '-f', 'test/fixtures/hard_schema.sql', '-o', '/dev/null') == 0
  or die "the fixture does not load\n";
attach_database('hard', ['app', 'billing', 'audit']);
sql('staging', q{SELECT tdgen_environment('hard', 'hard')});
keep_everything('hard', ['app', 'billing', 'audit'], 'hard');
owner_mapping('hard', 'hard');

# before any work: what the schema needs and staging lacks
is(sql('staging', q{SELECT string_agg(DISTINCT problem || ': ' || suggestion, E'\n') FROM tdgen_check('hard')}),
	join("\n", 'missing_extension: CREATE EXTENSION "uuid-ossp";', 'missing_extension: CREATE EXTENSION btree_gist;',
		'missing_extension: CREATE EXTENSION citext;'),
	'the check names the extensions the schema needs, and nothing else: production\'s functions are made, not looked up');
like(sql('staging', q{SELECT string_agg(detail, E'\n' ORDER BY detail) FROM tdgen_check('hard')}),
	qr/^default value for column ref of table billing\.invoice uses extension uuid-ossp [\d.]+, which the staging database does not have$/m,
	'a default calling an extension\'s function, located');
my ($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('hard')});
is(sqlstate($err), 'TG001', 'the refresh stops at the gate while they lack');
# staging has them, in schemas of other names than production's, which the
# environment's owner must be able to use
sql('staging', q{CREATE EXTENSION btree_gist; CREATE SCHEMA ext_text; CREATE EXTENSION citext SCHEMA ext_text;
	CREATE SCHEMA ext_uuid; CREATE EXTENSION "uuid-ossp" SCHEMA ext_uuid});
is(sql('staging', q{SELECT string_agg(problem || ': ' || suggestion, E'\n' ORDER BY suggestion) FROM tdgen_check('hard')}),
	"extension_access: GRANT USAGE ON SCHEMA ext_text TO tdgen_hard_owner;\nextension_access: GRANT USAGE ON SCHEMA ext_uuid TO tdgen_hard_owner;",
	'the check says when the owner may not use an extension\'s schema');
sql('staging', q{GRANT USAGE ON SCHEMA ext_text, ext_uuid TO PUBLIC});

# a reader, for the policy
sql('postgres', q{DROP ROLE IF EXISTS hard_reader; CREATE ROLE hard_reader});
sql('hard', q{GRANT USAGE ON SCHEMA app, billing TO hard_reader; GRANT SELECT ON ALL TABLES IN SCHEMA app, billing TO hard_reader});
sql('staging', q{SELECT tdgen_grant('hard', 'read', 'hard_reader')});

($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('hard')});
is($rc, 0, 'the refresh of four schemas succeeds') or diag($err);
is(sql('staging', q{SELECT target_schemas FROM tdgen.run WHERE environment = 'hard' ORDER BY id DESC LIMIT 1}),
	'{"app": "hard_app", "audit": "hard_audit", "shared": "hard_shared", "billing": "hard_billing"}',
	'each production schema has its target, the unlisted one too; the run records them');
my ($statements, $differences) = schema_differences('hard', \%hard, { ext_text => 'app', ext_uuid => 'shared' });
cmp_ok($statements, '>', 60, "the fixture's schemas have $statements statements");
is($differences, 0, 'pg_dump --schema-only of the targets and of production match statement by statement');

# the fixture's own queries, on production and on the targets
sub both
{
	my (@statements) = @_;
	my @answers;
	for my $db (qw(hard staging)) {
		my @in_db = map { my $q = $_; $q =~ s/\b(app|billing|audit|shared)\./$hard{$1}./g if $db eq 'staging'; $q } @statements;
		my ($rc, $out, $err) = sql_result($db, \@in_db);
		push @answers, $rc == 0 ? $out : 'error ' . sqlstate($err);
	}
	return @answers;
}
for my $case (
	['SELECT string_agg(t::text, \';\' ORDER BY customer_id) FROM billing.customer_invoices AS t', 'a view over two schemas'],
	['SELECT billing.customer_total(3)', 'a function reading that view'],
	['SELECT string_agg(t::text, \';\' ORDER BY issued) FROM billing.invoice_totals AS t', 'the materialized view, filled'],
	[['BEGIN', 'INSERT INTO app.note (customer_id, title, body) VALUES (2, \'hello\', \'world\') RETURNING search', 'ROLLBACK'],
	 'the trigger keeping a tsvector, on INSERT'],
	[['BEGIN', 'CALL billing.add_invoice(2, 7)', 'SELECT count(*) FROM billing.invoice WHERE customer_id = 2', 'ROLLBACK'],
	 'a procedure writing a table of its schema'],
	[['BEGIN', 'DELETE FROM billing.invoice WHERE customer_id = 5', 'INSERT INTO billing.invoice (customer_id, amount) VALUES (5, -5)', 'COMMIT'],
	 'a deferred constraint trigger, at commit'],
	['INSERT INTO billing.booking (room, during) SELECT room, during FROM billing.booking ORDER BY id LIMIT 1', 'the exclusion constraint'],
	['SELECT \'a@x.com\' OPERATOR(app.@@@) \'b@x.com\', app.concat_all(name ORDER BY id) FROM app.item', 'an operator and an aggregate'],
	['SELECT count(*) FROM app.customer WHERE nick = \'NICK1\'', 'a column with a nondeterministic collation of another schema'],
	['INSERT INTO app.item (name, qty) VALUES (\' bad\', 1)', 'a domain of another schema'],
	['INSERT INTO app.customer (name, email) VALUES (\' x\', \'y\')', 'a CHECK calling a function of another schema'],
	['INSERT INTO app.customer (name, email) VALUES (\'x\', \' C1@example.com \')', 'a unique index on a function'],
	['SELECT nextval(\'shared.ticket_seq\') > 1000', 'a sequence of another schema'],
	['SELECT count(*) FROM app.customer WHERE login = \'USER1\'', 'a column of an extension\'s type, the extension elsewhere in staging'],
	['SELECT app.login_of(3)', 'a function returning that type, reading a table of its schema'],
	[['BEGIN', 'INSERT INTO billing.invoice (customer_id, amount) VALUES (3, 1) RETURNING ref IS NOT NULL', 'ROLLBACK'],
	 'a default calling an extension\'s function'])
{
	my ($prod, $copy) = both(ref $case->[0] ? @{ $case->[0] } : $case->[0]);
	is($copy, $prod, "as in production: $case->[1]");
}
my ($prod, $copy) = both(q{SET ROLE hard_reader}, q{SET fixture.tenant = 'main'}, 'SELECT count(*) FROM app.customer');
is("$copy/$prod", '10/10', 'the row-level security policy holds for a reader of the target as of production');

# a second refresh replaces all four schemas at once; with triggers off
# none is made
sql('staging', q{SELECT tdgen_environment('hard', 'hard', options => '{"triggers": false}')});
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('hard')});
is($rc, 0, 'a second refresh succeeds') or diag($err);
is(sql('staging', q{SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'hard\_%'}), '0',
	'the option triggers false leaves production\'s triggers out');
is(sql('staging', q{SELECT count(*) FROM tdgen.leftover_schemas('hard')}), '0', 'no shadow schema is left behind');

sql('staging', q{SELECT tdgen_revoke('hard', 'read', 'hard_reader')});
sql('staging', q{SELECT tdgen_drop_environment('hard'); SELECT tdgen_drop_source('hard')});
sql('staging', q{DROP SCHEMA hard_app, hard_billing, hard_audit, hard_shared CASCADE});
sql('staging', q{DROP OWNED BY tdgen_hard_owner; DROP ROLE tdgen_hard_owner; DROP SERVER hard CASCADE; DROP EXTENSION btree_gist;
	DROP SCHEMA ext_text, ext_uuid CASCADE});
sql('postgres', q{DROP DATABASE hard});
sql('postgres', q{DROP ROLE hard_reader});

# Production's catalog held as a constant while the shadow schemas'
# statements are computed, as the refresh's backend does: its peak memory
# grows by a few MB, not by a copy of the document for each place the
# functions' bodies use it (135 MB when they were inlined into the
# caller's plan).
sql('staging', q{SELECT tdgen_source('prod', 'prod')});
my $peak_kb = q{substring(pg_read_file('/proc/' || pg_backend_pid() || '/status') FROM 'VmHWM:\s+(\d+)')::int};
my $growth_kb = sql('staging', [
	q{CREATE TEMP TABLE snap AS SELECT tdgen.remote_schema('prod') AS doc},
	"CREATE TEMP TABLE peak AS SELECT $peak_kb AS before",
	q{DO $$
	DECLARE
		snap jsonb := (SELECT doc FROM snap);
		map jsonb := '{"public": "shadow_memory"}';
	BEGIN
		PERFORM count(*) FROM tdgen.shadow_ddl(snap, map, 'create');
		PERFORM count(*) FROM tdgen.shadow_table_work(snap, map, '{}');
		PERFORM count(*) FROM tdgen.shadow_foreign_keys(snap, map, '{}');
		PERFORM count(*) FROM tdgen.shadow_ddl(snap, map, 'finish');
	END
	$$},
	"SELECT $peak_kb - before FROM peak"]) =~ s/.*\n//sr;
note("peak memory growth computing the shadow schema: $growth_kb kB");
cmp_ok($growth_kb, '<', 32 * 1024, 'computing the shadow schema from a held catalog document takes under 32 MB');

SKIP: {
	skip 'pagila corpus not present', 3 unless attach_pagila('pagila_fidelity');
	sql('staging', q{SELECT tdgen_environment('pagila', 'pagila_fidelity')});
	keep_everything('pagila_fidelity', ['public'], 'pagila');
	owner_mapping('pagila', 'pagila_fidelity');
	($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('pagila')});
	is($rc, 0, 'pagila refreshes: views, functions, triggers, a materialized view and all') or diag($err);
	($statements, $differences) = schema_differences('pagila_fidelity', { public => 'pagila' });
	cmp_ok($statements, '>', 200, "pagila's schema: $statements statements");
	is($differences, 0, 'its target matches it statement by statement');
	sql('staging', q{SELECT tdgen_drop_environment('pagila'); DROP SCHEMA pagila CASCADE;
		DROP OWNED BY tdgen_pagila_owner; DROP ROLE tdgen_pagila_owner});
	detach_pagila('pagila_fidelity');
}

done_testing();
