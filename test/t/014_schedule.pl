# ----------------------------------------------------------------------------
# Scheduled refreshes: cron times read in a time zone across both
# daylight-saving changes; the policies (min_interval and its forced
# override, window, retries of transient failures only, retention,
# notify); on_busy; the real pg_cron of the test cluster running a
# schedule as the role that made it, ten overlapping ticks on a busy
# environment, a schedule whose role lost refresh; who may do what; and a
# pg_dump restore brought back by tdgen_restore_schedules.
# ----------------------------------------------------------------------------
use strict;
use warnings;
use Test::More;
use Time::HiRes ();
use TdgenTest;

my ($rc, $out, $err);

# last_run($env) -> "status sqlstate trigger attempt" of its last run
sub last_run
{
	my $env = shift;
	return sql('staging', qq{SELECT concat_ws(' ', status, coalesce(sqlstate, '-'), "trigger", attempt) FROM tdgen.run
		WHERE environment = '$env' ORDER BY id DESC LIMIT 1});
}

sql('staging', 'DROP EXTENSION IF EXISTS pg_cron');
sql('prod', q{CREATE TABLE IF NOT EXISTS hold_point (v text); INSERT INTO hold_point SELECT 'x' WHERE NOT EXISTS (SELECT FROM hold_point)});
sql('staging', q{SELECT tdgen_source('prod', 'prod')});
sql('staging', q{SELECT tdgen_environment('sched', 'prod')});
owner_mapping('sched');
sql('staging', q{SELECT count(*) FROM tdgen_accept('sched')});
sql('staging', q{SELECT tdgen_keep(column_name, 'reviewed: nothing personal') FROM tdgen_check('sched') WHERE problem = 'unreviewed'});
sql('staging', q{DROP ROLE IF EXISTS sched_runner; DROP ROLE IF EXISTS sched_stranger; DROP ROLE IF EXISTS sched_lost;
	CREATE ROLE sched_runner LOGIN; CREATE ROLE sched_stranger LOGIN; CREATE ROLE sched_lost LOGIN});
sql('staging', q{SELECT tdgen_grant('sched', 'refresh', 'sched_runner')});

# ---------------------------------------------------------------------------
# Without pg_cron
# ---------------------------------------------------------------------------
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen_schedule('sched', '30 2 * * *')});
is(sqlstate($err), '0A000', 'without pg_cron, a schedule is refused: feature not supported (0A000)');
like($err, qr/shared_preload_libraries/, 'with a hint on installing and preloading it');

# ---------------------------------------------------------------------------
# Cron times in a time zone
# ---------------------------------------------------------------------------
my $runs = sub {
	my ($cron, $tz, $from, $n) = @_;
	return sql('staging', qq{SELECT string_agg(to_char(u AT TIME ZONE 'UTC', 'MM-DD HH24:MI'), ' ')
		FROM tdgen.cron_runs('$cron', '$tz', '$from', $n) AS u});
};
# Berlin: clocks go from 02:00 to 03:00 on 29 March 2026, from 03:00 back
# to 02:00 on 25 October 2026 (UTC times below)
is($runs->('30 2 * * *', 'Europe/Berlin', '2026-03-27', 4), '03-27 01:30 03-28 01:30 03-29 01:30 03-30 00:30',
	'02:30 Berlin every day, across the spring change: once on the switch day, at 03:30 local (the skipped hour read in winter time)');
is($runs->('30 2 * * *', 'Europe/Berlin', '2026-10-23', 4), '10-23 00:30 10-24 00:30 10-25 00:30 10-26 01:30',
	'and across the autumn change: once on the switch day, at the first 02:30');
is(sql('staging', q{SELECT count(*) FROM tdgen.cron_runs('0 * * * *', 'Europe/Berlin', '2026-03-28 23:00+00', 30,
	'2026-03-29 21:59+00')}), 23, 'hourly on the spring switch day: 23 runs (02:00 and 03:00 are one instant)');
is(sql('staging', q{SELECT count(*) FROM tdgen.cron_runs('0 * * * *', 'Europe/Berlin', '2026-10-24 22:00+00', 30,
	'2026-10-25 22:59+00')}), 24, 'hourly on the autumn switch day: 24 runs (the repeated 02:00 runs once)');
is($runs->('30 2 * * *', 'America/New_York', '2026-03-07', 3), '03-07 07:30 03-08 07:30 03-09 06:30',
	'New York, whose clocks change on other days, the same way');
