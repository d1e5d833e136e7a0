# ----------------------------------------------------------------------------
# The CI client tdgen_refresh: the GitHub Actions example of docs/ci.md run
# as written; every exit code from a real scenario (succeeded, failed,
# refused by the gate, busy, skipped, denied, cannot connect, bad usage,
# cancelled by SIGINT with the target unchanged and the run recorded as
# cancelled); its output has the shape docs/ci.md shows; and who may read
# this session's run.
# ----------------------------------------------------------------------------
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use IPC::Run ();
use JSON::PP ();
use TdgenTest;

my $root = "$FindBin::Bin/../..";
my $bindir = `pg_config --bindir`;
chomp $bindir;
my $client = "$bindir/tdgen_refresh";
my $url = "postgresql://ci_runner@/staging?host=$ENV{PGHOST}&port=$ENV{PGPORT}";
my ($rc, $out, $err);

# client(@args) -> ($exit_code, $stdout, $stderr)
sub client
{
	my ($out, $err) = ('', '');
	IPC::Run::run([$client, @_], '<', \'', '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# every row of every table of qa
sub fingerprint
{
	my @tables = split /\n/, sql('staging', q{SELECT c.relname FROM pg_class AS c
		WHERE c.relnamespace = 'qa'::regnamespace AND c.relkind = 'r' ORDER BY 1});
	return join(' ', map { sql('staging', qq{SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM qa."$_" AS t}) } @tables);
}

sub last_status
{
	return sql('staging', q{SELECT concat_ws(' ', status, coalesce(sqlstate, '-'), "trigger") FROM tdgen.run
		WHERE environment = 'qa' ORDER BY id DESC LIMIT 1});
}

sql('staging', q{DROP ROLE IF EXISTS ci_runner; DROP ROLE IF EXISTS ci_stranger; CREATE ROLE ci_runner LOGIN; CREATE ROLE ci_stranger LOGIN});
sql('staging', q{SELECT tdgen_grant('qa', 'refresh', 'ci_runner')});
# the copy transfer, the default, which docs/ci.md shows
sql('staging', q{SELECT tdgen_environment('qa', 'prod', options => '{"transfer": "copy"}')});
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('qa', on_busy => 'wait')});
is($rc, 0, 'qa refreshes before the client is tried') or diag($err);

