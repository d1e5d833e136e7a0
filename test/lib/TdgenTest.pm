# ----------------------------------------------------------------------------
# TdgenTest.pm
#     Helpers for scenario tests against the throwaway cluster that
#     tools/test.sh starts: run SQL in "prod" or "staging", run a query in
#     the background, restart the server, read its log.
#
# The libpq variables (PGHOST, PGPORT, PGUSER) and TDGEN_CLUSTER_DIR come
# from tools/test.sh.  A scenario test is test/t/NNN_topic.pl using
# Test::More; the runner picks up every file there.
# ----------------------------------------------------------------------------
package TdgenTest;

use strict;
use warnings;
use Exporter 'import';
use File::Temp ();
use IPC::Run ();
use Time::HiRes ();

our @EXPORT = qw(sql sql_result sql_bg bg_finish poll_until restart_server server_log sqlstate schema_statements
	schema_differences attach_database keep_everything attach_pagila detach_pagila owner_mapping);

my @psql = ('psql', '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose');

sub chomped { my $s = shift // ''; $s =~ s/\s+\z//; return $s; }

# sql_result($db, $query, user => $role) -> ($exit_code, $stdout, $stderr);
# $query may be an array of commands run one after another in one session;
# errors come with their SQLSTATE (VERBOSITY verbose)
sub sql_result
{
	my ($db, $query, %opt) = @_;
	my ($out, $err) = ('', '');
	my @user = $opt{user} ? ('-U', $opt{user}) : ();
	my @commands = map { ('-c', $_) } (ref $query eq 'ARRAY' ? @$query : ($query));
	IPC::Run::run([@psql, @user, '-d', $db, @commands], '<', \'', '>', \$out, '2>', \$err);
	return ($? >> 8, chomped($out), chomped($err));
}

# sql($db, $query, user => $role) -> $stdout; dies with psql's message on any error
sub sql
{
	my ($rc, $out, $err) = sql_result(@_);
	die "query failed in $_[0]: $err\n" if $rc != 0;
	return $out;
}

# owner_mapping($environment, $server): a user mapping on $server (prod by
# default) for the
# environment's owner, which a refresh reads production with: production's
# superuser without a password (the throwaway cluster trusts its socket;
# only a superuser may waive the password)
sub owner_mapping
{
	my ($env, $server) = @_;
	$server //= 'prod';
	sql('staging', qq{DO \$\$ BEGIN EXECUTE (SELECT format('CREATE USER MAPPING IF NOT EXISTS FOR %I SERVER %I
		OPTIONS (user %L, password_required %L)', owner, '$server', current_user, 'false') FROM tdgen.environment WHERE name = '$env'); END \$\$});
}

# sqlstate($stderr) -> the SQLSTATE of the first error, or ''
sub sqlstate
{
	my $err = shift // '';
	return $err =~ /ERROR:\s+([0-9A-Z]{5}):/ ? $1 : '';
}

# sql_bg($db, $query) -> $handle: the query (or an array of commands, in one
# session) runs in its own psql process
sub sql_bg
{
	my ($db, $query) = @_;
	my $h = { out => '', err => '' };
	my @commands = map { ('-c', $_) } (ref $query eq 'ARRAY' ? @$query : ($query));
	$h->{run} = IPC::Run::start([@psql, '-d', $db, @commands],
		'<', \'', '>', \$h->{out}, '2>', \$h->{err});
	return $h;
}

# bg_finish($handle) -> ($exit_code, $stdout, $stderr), waiting for the end
sub bg_finish
{
	my $h = shift;
	$h->{run}->finish;
	return ($h->{run}->result, chomped($h->{out}), chomped($h->{err}));
}

# poll_until($db, $query, $expected, $seconds) -> last value seen; returns
# as soon as the query gives $expected
sub poll_until
{
	my ($db, $query, $expected, $seconds) = @_;
	my $deadline = Time::HiRes::time() + $seconds;
	my $got;
	while (1)
	{
		my ($rc, $out) = sql_result($db, $query);
		$got = $rc == 0 ? $out : undef;
		return $got if defined $got && $got eq $expected;
		return $got if Time::HiRes::time() > $deadline;
		Time::HiRes::sleep(0.2);
	}
}

sub pg_ctl
{
	my @cmd = ('pg_ctl', '-D', "$ENV{TDGEN_CLUSTER_DIR}/data", '-w', '-t', '120', @_);
	unshift @cmd, 'runuser', '-u', 'postgres', '--' if $> == 0;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '<', \'', '>', \$out, '2>', \$err, init => sub { chdir '/' })
	  or die "pg_ctl @_ failed: $err\n";
}

# restart_server($mode): stop with pg_ctl mode (fast, immediate) and start
sub restart_server
{
	my $mode = shift // 'fast';
	pg_ctl('-m', $mode, 'stop');
	pg_ctl('-l', "$ENV{TDGEN_CLUSTER_DIR}/server.log", 'start');
}

# server_log() -> the whole server log
sub server_log
{
	open my $fh, '<', "$ENV{TDGEN_CLUSTER_DIR}/server.log" or die "server log: $!\n";
	local $/;
	return <$fh>;
}

# What docs/limitations.md says a target does not take from production:
# its grants (the environment's access replaces them), the schemas' own
# entries (a target schema is tdgen's, with its mark as comment).
my $not_reproduced = qr/^\d+; \d+ \d+ (ACL|DEFAULT ACL|SCHEMA|COMMENT - SCHEMA) /;

# schema_statements($db, \@schemas, \%rename) -> the schema-only
# statements of some schemas of a database (pg_dump), whitespace folded,
# sorted, with schema names renamed as %rename says (a target's to
# production's); without owners and what docs/limitations.md says a
# refresh does not reproduce
sub schema_statements
{
	my ($db, $schemas, $rename) = @_;
	my $dir = File::Temp::tempdir(CLEANUP => 1);
	chmod 0777, $dir;
	my $archive = "$dir/$db.dump";
	system('pg_dump', '-s', '-Fc', '-d', $db, (map { ('-n', $_) } @$schemas), '-f', $archive) == 0
	  or die "pg_dump failed\n";
	my @kept = grep { !/^;/ && !/$not_reproduced/ } `pg_restore -l $archive`;
	open my $fh, '>', "$archive.list" or die $!;
	print $fh @kept;
	close $fh;
	# owners differ by design: a target belongs to its environment's owner
	my $sql = `pg_restore -O -L $archive.list -f - $archive`;
	$sql =~ s/^--.*$//mg;
	$sql =~ s/^\\(un)?restrict .*$//mg;
	for my $from (sort { length($b) <=> length($a) } keys %{ $rename // {} }) {
		$sql =~ s/(?<![\w\$])\Q$from\E(?![\w\$])/$rename->{$from}/g;
	}
	# functions are made to run as their callers, and without what only
	# superusers may declare (docs/limitations.md)
	$sql =~ s/ (SECURITY DEFINER|LEAKPROOF)(?=[ \n])//g;
	my %seen;
	return sort grep { $_ ne '' && !/^SET |^SELECT pg_catalog\.set_config/ && !$seen{$_}++ }
		map { my $s = $_; $s =~ s/\s+/ /g; $s =~ s/^ | $//g; $s } split /;\n/, $sql;
}

# schema_differences($prod_db, \%targets, \%renamed) -> (statements,
# differences): production's schemas (the keys of %targets) and the
# staging database's targets of them (the values) compared by
# schema_statements, each difference shown as a diagnostic; %renamed maps
# other staging schema names to production's (extensions installed
# elsewhere)
sub schema_differences
{
	my ($prod_db, $targets, $renamed) = @_;
	my @prod = schema_statements($prod_db, [sort keys %$targets], {});
	my @copy = schema_statements('staging', [sort values %$targets], { reverse(%$targets), %{ $renamed // {} } });
	my %in_copy = map { $_ => 1 } @copy;
	my %in_prod = map { $_ => 1 } @prod;
	my @missing = grep { !$in_copy{$_} } @prod;
	my @extra = grep { !$in_prod{$_} } @copy;
	Test::More::diag("only in production: $_") for @missing;
	Test::More::diag("only in the target: $_") for @extra;
	return (scalar(@prod), scalar(@missing) + scalar(@extra));
}

# name_array(\@names) -> the SQL of a name[] of them, whatever they hold
sub name_array
{
	my ($names) = @_;
	return 'ARRAY[' . join(', ', map { (my $n = $_) =~ s/'/''/g; "'$n'" } @$names) . ']::name[]';
}

# attach_database($name, \@schemas): staging gets a foreign server $name to
# the cluster's database $name, a user mapping for the current user, and a
# tdgen source $name reading @schemas (public by default)
sub attach_database
{
	my ($name, $schemas) = @_;
	my $list = name_array($schemas // ['public']);
	sql('staging', qq{CREATE SERVER $name FOREIGN DATA WRAPPER postgres_fdw
		OPTIONS (host '$ENV{PGHOST}', port '$ENV{PGPORT}', dbname '$name')});
	sql('staging', "CREATE USER MAPPING FOR CURRENT_USER SERVER $name OPTIONS (user '$ENV{PGUSER}')");
	sql('staging', "SELECT tdgen_source('$name', '$name', $list)");
}

# keep_everything($db, \@schemas, $environment): a keep of the
# environment's own (dropped with it) for every column of the tables of
# @schemas in database $db (partitions aside: their parent speaks for them)
sub keep_everything
{
	my ($db, $schemas, $environment) = @_;
	my $list = name_array($schemas);
	my $columns = sql($db, qq{SELECT string_agg(quote_literal(format('%I.%I.%I', n.nspname, c.relname, a.attname)), ',')
		FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
		JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = ANY ($list) AND c.relkind IN ('r', 'p') AND NOT c.relispartition});
	sql('staging', qq{SELECT count(tdgen_keep(c, 'test data', '$environment')) FROM unnest(ARRAY[$columns]) AS c});
}

# attach_pagila($name) -> false when ../shared/corpus/pagila is absent;
# else the corpus is loaded into a database $name, and staging has a
# foreign server $name to it with a user mapping and a tdgen source $name
sub attach_pagila
{
	my ($name) = @_;
	my $pagila = '../shared/corpus/pagila';
	return 0 unless -f "$pagila/pagila-schema.sql";
	sql('postgres', "DROP DATABASE IF EXISTS $name");
	sql('postgres', "CREATE DATABASE $name");
	system('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $name, '-f', "$pagila/pagila-schema.sql",
		'-f', "$pagila/pagila-data.sql", '-o', '/dev/null') == 0 or die "pagila load failed\n";
	attach_database($name);
	return 1;
}

# detach_pagila($name): the source, server and database of attach_pagila gone
sub detach_pagila
{
	my ($name) = @_;
	sql('staging', "SELECT tdgen_drop_source('$name')");
	sql('staging', "DROP SERVER $name CASCADE");
	sql('postgres', "DROP DATABASE $name");
}

1;