is($runs->('*/30 * * * *', 'Europe/Berlin', '2026-10-25 00:00+00', 5), '10-25 00:00 10-25 00:30 10-25 02:00 10-25 02:30 10-25 03:00',
	'every half hour in the repeated hour: the second 02:00 and 02:30 do not run again');
is($runs->('0 9 * * mon-fri', 'UTC', '2026-12-04 10:00+00', 2), '12-07 09:00 12-08 09:00', 'names of weekdays, in UTC');
is($runs->('0 0 1,15 * 5', 'UTC', '2026-12-01 01:00+00', 3), '12-04 00:00 12-11 00:00 12-15 00:00',
	'a day of month and a day of week: either, as cron has it');
is($runs->('0 0 29 2 *', 'UTC', '2026-12-01', 1), '02-29 00:00', '29 February, four years ahead');
is(sql('staging', q{SELECT tdgen.cron_job_schedule('30 2 * * *', 'Europe/Berlin')}), '30 0,1 * * *',
	'the pg_cron job of 02:30 Berlin fires at 00:30 and 01:30 UTC, one of which is 02:30 local');
is(sql('staging', q{SELECT tdgen.cron_job_schedule('0 3 1,15 * sun', 'UTC')}), '0 3 1,15 * 0', 'in UTC, the schedule itself');
is(sql('staging', q{SELECT tdgen.cron_job_schedule('*/20 9 * * *', 'Asia/Kolkata')}), '10,30,50 3,4 * * *',
	'a zone half an hour off UTC moves the minutes');
foreach my $bad ('61 * * * *', '* * * *', '*/0 * * * *', 'x * * * *', '5-2 * * * *')
{
	($rc, $out, $err) = sql_result('staging', qq{SELECT tdgen.cron_fields('$bad')});
	is(sqlstate($err), '22023', "cron '$bad' is refused (22023)");
}
is(sql('staging', q{SELECT tdgen.in_window('22:00-06:00', '2026-12-06 23:30+00', 'UTC')::text
	|| tdgen.in_window('22:00-06:00', '2026-12-06 12:00+00', 'UTC')::text
	|| tdgen.in_window('08:00-17:00', '2026-12-06 12:00+00', 'Europe/Berlin')::text}), 'truefalsetrue',
	'a window of local hours, over midnight too');

# ---------------------------------------------------------------------------
# Policies
# ---------------------------------------------------------------------------
foreach my $bad ('{"min_interval": "soon"}', '{"min_interval": "-1 hour"}', '{"window": "25:00-01:00"}',
	'{"window": "06:00-06:00"}', '{"retries": 11}', '{"retry_delay": "2 hours"}', '{"retention": 30}', '{"notify": "yes"}')
{
	($rc, $out, $err) = sql_result('staging', qq{SELECT tdgen_environment('sched', 'prod', options => '$bad')});
	is(sqlstate($err), '22023', "option $bad is refused when written (22023)");
}

($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('sched')});
is($rc, 0, 'a first refresh') or diag($err);
sql('staging', q{SELECT tdgen_environment('sched', 'prod', options => '{"min_interval": "1 hour"}')});
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('sched')});
is(sqlstate($err), 'TG003', 'min_interval: a refresh sooner than that after the last success is refused (TG003)');
is(last_run('sched'), 'denied TG003 manual 1', 'and recorded as denied');
like(sql('staging', q{SELECT reason FROM tdgen.run WHERE environment = 'sched' ORDER BY id DESC LIMIT 1}),
	qr/min_interval 1 hour/, 'with the reason');
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('sched', force => true)}, user => 'sched_runner');
is(sqlstate($err), '42501', 'a role that may refresh, but does not own the environment, may not force it (42501)');
is(sql('staging', q{SELECT status || ' ' || reason FROM tdgen.run WHERE environment = 'sched' ORDER BY id DESC LIMIT 1}),
	'denied force needs the owner or a superuser', 'recorded as denied, with why');
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('sched', force => true)});
is($rc, 0, 'a superuser forces it') or diag($err);
is(sql('staging', q{SELECT status || ' ' || (policy ->> 'forced') || ' ' || (policy ->> 'min_interval')
	FROM tdgen.run WHERE environment = 'sched' ORDER BY id DESC LIMIT 1}), 'succeeded true 1 hour',
	'and the override is recorded with the policy applied');

