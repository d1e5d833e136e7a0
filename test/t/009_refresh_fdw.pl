# ----------------------------------------------------------------------------
# The refresh scenarios of 008 again with transfer 'fdw': the generic path
# through postgres_fdw's foreign tables keeps every invariant the copy path
# keeps (fail safe, one snapshot, weird identifiers, canaries).
# ----------------------------------------------------------------------------
use strict;
use warnings;
use FindBin;

$ENV{TDGEN_TRANSFER} = 'fdw';
my $scenarios = "$FindBin::Bin/008_refresh.pl";
do $scenarios or die($@ || "cannot run $scenarios: $!");
