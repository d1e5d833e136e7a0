#!/usr/bin/perl
# ----------------------------------------------------------------------------
# run_tap.pl
#     Run the scenario tests (TAP) one file after another and print
#     "TAP totals: N passed, N failed", counting assertions; a file that dies
#     or misses its plan counts as one more failure.
# ----------------------------------------------------------------------------
use strict;
use warnings;
use FindBin;
use TAP::Harness;

my $harness = TAP::Harness->new({
	lib       => ["$FindBin::Bin/lib"],
	verbosity => 1,
	failures  => 1,
	color     => 0,
});
my $agg = $harness->runtests(@ARGV);

my ($passed, $failed) = (0, 0);
for my $file ($agg->descriptions) {
	my ($parser) = $agg->parsers($file);
	$passed += scalar $parser->passed;
	$failed += scalar $parser->failed;
	$failed++ if $parser->has_problems && !$parser->failed;
}
print "TAP totals: $passed passed, $failed failed\n";
exit($failed ? 1 : 0);