# notify: a listener gets the payload once the run row is committed
sql('staging', q{SELECT tdgen_environment('sched', 'prod', options => '{"notify": true}')});
my $listener = sql_bg('staging', [q{LISTEN tdgen_run}, q{SELECT pg_sleep(5)}]);
sleep 1;
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('sched')});
my $run = sql('staging', q{SELECT max(id) FROM tdgen.run WHERE environment = 'sched'});
(undef, $out) = bg_finish($listener);
like($out, qr/Asynchronous notification "tdgen_run" with payload "\{[^\n]*"run": $run,[^\n]*"status": "succeeded"/,
	'notify: LISTEN tdgen_run receives the run, committed as succeeded');
like($out, qr/"environment": "sched"/, 'with its environment in the payload');

# retention: older history pruned when a refresh starts, the last success kept
sql('staging', q{UPDATE tdgen.run SET started_at = started_at - interval '10 days', finished_at = finished_at - interval '10 days'
	WHERE environment = 'sched'});
my $old = sql('staging', q{SELECT count(*) FROM tdgen.run WHERE environment = 'sched'});
sql('staging', q{SELECT tdgen_environment('sched', 'prod', options => '{"retention": "7 days"}')});
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('sched')});
is(sql('staging', q{SELECT count(*) FROM tdgen.run WHERE environment = 'sched'}), 2,
	'retention: runs older than it are pruned at the start of a refresh, all but the last success');
is(sql('staging', q{SELECT policy ->> 'pruned' FROM tdgen.run WHERE environment = 'sched' ORDER BY id DESC LIMIT 1}), $old - 1,
	'and the run records how many');

# on_busy: skip returns at once, recorded; fail refuses (55P03)
my $holder = sql_bg('staging', [q{SELECT pg_advisory_lock(tdgen.refresh_lock_key('sched'))}, q{SELECT pg_sleep(4)}]);
sleep 1;
my $t0 = Time::HiRes::time();
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('sched', on_busy => 'skip')});
my $took = Time::HiRes::time() - $t0;
is($rc, 0, 'on_busy skip: no error while another refresh holds the environment') or diag($err);
cmp_ok($took, '<', 1, 'and it returns at once');
is(sql('staging', q{SELECT status || ' ' || reason FROM tdgen.run WHERE environment = 'sched' ORDER BY id DESC LIMIT 1}),
	'skipped busy', 'recorded as skipped, busy');
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('sched', on_busy => 'now')});
is(sqlstate($err), '22023', 'an unknown on_busy is refused (22023)');
bg_finish($holder);

# window: a scheduled run outside it is skipped (a schedule that named a
# time two minutes ago, which pg_cron will not fire again today)
sql('staging', 'CREATE EXTENSION pg_cron');
sql('staging', q{SELECT tdgen_schedule('sched', '30 2 * * *', tz => 'Europe/Berlin')});
is(sql('staging', q{SELECT string_agg(to_char(u AT TIME ZONE 'UTC', 'MM-DD HH24:MI'), ' ')
	FROM tdgen_next_runs('sched', '2026-03-28', 2) AS u}) . ' ' . sql('staging', q{SELECT string_agg(to_char(u AT TIME ZONE 'UTC', 'MM-DD HH24:MI'), ' ')
	FROM tdgen_next_runs('sched', '2026-10-24', 3) AS u}), '03-28 01:30 03-29 01:30 10-24 00:30 10-25 00:30 10-26 01:30',
	'tdgen_next_runs across both changes: one run each day at 02:30 Berlin time (03:30 on the spring switch day)');
my $past = sql('staging', q{SELECT to_char(now() - interval '2 minutes', 'FMMI FMHH24') || ' * * *'});
sql('staging', qq{SELECT tdgen_schedule('sched', '$past')});
my $outside = sql('staging', q{SELECT to_char(now() + interval '3 hours', 'HH24:MI') || '-' || to_char(now() + interval '4 hours', 'HH24:MI')});
my $inside = sql('staging', q{SELECT to_char(now() - interval '1 hour', 'HH24:MI') || '-' || to_char(now() + interval '1 hour', 'HH24:MI')});
sql('staging', qq{SELECT tdgen_environment('sched', 'prod', options => '{"window": "$outside"}')});
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('sched', on_busy => 'skip', "trigger" => 'cron')});
is($rc, 0, 'window: a scheduled run outside it ends without error') or diag($err);
like(sql('staging', q{SELECT concat_ws(' ', status, "trigger", reason, scheduled_for IS NOT NULL) FROM tdgen.run
	WHERE environment = 'sched' ORDER BY id DESC LIMIT 1}), qr/^skipped cron outside the window .* t$/,
	'and is recorded as skipped, outside the window, for its scheduled time');
