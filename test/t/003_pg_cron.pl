# ----------------------------------------------------------------------------
# pg_cron is preloaded and runs a job in the staging database, where tdgen
# will schedule its refreshes.
# ----------------------------------------------------------------------------
use strict;
use warnings;
use Test::More;
use TdgenTest;

like(sql('staging', 'SHOW shared_preload_libraries'), qr/\bpg_cron\b/, 'pg_cron is preloaded');
is(sql('staging', 'SHOW cron.database_name'), 'staging', 'pg_cron runs jobs from staging');

sql('staging', 'CREATE EXTENSION IF NOT EXISTS pg_cron');
sql('staging', 'DROP TABLE IF EXISTS cron_probe; CREATE TABLE cron_probe (ran_at timestamptz NOT NULL)');
my $job = sql('staging', q{SELECT cron.schedule('tdgen-probe', '* * * * *', 'INSERT INTO cron_probe VALUES (now())')});
like($job, qr/^\d+$/, 'a job is scheduled');

# pg_cron fires at the start of each minute.
is(poll_until('staging', 'SELECT count(*) > 0 FROM cron_probe', 't', 90), 't', 'the job ran within 90 s');
is(poll_until('staging', "SELECT status FROM cron.job_run_details WHERE jobid = $job ORDER BY runid LIMIT 1", 'succeeded', 30),
	'succeeded', 'pg_cron recorded the run as succeeded');

sql('staging', "SELECT cron.unschedule('tdgen-probe')");
sql('staging', 'DROP TABLE cron_probe; DROP EXTENSION pg_cron');
done_testing();
