# ----------------------------------------------------------------------------
# Schema fidelity: the shadow schema built from production's catalog, read
# through postgres_fdw, matches production in pg_dump --schema-only,
# statement by statement, but for what docs/limitations.md lists.  On the
# demo shop nothing differs; on pagila (when ../shared has it) only
# functions, views, triggers and the like.
# ----------------------------------------------------------------------------
use strict;
use warnings;
use Test::More;
use TdgenTest;

# Build the shadow schema of a source and compare it with production.
sub compare
{
	my ($source, $prod_db, $shadow, $skip_objects) = @_;
	sql('staging', "DROP SCHEMA IF EXISTS $shadow CASCADE; CREATE SCHEMA $shadow");
	# the tables, each table's keys, checks, indexes and statistics, the
	# foreign keys, then the sequences, as a refresh builds them
	my %query = (
		create => "SELECT s FROM tdgen.shadow_ddl(tdgen.remote_schema('$source'), '{public}', '$shadow', 'create') AS s",
		tables => "SELECT w.statements FROM tdgen.shadow_table_work(tdgen.remote_schema('$source'), '{public}', '$shadow', '{}') AS w",
		keys => "SELECT f.statement FROM tdgen.shadow_foreign_keys(tdgen.remote_schema('$source'), '{public}', '$shadow', '{}') AS f",
		finish => "SELECT s FROM tdgen.shadow_ddl(tdgen.remote_schema('$source'), '{public}', '$shadow', 'finish') AS s");
	for my $phase (qw(create tables keys finish)) {
		my @ddl = split /\n/, sql('staging', $query{$phase});
		sql('staging', [map { "$_;" } @ddl]) if @ddl;
	}
	my @prod = schema_statements($prod_db, 'public', $skip_objects);
	my @copy = schema_statements('staging', $shadow, []);
	my %in_copy = map { $_ => 1 } @copy;
	my %in_prod = map { $_ => 1 } @prod;
	my @missing = grep { !$in_copy{$_} } @prod;
	my @extra = grep { !$in_prod{$_} } @copy;
	diag("only in production: $_") for @missing;
	diag("only in the shadow schema: $_") for @extra;
	sql('staging', "DROP SCHEMA $shadow CASCADE");
	return (scalar(@prod), scalar(@missing) + scalar(@extra));
}

sql('staging', q{SELECT tdgen_source('prod', 'prod')});
my ($statements, $differences) = compare('prod', 'prod', 'shadow_fidelity', []);
cmp_ok($statements, '>', 80, "the demo shop's schema has $statements statements");
is($differences, 0, 'the shadow schema of the demo shop matches it statement by statement');

# CHECK constraints of one name with different clauses, on two tables and
# on two domains of one schema: information_schema tells them apart by name
# only, so their clauses are read by OID.
sql('prod', q{CREATE DOMAIN same_a AS int CONSTRAINT in_range CHECK (VALUE > 0);
	CREATE DOMAIN same_b AS int CONSTRAINT in_range CHECK (VALUE < 100);
	CREATE TABLE same_name_a (v int CONSTRAINT in_range CHECK (v > 0), d same_a);
	CREATE TABLE same_name_b (w int CONSTRAINT in_range CHECK (w < 100), d same_b)});
($statements, $differences) = compare('prod', 'prod', 'shadow_same_names', []);
is($differences, 0, 'same-named CHECK constraints of different tables and domains keep their own clauses');
sql('prod', q{DROP TABLE same_name_a, same_name_b; DROP DOMAIN same_a, same_b});

# Production's catalog (about 1 MB even for a small schema) held as a
# constant while the shadow schema's statements are computed, as the
# refresh's backend does: its peak memory grows by a few MB, not by a copy
# of the document for each place the functions' bodies use it (135 MB
# when they were inlined into the caller's plan).
my $peak_kb = q{substring(pg_read_file('/proc/' || pg_backend_pid() || '/status') FROM 'VmHWM:\s+(\d+)')::int};
my $growth_kb = sql('staging', [
	q{CREATE TEMP TABLE snap AS SELECT tdgen.remote_schema('prod') AS doc},
	"CREATE TEMP TABLE peak AS SELECT $peak_kb AS before",
	q{DO $$
	DECLARE
		snap jsonb := (SELECT doc FROM snap);
	BEGIN
		PERFORM count(*) FROM tdgen.shadow_ddl(snap, '{public}', 'shadow_memory', 'create');
		PERFORM count(*) FROM tdgen.shadow_table_work(snap, '{public}', 'shadow_memory', '{}');
		PERFORM count(*) FROM tdgen.shadow_foreign_keys(snap, '{public}', 'shadow_memory', '{}');
		PERFORM count(*) FROM tdgen.shadow_ddl(snap, '{public}', 'shadow_memory', 'finish');
	END
	$$},
	"SELECT $peak_kb - before FROM peak"]) =~ s/.*\n//sr;
note("peak memory growth computing the shadow schema: $growth_kb kB");
cmp_ok($growth_kb, '<', 32 * 1024, 'computing the shadow schema from a held catalog document takes under 32 MB');

SKIP: {
	skip 'pagila corpus not present', 2 unless attach_pagila('pagila_fidelity');
	# a materialized view's index goes with the view
	my @matview_indexes = split /\n/, sql('pagila_fidelity', q{SELECT indexname FROM pg_indexes
		WHERE (schemaname, tablename) IN (SELECT schemaname, matviewname FROM pg_matviews)});
	($statements, $differences) = compare('pagila_fidelity', 'pagila_fidelity', 'shadow_pagila', \@matview_indexes);
	cmp_ok($statements, '>', 130, "pagila's tables, types, sequences, constraints and indexes: $statements statements");
	is($differences, 0, 'its shadow schema matches them statement by statement');
	detach_pagila('pagila_fidelity');
}

done_testing();