sql('staging', qq{SELECT tdgen_environment('sched', 'prod', options => '{"window": "$inside"}')});
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('sched', on_busy => 'skip', "trigger" => 'cron')});
is(last_run('sched'), 'succeeded - cron 1', 'inside the window, the scheduled time runs');
my $count = sql('staging', q{SELECT count(*) FROM tdgen.run WHERE environment = 'sched'});
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('sched', on_busy => 'skip', "trigger" => 'cron')});
is(sql('staging', q{SELECT count(*) FROM tdgen.run WHERE environment = 'sched'}), $count,
	'a tick when the time is taken does nothing, and records nothing');

# retries: a transient failure (production's backend terminated mid-load)
# is tried again and succeeds; the gate's refusal never is
sql('staging', q{SELECT tdgen_environment('sched', 'prod', options => '{"retries": 2, "retry_delay": "1 second"}')});
my $blocker = sql_bg('prod', 'BEGIN; LOCK TABLE hold_point IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(5); COMMIT;');
sleep 1;
my $refresh = sql_bg('staging', q{CALL tdgen_refresh('sched')});
is(poll_until('staging', q{SELECT table_name FROM tdgen.progress WHERE environment = 'sched' AND table_name = 'public.hold_point'},
	'public.hold_point', 10), 'public.hold_point', 'retries: a refresh waits on production');
sql('prod', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'prod' AND application_name IN ('postgres_fdw', 'tdgen')});
($rc, $out, $err) = bg_finish($refresh);
is($rc || 0, 0, 'production\'s backend terminated mid-load: the refresh succeeds on its second attempt') or diag($err);
like($err, qr/attempt 1 failed with SQLSTATE (08|57).*trying again/, 'saying so');
is(sql('staging', q{SELECT string_agg(status || ' ' || attempt, ', ' ORDER BY id) FROM (SELECT * FROM tdgen.run
	WHERE environment = 'sched' ORDER BY id DESC LIMIT 2) AS r}), 'failed 1, succeeded 2', 'each attempt recorded');
bg_finish($blocker);
sql('prod', 'ALTER TABLE customers ADD COLUMN passport_no text');
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('sched')});
is(sqlstate($err), 'TG001', 'the gate refuses a new column');
is(last_run('sched'), 'failed TG001 manual 1', 'and is not tried again');
unlike($err, qr/trying again/, 'no retry announced');
sql('prod', 'ALTER TABLE customers DROP COLUMN passport_no');
sql('staging', q{SELECT tdgen_environment('sched', 'prod')});

# ---------------------------------------------------------------------------
# Who may do what
# ---------------------------------------------------------------------------
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen_schedule('sched', '* * * * *')}, user => 'sched_stranger');
is(sqlstate($err), '42501', 'a role that may not refresh may not schedule (42501)');
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen_unschedule('sched')}, user => 'sched_runner');
is(sqlstate($err), '42501', 'nor may a refresh grantee remove another role\'s schedule (42501)');
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen_schedule('sched', '* * * * *')}, user => 'sched_runner');
is(sqlstate($err), '42501', 'or replace it (42501)');
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen_restore_schedules()}, user => 'sched_runner');
is(sqlstate($err), '42501', 'only tdgen_admin restores schedules (42501)');
($rc, $out, $err) = sql_result('staging', q{SELECT * FROM tdgen_next_runs('sched')}, user => 'sched_stranger');
is(sqlstate($err), '42501', 'a stranger may not read the next runs (42501)');
($rc, $out, $err) = sql_result('staging', q{SELECT * FROM tdgen_progress('sched')}, user => 'sched_stranger');
is(sqlstate($err), '42501', 'nor the progress (42501)');
is(sql('staging', q{SELECT count(*) FROM tdgen_status()}, user => 'sched_stranger'), 0, 'tdgen_status shows a stranger nothing');
($rc, $out, $err) = sql_result('staging', qq{SELECT tdgen_report($run)}, user => 'sched_stranger');
is(sqlstate($err), '42501', 'nor may it read a run\'s report (42501)');
is(sql('staging', qq{SELECT tdgen_report($run) ->> 'status'}, user => 'sched_runner'), 'succeeded',
	'a role that may refresh the environment reads its reports');
