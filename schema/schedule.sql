-- ===========================================================================
-- schema/schedule.sql
--     Refreshes that run by themselves: an environment's schedule, kept in
--     tdgen's catalog, and the pg_cron job derived from it; cron times
--     read in a time zone across daylight-saving changes; and what watches
--     refreshes (tdgen_status, tdgen_progress, tdgen.metrics).
--
-- pg_cron 1.4 reads its schedules in UTC.  The job tdgen derives fires at
-- every UTC minute on which one of the schedule's local times can fall, in
-- any offset its zone uses; each tick calls tdgen_refresh, which runs only
-- when a time of the schedule has come and no run has taken it yet
-- (tdgen.schedule_due).  A local time the clocks skip runs at that time in
-- the offset before the change (02:30 on the night clocks go from 02:00 to
-- 03:00 runs at 03:30, once even if 03:30 is scheduled too); a local time
-- that happens twice runs once, the first time.
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- Cron times
-- ---------------------------------------------------------------------------

-- The values of one field of a cron schedule, from lo to hi: a list of
-- "*", "a", "a-b", each maybe "/step", numbers or names (names[1] is lo).
-- 22023 naming the field (what) when it is not.
CREATE FUNCTION tdgen.cron_field(spec text, lo integer, hi integer, names text[], what text)
RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	part text;
	range text;
	bounds text[];
	step integer;
	a integer;
	b integer;
	v integer[] := '{}';
	x text;
BEGIN
	FOREACH part IN ARRAY string_to_array(lower(spec), ',') LOOP
		range := split_part(part, '/', 1);
		x := CASE WHEN part LIKE '%/%' THEN substr(part, length(range) + 2) END;
		IF (CASE WHEN x IS NULL THEN false WHEN x !~ '^[0-9]{1,2}$' THEN true ELSE x::integer = 0 END) THEN
			RAISE EXCEPTION 'cron % field %: step % is not a number from 1 to 99', what, quote_literal(spec), quote_literal(x)
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		step := coalesce(x::integer, 1);
		IF range = '*' THEN
			a := lo;
			b := hi;
		ELSE
			bounds := string_to_array(range, '-');
			IF cardinality(bounds) NOT IN (1, 2) THEN
				bounds := ARRAY[NULL];
			END IF;
			FOR i IN 1 .. cardinality(bounds) LOOP
				bounds[i] := CASE WHEN bounds[i] ~ '^[0-9]{1,2}$' THEN bounds[i]
								  WHEN array_position(names, bounds[i]) IS NOT NULL
								  THEN (lo + array_position(names, bounds[i]) - 1)::text END;
			END LOOP;
			IF array_position(bounds, NULL) IS NOT NULL THEN
				RAISE EXCEPTION 'cron % field %: % is not a value, a range or *', what, quote_literal(spec), quote_literal(part)
					USING ERRCODE = 'invalid_parameter_value',
						  HINT = format('A %s is from %s to %s%s; fields are lists of values, ranges a-b and *, each maybe /step.', what, lo,
										hi, CASE WHEN names IS NOT NULL THEN format(', or a name (%s)', array_to_string(names, ', ')) ELSE '' END);
			END IF;
			a := bounds[1]::integer;
			b := CASE WHEN cardinality(bounds) = 2 THEN bounds[2]::integer WHEN x IS NOT NULL THEN hi ELSE a END;
			IF a < lo OR b > hi OR a > b THEN
				RAISE EXCEPTION 'cron % field %: % is out of range', what, quote_literal(spec), quote_literal(part)
					USING ERRCODE = 'invalid_parameter_value', HINT = format('A %s is from %s to %s.', what, lo, hi);
			END IF;
		END IF;
		v := v || ARRAY(SELECT generate_series(a, b, step));
	END LOOP;
	RETURN ARRAY(SELECT DISTINCT y FROM unnest(v) AS y ORDER BY 1);
END
$$;

-- A cron schedule's five fields (minute, hour, day of month, month, day
-- of week; or @hourly, @daily, @weekly, @monthly, @yearly) as the values
-- each allows.  A day matches when both day fields allow it, or, when
-- neither is "*", when either does (as cron has it).
CREATE FUNCTION tdgen.cron_fields(cron text, OUT minutes integer[], OUT hours integer[], OUT days integer[],
								  OUT months integer[], OUT weekdays integer[], OUT any_day boolean, OUT any_weekday boolean)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	f text[] := regexp_split_to_array(btrim(CASE lower(btrim(cron))
												 WHEN '@hourly' THEN '0 * * * *'
												 WHEN '@daily' THEN '0 0 * * *'
												 WHEN '@midnight' THEN '0 0 * * *'
												 WHEN '@weekly' THEN '0 0 * * 0'
												 WHEN '@monthly' THEN '0 0 1 * *'
												 WHEN '@yearly' THEN '0 0 1 1 *'
												 WHEN '@annually' THEN '0 0 1 1 *'
												 ELSE cron END), '\s+');