# ---------------------------------------------------------------------------
# The GitHub Actions example, as written
# ---------------------------------------------------------------------------
open my $fh, '<', "$root/docs/ci.md" or die "docs/ci.md: $!\n";
my $doc = do { local $/; <$fh> };
close $fh;
my ($workflow) = $doc =~ /```yaml\n(# \.github\/workflows\/.*?)```/s;
ok(defined $workflow, 'docs/ci.md has a GitHub Actions workflow');
my (%run, $step);
my @lines = split /\n/, $workflow // '';
for (my $i = 0; $i < @lines; $i++)
{
	if ($lines[$i] =~ /^\s*- name: (.+)$/) { $step = $1; next; }
	next unless defined $step && $lines[$i] =~ /^(\s*)run: (.*)$/;
	my ($indent, $rest) = (length $1, $2);
	if ($rest eq '|')
	{
		my @body;
		push @body, $lines[++$i] =~ s/^\s+//r while $i + 1 < @lines && $lines[$i + 1] =~ /^\s{@{[$indent + 1]},}\S/;
		$run{$step} = join("\n", @body);
	}
	else
	{
		$run{$step} = $rest;
	}
}
ok(exists $run{'Build the client'} && exists $run{'Refresh QA data'}, 'with the steps Build the client and Refresh QA data');
my $work = tempdir(CLEANUP => 1);
symlink($root, "$work/tdgen") or die "symlink: $!\n";
my $printed = '';
foreach my $name ('Build the client', 'Refresh QA data')
{
	my ($sout, $serr) = ('', '');
	IPC::Run::run(['bash', '-e', '-c', $run{$name} // 'false'], '<', \'', '>', \$sout, '2>', \$serr,
		init => sub { chdir $work; $ENV{STAGING_URL} = $url; });
	is($? >> 8, 0, "the step \"$name\" runs as written") or diag("$sout\n$serr");
	$printed = $sout if $name eq 'Refresh QA data';
}
my $report = eval { JSON::PP::decode_json(do { local (@ARGV, $/) = ("$work/tdgen-report.json"); <> }) } // {};
is(join(' ', map { $_ // '-' } @$report{qw(format status trigger environment)}), 'tdgen.run/1 succeeded ci qa',
	'its report: the run succeeded, triggered by ci');

# the shape of what it printed: as docs/ci.md shows
my $shape = sub {
	my $line = shift;
	$line =~ s/^\s+//;
	$line =~ s/load \S+ \(/load TABLE (/;
	$line =~ s/\d+(\.\d+)?/N/g;
	return $line;
};
my ($sample) = $doc =~ /## What it prints\n.*?\n\n((?: {4}tdgen_refresh: [^\n]*\n)+)/s;
my %doc_shapes = map { $shape->($_) => 1 } grep { /\S/ } split /\n/, $sample // '';
my %real_shapes = map { $shape->($_) => 1 } grep { /\S/ } split /\n/, $printed;
ok(%doc_shapes && %real_shapes, 'docs/ci.md shows a run\'s output, and the client printed one');
is(join("\n", sort keys %real_shapes), join("\n", sort keys %doc_shapes),
	'every line printed has the shape of a line docs/ci.md shows, and the other way round');
like($printed, qr/^tdgen_refresh: qa: load public\.customers \(\d+ of \d+, \d+% done\), \d+\.\d s$/m, 'a line a table');

# ---------------------------------------------------------------------------
# Exit codes
# ---------------------------------------------------------------------------
($rc, $out, $err) = client('--dbname', $url, '--environment', 'qa', '--quiet');
is($rc, 0, 'succeeded: 0');
is($out, '', '--quiet prints nothing on success');

sql('prod', 'ALTER TABLE customers ADD COLUMN passport_no text');
($rc, $out, $err) = client('--dbname', $url, '--environment', 'qa');
is($rc, 2, 'refused by the gate: 2');
like($err, qr/passport_no/, 'naming the column');
sql('prod', 'ALTER TABLE customers DROP COLUMN passport_no');

my $ssn = sql('prod', 'SELECT ssn FROM employees WHERE id = 1');
sql('prod', q{UPDATE employees SET ssn = 'SECRET-not-an-ssn' WHERE id = 1});
($rc, $out, $err) = client('--dbname', $url, '--environment', 'qa');
is($rc, 1, 'failed (a value its rule cannot mask): 1');
unlike($out . $err, qr/SECRET/, 'printing nothing of the value');
sql('prod', qq{UPDATE employees SET ssn = '$ssn' WHERE id = 1});

my $holder = sql_bg('staging', [q{SELECT pg_advisory_lock(tdgen.refresh_lock_key('qa'))}, q{SELECT pg_sleep(3)}]);
sleep 1;
($rc, $out, $err) = client('--dbname', $url, '--environment', 'qa');
is($rc, 3, 'busy: 3');
is(last_status(), 'busy 55P03 ci', 'recorded as busy, triggered by ci');
($rc, $out, $err) = client('--dbname', $url, '--environment', 'qa', '--skip-if-busy');
is($rc, 3, 'skipped with --skip-if-busy: 3');
like($out, qr/^tdgen_refresh: qa: skipped after \d+\.\d s \(run \d+\): busy$/m, 'saying so');
is(last_status(), 'skipped - ci', 'recorded as skipped');
bg_finish($holder);

($rc, $out, $err) = client('--dbname', $url =~ s/ci_runner/ci_stranger/r, '--environment', 'qa');
is($rc, 4, 'denied (no refresh privilege): 4');
like($err, qr/permission denied to refresh environment 'qa'/, 'with the server\'s message');

($rc, $out, $err) = client('--dbname', 'host=/nonexistent', '--environment', 'qa');
is($rc, 5, 'cannot connect: 5');
($rc, $out, $err) = client('--dbname', $url);
is($rc, 64, 'no environment: bad usage, 64');
($rc, $out, $err) = client('--bogus');
is($rc, 64, 'an unknown option: 64');

# Ctrl-C: the refresh is cancelled, the target unchanged, the run recorded
my $good = fingerprint();
my $blocker = sql_bg('prod', 'BEGIN; LOCK TABLE hold_point IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT;');
sleep 1;
my ($cout, $cerr) = ('', '');
my $h = IPC::Run::start([$client, '--dbname', $url, '--environment', 'qa'], '<', \'', '>', \$cout, '2>', \$cerr);
is(poll_until('staging', q{SELECT table_name FROM tdgen.progress WHERE environment = 'qa' AND table_name = 'public.hold_point'},
	'public.hold_point', 15), 'public.hold_point', 'a refresh from the client waits on production');
$h->signal('INT');
$h->finish;
is($h->result, 130, 'SIGINT: the client exits with 130');
is(last_status(), 'cancelled 57014 ci', 'the run is recorded as cancelled');
is(fingerprint(), $good, 'and the target keeps its data');
is(sql('staging', q{SELECT count(*) FROM tdgen.leftover_schemas('qa')}), 0, 'no shadow schema is left');
like($cout, qr/qa: cancelling/, 'the client says it cancels');
bg_finish($blocker);

# tdgen_last_run: this session's run, for a role that may watch it
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen_last_run('qa')}, user => 'ci_stranger');
is(sqlstate($err), '42501', 'tdgen_last_run: a role that may not refresh the environment is refused (42501)');
is(sql('staging', [q{CALL tdgen_refresh('qa', on_busy => 'wait')},
	q{SELECT tdgen_last_run('qa') = (SELECT max(id) FROM tdgen.run WHERE environment = 'qa')}]), 't',
	'it names the run a CALL of this session just recorded');
is(sql('staging', q{SELECT tdgen_last_run('qa') IS NULL}), 't', 'and none in a session that recorded none');

sql('staging', q{SELECT tdgen_revoke('qa', 'refresh', 'ci_runner')});
sql('staging', q{DROP OWNED BY ci_runner, ci_stranger; DROP ROLE ci_runner, ci_stranger});
done_testing();