($rc, $out, $err) = sql_result('staging', q{SELECT * FROM tdgen.metrics}, user => 'sched_stranger');
is(sqlstate($err), '42501', 'tdgen.metrics is for monitoring roles (42501)');
sql('staging', q{GRANT pg_monitor TO sched_stranger});
is(sql('staging', q{SELECT last_succeeded || ' ' || (seconds_since_success < 600) || ' ' || failures_24h FROM tdgen.metrics
	WHERE environment = 'sched'}, user => 'sched_stranger'), '0 true 2',
	'which pg_monitor reads: the last run failed, a success minutes ago, two failures in 24 hours');
sql('staging', q{REVOKE pg_monitor FROM sched_stranger});
is(sql('staging', q{SELECT string_agg(environment || ' ' || (last_success IS NOT NULL) || ' ' || last_status, ', ')
	FROM tdgen_status() WHERE environment = 'sched'}, user => 'sched_runner'), 'sched true failed',
	'tdgen_status: the last success and the last run');
sql('staging', q{INSERT INTO tdgen.run (environment, source, target_schema, role, backend_pid)
	VALUES ('sched', 'prod', 'sched', 'postgres', 2147483000)});
is(sql('staging', q{SELECT (running_run IS NOT NULL) || ' ' || backend_gone FROM tdgen_status() WHERE environment = 'sched'}),
	'true true', 'tdgen_status flags a run still marked running whose session is gone');
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_refresh('sched')});
is(sql('staging', q{SELECT status || ' ' || sqlstate FROM tdgen.run WHERE environment = 'sched' AND backend_pid = 2147483000}),
	'failed 57P01', 'which the next refresh closes as failed');
like(sql('staging', q{SELECT command FROM cron.job WHERE jobname = 'tdgen refresh sched'}),
	qr/^CALL public\.tdgen_refresh\(environment => 'sched', on_busy => 'skip', "trigger" => 'cron', force => false\)$/,
	'the job is one schema-qualified CALL, every argument named');

# ---------------------------------------------------------------------------
# pg_cron runs the schedule
# ---------------------------------------------------------------------------
sql('staging', q{SELECT tdgen_unschedule('sched')});
sql('staging', q{SELECT tdgen_schedule('sched', '* * * * *')}, user => 'sched_runner');
is(sql('staging', q{SELECT username FROM cron.job WHERE jobname = 'tdgen refresh sched'}), 'sched_runner',
	'the job runs as the role that scheduled it');
is(poll_until('staging', q{SELECT count(*) > 0 FROM tdgen.run WHERE environment = 'sched' AND "trigger" = 'cron'
	AND status = 'succeeded' AND role = 'sched_runner' AND started_at > now() - interval '2 minutes'}, 't', 75), 't',
	'pg_cron runs the schedule: a refresh recorded with trigger cron, as its role');

# ten overlapping ticks on a busy environment; and a schedule whose role
# lost refresh
sql('staging', q{SELECT tdgen_environment('sched_denied', 'prod')});
owner_mapping('sched_denied');
sql('staging', q{SELECT tdgen_grant('sched_denied', 'refresh', 'sched_lost')});
sql('staging', q{SELECT tdgen_schedule('sched_denied', '* * * * *')}, user => 'sched_lost');
sql('staging', q{SELECT tdgen_revoke('sched_denied', 'refresh', 'sched_lost')});
# busy until past the next minute's ticks
my $wait = sql('staging', q{SELECT ceil(60 - extract(second FROM clock_timestamp()) + 8)});
$holder = sql_bg('staging', [q{SELECT pg_advisory_lock(tdgen.refresh_lock_key('sched'))}, qq{SELECT pg_sleep($wait)}]);
sleep 1;
sql('staging', q{SELECT cron.schedule_in_database('tdgen tick ' || n, '* * * * *', (SELECT command FROM cron.job WHERE jobname = 'tdgen refresh sched'),
	current_database(), 'sched_runner') FROM generate_series(1, 9) AS n});
my $minute = sql('staging', q{SELECT date_trunc('minute', clock_timestamp()) + interval '1 minute'});
is(poll_until('staging', qq{SELECT count(*) FROM tdgen.run WHERE environment = 'sched' AND scheduled_for = '$minute'},
	'10', 75), '10', 'ten overlapping ticks on a busy environment: ten runs');
is(sql('staging', qq{SELECT string_agg(DISTINCT status || ' ' || reason, ',') FROM tdgen.run
	WHERE environment = 'sched' AND scheduled_for = '$minute'}), 'skipped busy', 'all skipped, busy');
is(poll_until('staging', qq{SELECT count(*) FILTER (WHERE d.status = 'succeeded' AND d.end_time - d.start_time < interval '5 seconds')
	|| '/' || count(*) FROM cron.job_run_details AS d JOIN cron.job AS j USING (jobid)
	WHERE j.username = 'sched_runner' AND d.start_time >= '$minute'}, '10/10', 20), '10/10',
	'each tick ended at once, none left queued or running');