BEGIN
	IF cron IS NULL OR cardinality(f) <> 5 THEN
		RAISE EXCEPTION 'cron schedule % does not have five fields', coalesce(quote_literal(cron), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Minute, hour, day of month, month, day of week, as in "30 2 * * *" (02:30 every day); or @hourly, @daily, @weekly, @monthly, @yearly.';
	END IF;
	minutes := tdgen.cron_field(f[1], 0, 59, NULL, 'minute');
	hours := tdgen.cron_field(f[2], 0, 23, NULL, 'hour');
	days := tdgen.cron_field(f[3], 1, 31, NULL, 'day of month');
	months := tdgen.cron_field(f[4], 1, 12, '{jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec}', 'month');
	-- 0 and 7 are Sunday
	weekdays := ARRAY(SELECT DISTINCT d % 7 FROM unnest(tdgen.cron_field(f[5], 0, 7, '{sun,mon,tue,wed,thu,fri,sat}', 'day of week')) AS d
					  ORDER BY 1);
	any_day := f[3] LIKE '*%';
	any_weekday := f[5] LIKE '*%';
END
$$;

-- The instant a local time (wall) of zone tz names: the first, when the
-- clocks go back over it; when they skip it, the instant it would be in
-- the offset before the change.
CREATE FUNCTION tdgen.local_instant(wall timestamp, tz text)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN (WITH o AS (
			-- the zone's offsets a day before and a day after (changes are
			-- months apart), as candidates read in each
			SELECT (wall - ((w - interval '1 day') AT TIME ZONE tz - (w - interval '1 day') AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC' AS before,
				   (wall - ((w + interval '1 day') AT TIME ZONE tz - (w + interval '1 day') AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC' AS after
			FROM (SELECT wall AT TIME ZONE 'UTC' AS w) AS x)
		SELECT CASE WHEN least(o.before, o.after) AT TIME ZONE tz = wall THEN least(o.before, o.after)
					WHEN greatest(o.before, o.after) AT TIME ZONE tz = wall THEN greatest(o.before, o.after)
					ELSE o.before END
		FROM o);

-- The times a cron schedule read in zone tz names, from "from" on (and
-- up to until), at most n, in order; each instant once.  Eight years of
-- days at most are searched (a 29 February may be that far).
CREATE FUNCTION tdgen.cron_runs(cron text, tz text, "from" timestamptz, n integer, until timestamptz DEFAULT 'infinity')
RETURNS SETOF timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	f record := tdgen.cron_fields(cron);
	start timestamp := "from" AT TIME ZONE tz;
	day date := start::date;
	last date := start::date + 366 * 8;
	wall timestamp;
	u timestamptz;
	prev timestamptz := '-infinity';
	found integer := 0;
	h integer;
	m integer;
BEGIN
	WHILE day <= last AND found < n LOOP
		IF extract(month FROM day)::integer = ANY (f.months)
		   AND (CASE WHEN f.any_day AND f.any_weekday THEN true
					 WHEN f.any_day THEN extract(dow FROM day)::integer = ANY (f.weekdays)
					 WHEN f.any_weekday THEN extract(day FROM day)::integer = ANY (f.days)
					 ELSE extract(day FROM day)::integer = ANY (f.days) OR extract(dow FROM day)::integer = ANY (f.weekdays) END) THEN
			FOREACH h IN ARRAY f.hours LOOP
				FOREACH m IN ARRAY f.minutes LOOP
					wall := day + make_time(h, m, 0);
					-- no offset change moves a time by two hours
					CONTINUE WHEN wall < start - interval '2 hours';
					u := tdgen.local_instant(wall, tz);
					IF u > until THEN
						RETURN;
					END IF;
					IF u >= "from" AND u > prev THEN
						RETURN NEXT u;
						prev := u;
						found := found + 1;
						EXIT WHEN found >= n;
					END IF;
				END LOOP;
				EXIT WHEN found >= n;
			END LOOP;
		END IF;
		day := day + 1;
	END LOOP;
END
$$;

-- Raise 22023 unless tz names a time zone of the zone database (not an
-- abbreviation or a POSIX offset, whose sign reads backwards).
CREATE FUNCTION tdgen.check_timezone(tz text)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF tz IS NULL OR NOT EXISTS (SELECT FROM pg_timezone_names AS z WHERE z.name = tz) THEN
		RAISE EXCEPTION 'time zone % is not a zone name', coalesce(quote_literal(tz), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Name a zone of pg_timezone_names, such as ''Europe/Berlin'' or ''UTC''.';
	END IF;
END
$$;

-- The UTC schedule of the pg_cron job for a cron schedule read in zone
-- tz: the same fields in a zone that is always UTC; else the UTC minutes
-- and hours on which one of its times falls in any offset the zone has
-- used or will use within two years, every day.
CREATE FUNCTION tdgen.cron_job_schedule(cron text, tz text)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	WITH f AS (
		SELECT * FROM tdgen.cron_fields(cron)
	), offsets AS (
		SELECT DISTINCT (extract(epoch FROM u AT TIME ZONE tz - u AT TIME ZONE 'UTC') / 60)::integer AS o
		FROM generate_series(now() - interval '2 years', now() + interval '2 years', interval '1 day') AS u
	), utc AS (
		SELECT DISTINCT ((h * 60 + m - o.o) % 1440 + 1440) % 1440 AS t
		FROM f, unnest(f.hours) AS h, unnest(f.minutes) AS m, offsets AS o
	), list AS (
		-- a field's values as cron lists them, * for all of lo..hi
		SELECT x.i, CASE WHEN x.v = ARRAY(SELECT generate_series(x.lo, x.hi)) THEN '*' ELSE array_to_string(x.v, ',') END AS s
		FROM f, LATERAL (VALUES (1, f.minutes, 0, 59), (2, f.hours, 0, 23), (3, f.days, 1, 31), (4, f.months, 1, 12),
								(5, f.weekdays, 0, 6)) AS x(i, v, lo, hi)
	)
	SELECT CASE WHEN (SELECT array_agg(o.o) FROM offsets AS o) = '{0}'
				THEN (SELECT string_agg(CASE WHEN l.i = 3 AND f.any_day OR l.i = 5 AND f.any_weekday THEN '*' ELSE l.s END, ' ' ORDER BY l.i)
					  FROM list AS l, f)
				ELSE (SELECT array_to_string(ARRAY(SELECT DISTINCT t % 60 FROM utc ORDER BY 1), ',') || ' '
							 || array_to_string(ARRAY(SELECT DISTINCT t / 60 FROM utc ORDER BY 1), ',') || ' * * *') END;
END;

-- Whether an instant falls in a window of local times "HH:MM-HH:MM" of
-- zone tz (over midnight when the first is later).
CREATE FUNCTION tdgen.in_window("window" text, at timestamptz, tz text)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN (WITH w AS (SELECT split_part("window", '-', 1)::time AS a, split_part("window", '-', 2)::time AS b,
						  (at AT TIME ZONE tz)::time AS t)
		SELECT CASE WHEN w.a < w.b THEN w.t >= w.a AND w.t < w.b ELSE w.t >= w.a OR w.t < w.b END FROM w);

-- ---------------------------------------------------------------------------
-- Schedules
-- ---------------------------------------------------------------------------

-- The zone an environment's times are read in: its schedule's, else UTC.
CREATE FUNCTION tdgen.schedule_tz(environment text)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
RETURN coalesce((SELECT s.tz FROM tdgen.environment_schedule AS s WHERE s.environment = schedule_tz.environment), 'UTC');

-- The time a scheduled refresh of an environment runs for now: the
-- latest its active schedule names in the last 15 minutes (pg_cron may
-- start a job late) that no run has taken (a run skipped, busy or denied
-- takes none); NULL when there is none.
CREATE FUNCTION tdgen.schedule_due(environment text)
RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT max(u)
	FROM tdgen.environment_schedule AS s
	CROSS JOIN LATERAL tdgen.cron_runs(s.cron, s.tz, now() - interval '15 minutes', 1000, now()) AS u
	WHERE s.environment = schedule_due.environment AND s.active
	  AND NOT EXISTS (SELECT FROM tdgen.run AS r
					  WHERE r.environment = s.environment AND r.scheduled_for = u
						AND r.status NOT IN ('skipped', 'busy', 'denied'));
END;

-- Raise 0A000 unless pg_cron is installed in this database.
CREATE FUNCTION tdgen.check_pg_cron()
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF to_regprocedure('cron.schedule_in_database(text, text, text, text, text, boolean)') IS NULL THEN
		RAISE EXCEPTION 'scheduled refreshes need pg_cron 1.4 or later in database %', quote_ident(current_database())
			USING ERRCODE = 'feature_not_supported',
				  HINT = format('On Debian: apt-get install postgresql-%s-cron; set shared_preload_libraries = ''pg_cron'' and cron.database_name = ''%s'' in postgresql.conf; restart the server; then CREATE EXTENSION pg_cron in this database.',
								current_setting('server_version_num')::integer / 10000, current_database());
	END IF;
END
$$;

-- The name and the command of an environment's pg_cron job: one
-- schema-qualified CALL that skips when the environment is busy, every
-- argument named (no other procedure of that name can match it better).
CREATE FUNCTION tdgen.job_name(environment text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 'tdgen refresh ' || environment;

CREATE FUNCTION tdgen.job_command(environment text)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
RETURN format('CALL %I.tdgen_refresh(environment => %L, on_busy => ''skip'', "trigger" => ''cron'', force => false)',
			  (SELECT n.nspname FROM pg_extension AS x JOIN pg_namespace AS n ON n.oid = x.extnamespace
			   WHERE x.extname = 'tdgen'), environment);

-- pg_cron's job of an environment's schedule, if it is there: its id
-- and UTC schedule.
CREATE FUNCTION tdgen.schedule_job(environment text, OUT job_id bigint, OUT job_schedule text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF to_regclass('cron.job') IS NOT NULL THEN
		EXECUTE 'SELECT j.jobid, j.schedule FROM cron.job AS j JOIN tdgen.environment_schedule AS s ON s.job_id = j.jobid
				 WHERE s.environment = $1 AND j.command = $2 AND j.database = current_database() AND j.username = s.role'
		INTO job_id, job_schedule USING environment, tdgen.job_command(environment);
	END IF;
END
$$;

-- Drop an environment's pg_cron job, if there is one.
CREATE FUNCTION tdgen.drop_job(environment text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	job bigint := (SELECT s.job_id FROM tdgen.environment_schedule AS s WHERE s.environment = drop_job.environment);
BEGIN
	IF job IS NOT NULL AND to_regclass('cron.job') IS NOT NULL THEN
		EXECUTE 'SELECT cron.unschedule(j.jobid) FROM cron.job AS j WHERE j.jobid = $1' USING job;
	END IF;
END
$$;

-- Make an environment's pg_cron job from its schedule, in place of the
-- one it had: run as the schedule's role, in this database.
CREATE FUNCTION tdgen.make_job(environment text)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s tdgen.environment_schedule;
	job bigint;
BEGIN
	PERFORM tdgen.check_pg_cron();
	SELECT * INTO STRICT s FROM tdgen.environment_schedule AS x WHERE x.environment = make_job.environment;
	PERFORM tdgen.drop_job(s.environment);
	EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, current_database(), $4, $5)'
	INTO job USING tdgen.job_name(s.environment), tdgen.cron_job_schedule(s.cron, s.tz), tdgen.job_command(s.environment),
				   s.role::text, s.active;
	UPDATE tdgen.environment_schedule AS x SET job_id = job WHERE x.environment = s.environment;
	RETURN job;
END
$$;

-- tdgen_schedule: an environment refreshes by itself at the times of a
-- cron schedule read in time zone tz, as the role that scheduled it
-- (which needs refresh, and must stay allowed: a run it may no longer do
-- is recorded as denied).  Replaces the environment's schedule (one made
-- by another role only for the environment's owner or a superuser).
-- Returns pg_cron's job id.
CREATE FUNCTION tdgen_schedule(environment text, cron text, tz text DEFAULT 'UTC', active boolean DEFAULT true)
RETURNS bigint
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_entry';

CREATE FUNCTION tdgen.schedule_by(caller regrole, environment text, cron text, tz text, active boolean)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
BEGIN
	PERFORM tdgen.check_may_schedule(e, caller);
	PERFORM tdgen.check_pg_cron();
	PERFORM tdgen.check_timezone(tz);
	IF active IS NULL THEN
		RAISE EXCEPTION 'active must be true or false' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT EXISTS (SELECT FROM tdgen.cron_runs(cron, tz, now(), 1)) THEN
		RAISE EXCEPTION 'cron schedule % names no time', quote_literal(cron)
			USING ERRCODE = 'invalid_parameter_value', HINT = 'A day that no month has, such as 30 February, never comes.';
	END IF;
	INSERT INTO tdgen.environment_schedule AS s (environment, cron, tz, active, role)
	VALUES (e.name, cron, tz, active, caller::name)
	ON CONFLICT ON CONSTRAINT environment_schedule_pkey
	DO UPDATE SET cron = excluded.cron, tz = excluded.tz, active = excluded.active, role = excluded.role,
				  updated_at = now();
	RETURN tdgen.make_job(e.name);
END
$$;

-- Raise 42501 unless caller may make or remove an environment's schedule:
-- it may refresh the environment, and the schedule is its own or there
-- is none, unless it is the owner or a superuser.
CREATE FUNCTION tdgen.check_may_schedule(e tdgen.environment, caller oid)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	made_by name := (SELECT s.role FROM tdgen.environment_schedule AS s WHERE s.environment = e.name);
BEGIN
	IF NOT tdgen.may_refresh(e.name, caller)
	   OR made_by IS NOT NULL AND made_by <> caller::regrole::name AND NOT tdgen.is_superuser(caller)
		  AND NOT pg_has_role(caller, quote_ident(e.owner)::regrole, 'MEMBER') THEN
		RAISE EXCEPTION 'permission denied to schedule environment %', quote_literal(e.name)
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'A schedule''s refreshes run as the role that made it, which needs refresh (tdgen_grant); another role''s schedule is changed only by the environment''s owner or a superuser.';
	END IF;
END
$$;

-- tdgen_unschedule: the environment no longer refreshes by itself; true
-- when it had a schedule.
CREATE FUNCTION tdgen_unschedule(environment text)
RETURNS boolean
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_entry';

CREATE FUNCTION tdgen.unschedule_by(caller regrole, environment text)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
BEGIN
	IF NOT EXISTS (SELECT FROM tdgen.environment_schedule AS s WHERE s.environment = e.name) THEN
		RETURN false;
	END IF;
	PERFORM tdgen.check_may_schedule(e, caller);
	PERFORM tdgen.drop_job(e.name);
	DELETE FROM tdgen.environment_schedule AS s WHERE s.environment = e.name;
	RETURN true;
END
$$;

-- tdgen_restore_schedules: make again the pg_cron job of every schedule
-- whose job is missing or no longer what its schedule says (after a
-- restore of a dump, or an update of the zone database); returns how
-- many were made.
CREATE FUNCTION tdgen_restore_schedules()
RETURNS integer
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_entry';

CREATE FUNCTION tdgen.restore_schedules_by(caller regrole)
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s tdgen.environment_schedule;
	j record;
	made integer := 0;
BEGIN
	IF NOT tdgen.is_superuser(caller) AND NOT pg_has_role(caller, 'tdgen_admin', 'MEMBER') THEN
		RAISE EXCEPTION 'permission denied to restore schedules'
			USING ERRCODE = 'insufficient_privilege', HINT = 'Members of tdgen_admin and superusers restore schedules.';
	END IF;
	PERFORM tdgen.check_pg_cron();
	FOR s IN SELECT * FROM tdgen.environment_schedule AS x ORDER BY x.environment LOOP
		j := tdgen.schedule_job(s.environment);
		IF j.job_id IS NULL OR j.job_schedule IS DISTINCT FROM tdgen.cron_job_schedule(s.cron, s.tz) THEN
			PERFORM tdgen.make_job(s.environment);
			made := made + 1;
		END IF;
	END LOOP;
	RETURN made;
END
$$;

-- tdgen_next_runs: the next n times an environment's schedule refreshes
-- it, from "from" on.
CREATE FUNCTION tdgen_next_runs(environment text, "from" timestamptz DEFAULT now(), n integer DEFAULT 10)
RETURNS SETOF timestamptz
LANGUAGE C STABLE PARALLEL UNSAFE ROWS 10
AS 'MODULE_PATHNAME', 'tdgen_entry';

CREATE FUNCTION tdgen.next_runs_by(caller regrole, environment text, "from" timestamptz, n integer)
RETURNS SETOF timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
	s tdgen.environment_schedule;
BEGIN
	PERFORM tdgen.check_may_watch(e.name, caller);
	SELECT * INTO s FROM tdgen.environment_schedule AS x WHERE x.environment = e.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'environment % has no schedule', quote_literal(e.name)
			USING ERRCODE = 'undefined_object', HINT = 'tdgen_schedule(environment, cron, tz) makes one.';
	END IF;
	IF n IS NULL OR n < 0 OR n > 1000 OR "from" IS NULL THEN
		RAISE EXCEPTION 'n must be from 0 to 1000, and from a time' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY SELECT * FROM tdgen.cron_runs(s.cron, s.tz, "from", n);
END
$$;

-- The schedules, as pg_cron has them too.
CREATE VIEW tdgen.schedule AS
	SELECT s.environment, s.cron, s.tz, s.active, s.role, j.job_id, j.job_schedule,
		   ARRAY(SELECT tdgen.cron_runs(s.cron, s.tz, now(), 3)) AS next_runs,
		   l.id AS last_run, l.status AS last_status, l.started_at AS last_started_at
	FROM tdgen.environment_schedule AS s
	CROSS JOIN LATERAL tdgen.schedule_job(s.environment) AS j
	LEFT JOIN LATERAL (SELECT r.id, r.status, r.started_at FROM tdgen.run AS r
					   WHERE r.environment = s.environment AND r."trigger" = 'cron'
					   ORDER BY r.id DESC LIMIT 1) AS l ON true;

-- ---------------------------------------------------------------------------
-- Watching refreshes
-- ---------------------------------------------------------------------------

-- Whether a role may watch an environment (its progress, status, runs
-- and reports): in tdgen_admin, or allowed to refresh it.
CREATE FUNCTION tdgen.may_watch(environment text, caller oid)
RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
RETURN pg_has_role(caller, 'tdgen_admin', 'MEMBER') OR tdgen.may_refresh(environment, caller);

-- Raise 42501 unless caller may watch an environment.
CREATE FUNCTION tdgen.check_may_watch(environment text, caller oid)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NOT tdgen.may_watch(environment, caller) THEN
		RAISE EXCEPTION 'permission denied for environment %', quote_literal(environment)
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Members of tdgen_admin, and roles that may refresh an environment, watch it.';
	END IF;
END
$$;

-- tdgen_status: per environment the caller may watch, its last success
-- and how long ago, its last run, its schedule's next time, and the run
-- in progress with its phase; backend_gone flags a run still marked
-- running whose session has ended (the next refresh closes it as failed).
CREATE FUNCTION tdgen_status()
RETURNS TABLE (environment text, last_success timestamptz, success_age interval, last_run bigint, last_status text,
			   next_run timestamptz, running_run bigint, running_phase text, running_since timestamptz,
			   backend_gone boolean)
LANGUAGE C STABLE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_entry';

CREATE FUNCTION tdgen.status_by(caller regrole)
RETURNS TABLE (environment text, last_success timestamptz, success_age interval, last_run bigint, last_status text,
			   next_run timestamptz, running_run bigint, running_phase text, running_since timestamptz,
			   backend_gone boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT e.name, tdgen.last_success(e.name), date_trunc('second', now() - tdgen.last_success(e.name)), l.id, l.status,
		   (SELECT tdgen.cron_runs(s.cron, s.tz, now(), 1) FROM tdgen.environment_schedule AS s
			WHERE s.environment = e.name AND s.active),
		   cur.id, (SELECT p.phase FROM tdgen.progress AS p WHERE p.run_id = cur.id AND p.pid = cur.backend_pid),
		   cur.started_at,
		   CASE WHEN cur.id IS NOT NULL
				THEN NOT EXISTS (SELECT FROM pg_stat_activity AS a WHERE a.pid = cur.backend_pid) END
	FROM tdgen.environment AS e
	LEFT JOIN LATERAL (SELECT r.id, r.status FROM tdgen.run AS r
					   WHERE r.environment = e.name AND r.status NOT IN ('running', 'skipped', 'busy')
					   ORDER BY r.id DESC LIMIT 1) AS l ON true
	LEFT JOIN LATERAL (SELECT r.id, r.backend_pid, r.started_at FROM tdgen.run AS r
					   WHERE r.environment = e.name AND r.status = 'running' ORDER BY r.id DESC LIMIT 1) AS cur ON true
	WHERE tdgen.may_watch(e.name, caller)
	ORDER BY e.name;
END;

-- tdgen_progress: the sessions at work on a refresh of an environment the
-- caller may watch (tdgen.progress, which only tdgen_admin reads).
CREATE FUNCTION tdgen_progress(environment text)
RETURNS TABLE (pid integer, run_id bigint, phase text, table_number integer, tables integer, table_name text,
			   rows_loaded bigint, elapsed interval)
LANGUAGE C STABLE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_entry';

CREATE FUNCTION tdgen.progress_by(caller regrole, environment text)
RETURNS TABLE (pid integer, run_id bigint, phase text, table_number integer, tables integer, table_name text,
			   rows_loaded bigint, elapsed interval)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM tdgen.check_may_watch(environment, caller);
	RETURN QUERY SELECT p.pid, p.run_id, p.phase, p.table_number, p.tables, p.table_name, p.rows_loaded, p.elapsed
				 FROM tdgen.progress AS p WHERE p.environment = progress_by.environment ORDER BY p.pid;
END
$$;

-- tdgen_last_run: this session's latest run of an environment (the one a
-- CALL tdgen_refresh just recorded, if it recorded one), for a caller that
-- may watch it.
CREATE FUNCTION tdgen_last_run(environment text)
RETURNS bigint
LANGUAGE C STABLE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_entry';

CREATE FUNCTION tdgen.last_run_by(caller regrole, environment text)
RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM tdgen.check_may_watch(environment, caller);
	RETURN (SELECT max(r.id) FROM tdgen.run AS r
			WHERE r.environment = last_run_by.environment AND r.backend_pid = pg_backend_pid()
			  AND r.started_at >= (SELECT a.backend_start FROM pg_stat_activity AS a WHERE a.pid = pg_backend_pid()));
END
$$;

-- Per environment, the figures a monitoring system scrapes (the shape of
-- prometheus-postgres-exporter's custom queries: one row a label value,
-- numbers as gauges; docs/schedule.md has its YAML).
CREATE VIEW tdgen.metrics AS
	SELECT e.name AS environment,
		   extract(epoch FROM now() - ok.finished_at)::double precision AS seconds_since_success,
		   extract(epoch FROM l.finished_at - l.started_at)::double precision AS last_duration_seconds,
		   l.rows AS last_rows,
		   (l.status = 'succeeded')::integer AS last_succeeded,
		   (SELECT count(*) FROM tdgen.run AS f
			WHERE f.environment = e.name AND f.status = 'failed' AND f.finished_at > now() - interval '24 hours') AS failures_24h,
		   (SELECT count(*) FROM tdgen.run AS k
			WHERE k.environment = e.name AND k.status = 'skipped' AND k.finished_at > now() - interval '24 hours') AS skipped_24h,
		   (EXISTS (SELECT FROM tdgen.run AS c WHERE c.environment = e.name AND c.status = 'running'))::integer AS running
	FROM tdgen.environment AS e
	-- the view's own reads (as its owner): monitoring roles may not read tdgen.run
	LEFT JOIN LATERAL (SELECT max(r.finished_at) AS finished_at FROM tdgen.run AS r
					   WHERE r.environment = e.name AND r.status = 'succeeded') AS ok ON true
	LEFT JOIN LATERAL (SELECT r.started_at, r.finished_at, r.rows, r.status FROM tdgen.run AS r
					   WHERE r.environment = e.name AND r.status IN ('succeeded', 'failed', 'cancelled')
					   ORDER BY r.id DESC LIMIT 1) AS l ON true;

-- ---------------------------------------------------------------------------
-- Privileges and comments
-- ---------------------------------------------------------------------------

-- The entry points (tdgen_schedule, tdgen_unschedule, tdgen_restore_schedules,
-- tdgen_next_runs, tdgen_status, tdgen_progress, tdgen_last_run) stay
-- open: they check their caller.  The job functions touch pg_cron as tdgen's owner.
REVOKE ALL ON FUNCTION tdgen.schedule_due(text), tdgen.check_pg_cron(), tdgen.schedule_job(text), tdgen.drop_job(text),
	tdgen.make_job(text), tdgen.schedule_by(regrole, text, text, text, boolean), tdgen.check_may_schedule(tdgen.environment, oid),
	tdgen.unschedule_by(regrole, text), tdgen.restore_schedules_by(regrole), tdgen.next_runs_by(regrole, text, timestamptz, integer),
	tdgen.check_may_watch(text, oid), tdgen.status_by(regrole), tdgen.progress_by(regrole, text), tdgen.schedule_tz(text),
	tdgen.last_run_by(regrole, text), tdgen.may_watch(text, oid) FROM PUBLIC;
REVOKE ALL ON tdgen.schedule, tdgen.metrics FROM PUBLIC;
GRANT SELECT ON tdgen.schedule TO tdgen_admin;
GRANT SELECT ON tdgen.metrics TO tdgen_admin, pg_monitor;

COMMENT ON FUNCTION tdgen.cron_field(text, integer, integer, text[], text) IS
	'the values one field of a cron schedule allows; 22023 naming the field when it is malformed';
COMMENT ON FUNCTION tdgen.cron_fields(text) IS
	'a cron schedule''s five fields (or @hourly, @daily, @weekly, @monthly, @yearly) as the values each allows';
COMMENT ON FUNCTION tdgen.local_instant(timestamp, text) IS
	'the instant a local time of a zone names: the first when the clocks go back over it, in the offset before the change when they skip it';
COMMENT ON FUNCTION tdgen.cron_runs(text, text, timestamptz, integer, timestamptz) IS
	'the times a cron schedule read in a time zone names, from an instant on, in order, each once';
COMMENT ON FUNCTION tdgen.check_timezone(text) IS
	'raises 22023 unless a name is a zone of pg_timezone_names';
COMMENT ON FUNCTION tdgen.cron_job_schedule(text, text) IS
	'the UTC schedule of the pg_cron job for a schedule read in a time zone: every UTC minute one of its times can fall on';
COMMENT ON FUNCTION tdgen.in_window(text, timestamptz, text) IS
	'whether an instant falls in a window of local times HH:MM-HH:MM of a zone';
COMMENT ON FUNCTION tdgen.schedule_tz(text) IS
	'the time zone an environment''s times are read in: its schedule''s, else UTC';
COMMENT ON FUNCTION tdgen.schedule_due(text) IS
	'the time a scheduled refresh runs for now: the latest its schedule names in the last 15 minutes that no run has taken, or NULL';
COMMENT ON FUNCTION tdgen.check_pg_cron() IS
	'raises 0A000, with how to install and preload it, unless pg_cron 1.4 or later is in this database';
COMMENT ON FUNCTION tdgen.job_name(text) IS
	'the name of an environment''s pg_cron job';
COMMENT ON FUNCTION tdgen.job_command(text) IS
	'the command of an environment''s pg_cron job: one schema-qualified CALL of tdgen_refresh that skips when busy, marked cron';
COMMENT ON FUNCTION tdgen.schedule_job(text) IS
	'pg_cron''s job of an environment''s schedule, if it is there as made: id and UTC schedule';
COMMENT ON FUNCTION tdgen.drop_job(text) IS
	'drops an environment''s pg_cron job, if any';
COMMENT ON FUNCTION tdgen.make_job(text) IS
	'makes an environment''s pg_cron job from its schedule, in place of the one it had; returns its id';
COMMENT ON FUNCTION tdgen_schedule(text, text, text, boolean) IS
	'an environment refreshes by itself at the times of a cron schedule read in a time zone, as the role that scheduled it; returns pg_cron''s job id';
COMMENT ON FUNCTION tdgen.schedule_by(regrole, text, text, text, boolean) IS
	'tdgen_schedule for a calling role';
COMMENT ON FUNCTION tdgen.check_may_schedule(tdgen.environment, oid) IS
	'raises 42501 unless a role may make or remove an environment''s schedule';
COMMENT ON FUNCTION tdgen_unschedule(text) IS
	'an environment no longer refreshes by itself (its pg_cron job is dropped); true when it had a schedule';
COMMENT ON FUNCTION tdgen.unschedule_by(regrole, text) IS
	'tdgen_unschedule for a calling role';
COMMENT ON FUNCTION tdgen_restore_schedules() IS
	'makes again every pg_cron job that is missing or differs from its schedule (after a restore); returns how many';
COMMENT ON FUNCTION tdgen.restore_schedules_by(regrole) IS
	'tdgen_restore_schedules for a calling role';
COMMENT ON FUNCTION tdgen_next_runs(text, timestamptz, integer) IS
	'the next times an environment''s schedule refreshes it, from an instant on';
COMMENT ON FUNCTION tdgen.next_runs_by(regrole, text, timestamptz, integer) IS
	'tdgen_next_runs for a calling role';
COMMENT ON VIEW tdgen.schedule IS
	'each environment''s schedule: cron, time zone, on or off, its role, pg_cron''s job and UTC schedule, the next three times, the last scheduled run';
COMMENT ON FUNCTION tdgen.may_watch(text, oid) IS
	'whether a role may watch an environment: in tdgen_admin, or allowed to refresh it';
COMMENT ON FUNCTION tdgen.check_may_watch(text, oid) IS
	'raises 42501 unless a role may watch an environment: in tdgen_admin, or allowed to refresh it';
COMMENT ON FUNCTION tdgen_status() IS
	'per environment: last success and its age, last run, next scheduled time, the run in progress and its phase, and whether its session is gone';
COMMENT ON FUNCTION tdgen.status_by(regrole) IS
	'tdgen_status for a calling role';
COMMENT ON FUNCTION tdgen_progress(text) IS
	'the sessions at work on a refresh of an environment: phase, table n of m, rows loaded, elapsed';
COMMENT ON FUNCTION tdgen.progress_by(regrole, text) IS
	'tdgen_progress for a calling role';
COMMENT ON FUNCTION tdgen_last_run(text) IS
	'this session''s latest run of an environment: the one a CALL tdgen_refresh just recorded';
COMMENT ON FUNCTION tdgen.last_run_by(regrole, text) IS
	'tdgen_last_run for a calling role';
COMMENT ON VIEW tdgen.metrics IS
	'per environment, for monitoring: seconds since the last success, duration and rows of the last run, whether it succeeded, failures and skips in 24 hours, whether one runs';
