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
use IPC::Run ();
use Time::HiRes ();

our @EXPORT = qw(sql sql_result sql_bg bg_finish poll_until restart_server server_log sqlstate);

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

1;