is(poll_until('staging', q{SELECT concat_ws(' ', status, sqlstate, "trigger", role) FROM tdgen.run
	WHERE environment = 'sched_denied' ORDER BY id DESC LIMIT 1}, 'denied 42501 cron sched_lost', 20),
	'denied 42501 cron sched_lost', 'a schedule whose role may no longer refresh: its run recorded as denied (42501)');
like(sql('staging', q{SELECT d.return_message FROM cron.job_run_details AS d JOIN cron.job AS j USING (jobid)
	WHERE j.jobname = 'tdgen refresh sched_denied' ORDER BY d.runid DESC LIMIT 1}), qr/permission denied to refresh/,
	'and pg_cron logs the failure');
bg_finish($holder);
sql('staging', q{SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE 'tdgen tick %'});
sql('staging', q{SELECT cron.alter_job(jobid, active => false) FROM cron.job WHERE jobname LIKE 'tdgen refresh %'});
is(sql('staging', q{SELECT tdgen_unschedule('sched_denied')}), 't', 'a superuser removes a role\'s schedule');
is(sql('staging', q{SELECT tdgen_unschedule('sched')}, user => 'sched_runner'), 't', 'its role removes its own');
is(sql('staging', q{SELECT count(*) FROM cron.job WHERE jobname LIKE 'tdgen refresh %'}), 0, 'unschedule removes the pg_cron jobs');
is(sql('staging', q{SELECT tdgen_unschedule('sched')}), 'f', 'unschedule of no schedule: false');
sql('staging', q{SELECT tdgen_drop_environment('sched_denied')});

# ---------------------------------------------------------------------------
# A restore of pg_dump
# ---------------------------------------------------------------------------
sql('staging', q{SELECT tdgen_schedule('sched', '15 3 * * *', tz => 'Europe/Berlin')}, user => 'sched_runner');
poll_until('staging', q{SELECT count(*) FROM tdgen.run WHERE status = 'running'}, '0', 30);
my $job_before = sql('staging', q{SELECT schedule || ' ' || username || ' ' || command FROM cron.job WHERE jobname = 'tdgen refresh sched'});
my $dump = "$ENV{TDGEN_CLUSTER_DIR}/staging.dump";
IPC::Run::run(['pg_dump', '-Fc', '-f', $dump, 'staging'], '>', \$out, '2>', \$err) or die "pg_dump: $err\n";
sql('postgres', 'DROP DATABASE staging WITH (FORCE)');
sql('postgres', 'CREATE DATABASE staging TEMPLATE template0');
my $restored = IPC::Run::run(['pg_restore', '--exit-on-error', '-d', 'staging', $dump], '>', \$out, '2>', \$err);
ok($restored, 'pg_dump of staging restores') or diag($err);
is(sql('staging', q{SELECT cron || ' ' || tz || ' ' || role FROM tdgen.environment_schedule WHERE environment = 'sched'}),
	'15 3 * * * Europe/Berlin sched_runner', 'the schedule is back with tdgen\'s catalog');
sql('staging', q{SELECT cron.unschedule(jobid) FROM cron.job});
is(sql('staging', q{SELECT tdgen_restore_schedules()}), 1, 'tdgen_restore_schedules makes its missing pg_cron job');
is(sql('staging', q{SELECT schedule || ' ' || username || ' ' || command FROM cron.job WHERE jobname = 'tdgen refresh sched'}),
	$job_before, 'as it was');
is(sql('staging', q{SELECT job_id = (SELECT jobid FROM cron.job WHERE jobname = 'tdgen refresh sched') FROM tdgen.schedule
	WHERE environment = 'sched'}), 't', 'tdgen.schedule names it');
is(sql('staging', q{SELECT tdgen_restore_schedules()}), 0, 'a second call finds nothing to make');
sql('staging', q{SELECT tdgen_unschedule('sched')});
sql('staging', 'DROP EXTENSION pg_cron');

sql('staging', q{SELECT tdgen_drop_environment('sched')});
sql('staging', 'DROP SCHEMA IF EXISTS sched CASCADE; DROP SCHEMA IF EXISTS sched_denied CASCADE');
sql('staging', q{DROP OWNED BY sched_runner, sched_stranger, sched_lost; DROP ROLE sched_runner, sched_stranger, sched_lost});
unlink $dump;
done_testing();
