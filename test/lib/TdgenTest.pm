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
	attach_pagila detach_pagila owner_mapping);

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

# Object kinds docs/limitations.md says are not reproduced.
my $not_reproduced = qr/^(FUNCTION|PROCEDURE|AGGREGATE|VIEW|MATERIALIZED VIEW|MATERIALIZED VIEW DATA|TRIGGER|RULE|POLICY|ACL|COMMENT|SCHEMA|DEFAULT ACL)$/;

# schema_statements($db, $schema, \@skip_objects) -> the schema-only
# statements of one schema of a database (pg_dump), with the schema renamed
# to "public", whitespace folded, sorted; without the object kinds
# docs/limitations.md says a refresh does not reproduce, nor the named
# objects
sub schema_statements
{
	my ($db, $schema, $skip_objects) = @_;
	my $dir = File::Temp::tempdir(CLEANUP => 1);
	chmod 0777, $dir;
	my $archive = "$dir/$db-$schema.dump";
	system('pg_dump', '-s', '-Fc', '-d', $db, '-n', $schema, '-f', $archive) == 0 or die "pg_dump failed\n";
	my @toc = `pg_restore -l $archive`;
	my @kept = grep {
		my $line = $_;
		my ($type) = $line =~ /^\d+;\s+\d+\s+\d+\s+(.+?)\s+\Q$schema\E\s/;
		$line !~ /^;/ && $line !~ /^\d+; \d+ \d+ (SCHEMA|COMMENT|ACL) - /
		  && !(defined $type && $type =~ $not_reproduced)
		  && !(grep { $line =~ /\s\Q$_\E\s/ } @$skip_objects)
	} @toc;
	open my $fh, '>', "$archive.list" or die $!;
	print $fh @kept;
	close $fh;
	# owners differ by design: a target belongs to its environment's owner
	my $sql = `pg_restore -O -L $archive.list -f - $archive`;
	$sql =~ s/^--.*$//mg;
	$sql =~ s/^\\(un)?restrict .*$//mg;
	$sql =~ s/\b\Q$schema\E\./public./g unless $schema eq 'public';
	my %seen;
	return sort grep { $_ ne '' && !/^SET |^SELECT pg_catalog\.set_config/ && !$seen{$_}++ }
		map { my $s = $_; $s =~ s/\s+/ /g; $s =~ s/^ | $//g; $s } split /;\n/, $sql;
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
	sql('staging', qq{CREATE SERVER $name FOREIGN DATA WRAPPER postgres_fdw
		OPTIONS (host '$ENV{PGHOST}', port '$ENV{PGPORT}', dbname '$name')});
	sql('staging', "CREATE USER MAPPING FOR CURRENT_USER SERVER $name");
	sql('staging', "SELECT tdgen_source('$name', '$name')");
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
