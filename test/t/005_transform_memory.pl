# ----------------------------------------------------------------------------
# Memory that must not grow with the rows.
#
# Transforms that parse an argument (fpe's alphabet, jsonb_mask's spec,
# array_mask's transform and parameters) keep the parsed form per
# expression.  When the argument changes from row to row, the old parse must
# be freed: the backend's peak memory over 300,000 rows with varying
# arguments stays near that with constant ones.
# ----------------------------------------------------------------------------
use strict;
use warnings;
use Test::More;
use TdgenTest;

my $rows = 300000;
my $peak_kb = q{SELECT substring(pg_read_file('/proc/' || pg_backend_pid() || '/status') FROM 'VmHWM:\s+(\d+)')::int};

# the same three queries, their parsed argument constant or alternating
sub peak_after
{
	my ($vary) = @_;
	my $pick = sub { my ($a, $b) = @_; $vary ? "CASE WHEN g % 2 = 0 THEN $a ELSE $b END" : $a };
	return sql('staging', [
		sprintf(q{SELECT count(tdgen.jsonb_mask(jsonb_build_object('a', 'x' || g),
						jsonb_build_object('$.a', %s))) FROM generate_series(1, %d) AS g},
			$pick->(q{'hash'}, q{'email'}), $rows),
		sprintf(q{SELECT count(tdgen.array_mask(ARRAY['a' || g], %s)) FROM generate_series(1, %d) AS g},
			$pick->(q{'hash'}, q{'scramble'}), $rows),
		sprintf(q{SELECT count(tdgen.fpe_encrypt(lpad(g::text, 8, '0'), %s)) FROM generate_series(1, %d) AS g},
			$pick->(q{'0123456789'}, q{'9876543210'}), $rows),
		$peak_kb]) =~ s/.*\n//sr;
}

my $constant = peak_after(0);
my $varying = peak_after(1);
note("peak memory: $constant kB with constant arguments, $varying kB with varying ones");
cmp_ok($varying, '<', $constant + 32 * 1024,
	'arguments that change on every row do not pile up memory (peak within 32 MB of constant arguments)');

# The loader writes its batches in a context it resets: loading 500,000
# rows whose values get compressed on the way in keeps the backend's private
# memory (RssAnon, sampled every 0.1 s) small, where it used to grow with
# the rows.
sql('staging', 'CREATE TABLE load_memory (id int, body text)');
my $load = sql_bg('staging', [q{SELECT pg_backend_pid(), pg_sleep(0.5)},
	q{SELECT tdgen.load_rows('load_memory', $$SELECT g, repeat(md5(g::text), 100) FROM generate_series(1, 500000) AS g$$)}]);
my $pid = poll_until('staging', q{SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(0.5)%' AND pid <> pg_backend_pid()}, 'never', 0.3);
my $peak = 0;
while (defined $pid && open my $fh, '<', "/proc/$pid/status")
{
	my ($kb) = join('', <$fh>) =~ /^RssAnon:\s+(\d+)/m;
	close $fh;
	$peak = $kb if defined $kb && $kb > $peak;
	Time::HiRes::sleep(0.1);
}
my ($rc, $out) = bg_finish($load);
is(($rc || 0) . ' ' . sql('staging', 'SELECT count(*) FROM load_memory'), '0 500000', 'the loader loads 500,000 rows');
note('loader peak private memory: ' . int($peak / 1024) . ' MB');
cmp_ok($peak, '<', 64 * 1024, 'with its private memory under 64 MB throughout');
sql('staging', 'DROP TABLE load_memory');

done_testing();
