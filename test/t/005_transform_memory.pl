# ----------------------------------------------------------------------------
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

done_testing();
