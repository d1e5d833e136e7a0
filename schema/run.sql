-- ===========================================================================
-- schema/run.sql
--     The record of refreshes: one row per run (written before the work,
--     closed after it), per table and per column; what a running refresh's
--     first step hands its second; progress as other sessions see it; the
--     steps that open and close a run; the JSON report.
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- Run history
-- ---------------------------------------------------------------------------

CREATE TABLE tdgen.run (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	environment	text NOT NULL,
	source		text NOT NULL,
	target_schema name NOT NULL,
	target_schemas jsonb,
	triggered_by name NOT NULL DEFAULT session_user,
	role		name NOT NULL,
	application_name text,
	backend_pid	integer NOT NULL DEFAULT pg_backend_pid(),
	started_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	finished_at	timestamptz,
	status		text NOT NULL DEFAULT 'running'
		CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'denied', 'busy', 'skipped')),
	"trigger"	text NOT NULL DEFAULT 'manual' CHECK ("trigger" IN ('manual', 'cron', 'ci')),
	attempt		integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
	scheduled_for timestamptz,
	reason		text,
	policy		jsonb NOT NULL DEFAULT '{}',
	sqlstate	text,
	message		text,
	key_version	integer,
	key_fingerprint text,
	transfer	text CHECK (transfer IN ('copy', 'fdw')),
	phase_seconds jsonb NOT NULL DEFAULT '{}',
	rows		bigint,
	bytes		bigint
);
CREATE INDEX run_environment ON tdgen.run (environment, started_at);

CREATE TABLE tdgen.run_table (
	run_id		bigint NOT NULL REFERENCES tdgen.run ON DELETE CASCADE,
	schema_name	name NOT NULL,
	table_name	name NOT NULL,
	mode		text NOT NULL,
	rows		bigint,
	bytes		bigint,
	seconds		double precision,
	PRIMARY KEY (run_id, schema_name, table_name)
);

CREATE TABLE tdgen.run_column (
	run_id		bigint NOT NULL REFERENCES tdgen.run ON DELETE CASCADE,
	schema_name	name NOT NULL,
	table_name	name NOT NULL,
	column_name	name NOT NULL,
	action		text NOT NULL,
	transform	text,
	params		jsonb,
	key_version	integer,
	PRIMARY KEY (run_id, schema_name, table_name, column_name)
);

-- A subset refresh's plan, per table: how many rows it takes as targets,
-- reached downward (children of targets and of rows reached so), and
-- upward (parents of those, transitively); lookup and unreached tables
-- copied whole count their estimated rows as lookup.  nulled: rows whose
-- key to an absent parent was set to NULL.
CREATE TABLE tdgen.run_subset (
	run_id		bigint NOT NULL REFERENCES tdgen.run ON DELETE CASCADE,
	schema_name	name NOT NULL,
	table_name	name NOT NULL,
	mode		text NOT NULL,
	target_rows	bigint NOT NULL DEFAULT 0,
	downward_rows bigint NOT NULL DEFAULT 0,
	upward_rows	bigint NOT NULL DEFAULT 0,
	lookup_rows	bigint NOT NULL DEFAULT 0,
	nulled_rows	bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (run_id, schema_name, table_name)
);

-- The foreign keys a subset refresh followed, each way: the queries sent
-- to production, the keys they returned and the new rows among them
-- (drop: with orphans 'drop', the rows it took out).
CREATE TABLE tdgen.run_subset_edge (
	run_id		bigint NOT NULL REFERENCES tdgen.run ON DELETE CASCADE,
	edge		text NOT NULL,
	direction	text NOT NULL CHECK (direction IN ('down', 'up', 'drop')),
	queries		integer NOT NULL,
	keys_read	bigint NOT NULL,
	new_rows	bigint NOT NULL,
	PRIMARY KEY (run_id, edge, direction)
);

-- What the first step of a running refresh hands the second: written and
-- read by tdgen's steps only, deleted when the run ends.
CREATE TABLE tdgen.run_state (
	run_id		bigint PRIMARY KEY REFERENCES tdgen.run ON DELETE CASCADE,
	state		jsonb NOT NULL
);

SELECT pg_catalog.pg_extension_config_dump('tdgen.run', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.run_table', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.run_column', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.run_subset', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.run_subset_edge', '');
REVOKE ALL ON tdgen.run, tdgen.run_table, tdgen.run_column, tdgen.run_subset, tdgen.run_subset_edge FROM PUBLIC;
GRANT SELECT ON tdgen.run, tdgen.run_table, tdgen.run_column, tdgen.run_subset, tdgen.run_subset_edge TO tdgen_admin;

-- A refresh in progress, as other sessions see it: the refresh announces
-- its phase and table in its application_name (tdgen.session_label), and
-- so does each of its background workers for the table it loads or
-- builds, naming the refresh's PID: one row per session at work.
CREATE VIEW tdgen.progress AS
	SELECT a.pid, r.id AS run_id, r.environment, r.started_at,
		   split_part(a.application_name, '|', 2) AS phase,
		   nullif(split_part(a.application_name, '|', 3), '')::integer AS table_number,
		   nullif(split_part(a.application_name, '|', 4), '')::integer AS tables,
		   nullif(substring(a.application_name FROM '^(?:[^|]*\|){5}(.*)$'), '') AS table_name,
		   c.tuples_processed AS rows_loaded,
		   now() - r.started_at AS elapsed
	FROM pg_catalog.pg_stat_activity AS a
	JOIN tdgen.run AS r ON r.backend_pid::text = split_part(a.application_name, '|', 5) AND r.status = 'running'
	LEFT JOIN pg_catalog.pg_stat_progress_copy AS c ON c.pid = a.pid
	WHERE a.application_name LIKE 'tdgen|%';
GRANT SELECT ON tdgen.progress TO tdgen_admin;

-- The advisory lock of an environment's refreshes.
CREATE FUNCTION tdgen.refresh_lock_key(environment text)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ('x' || left(md5('tdgen_refresh:' || environment), 16))::bit(64)::bigint;

-- What a refresh says as it starts a phase, or a table's load.
CREATE FUNCTION tdgen.progress_notice(environment text, phase text, n integer, total integer, table_name text)
RETURNS text
LANGUAGE sql IMMUTABLE
RETURN format('tdgen %s: %s%s', environment, phase,
			  CASE WHEN table_name IS NOT NULL THEN format(' %s (%s of %s)', table_name, n, total) ELSE '' END);

-- ---------------------------------------------------------------------------
-- Opening and closing a run
-- ---------------------------------------------------------------------------

-- The run of this session's refresh, which a step works on: it must be
-- running, in this backend.
CREATE FUNCTION tdgen.running_run(run_id bigint)
RETURNS tdgen.run
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r tdgen.run;
BEGIN
	SELECT * INTO r FROM tdgen.run AS x WHERE x.id = run_id AND x.status = 'running' AND x.backend_pid = pg_backend_pid();
	IF NOT FOUND THEN
		RAISE EXCEPTION 'run % is not a refresh running in this session', run_id
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'A refresh runs its steps itself: CALL tdgen_refresh(environment).';
	END IF;
	RETURN r;
END
$$;

-- The run row, before any work.  A refresh the schedule started
-- ("trigger" cron) runs for the latest time its schedule names in the
-- last 15 minutes that no run has taken yet; with none, nothing happens
-- and no run is recorded (NULL).  Then, each recorded and finished at
-- once: a role that may not refresh the environment is denied (42501),
-- and so is a force by one that is neither its owner nor a superuser; a
-- scheduled run outside the environment's window is skipped; one sooner
-- than min_interval after the last success is skipped when scheduled,
-- else denied (TG003) unless forced; when another refresh of the
-- environment runs, on_busy 'fail' makes it busy (55P03), 'skip' skipped,
-- 'wait' waits for the lock.  Otherwise the leftovers of a refresh that
-- died cleaned up, the history older than retention pruned, and a
-- running run.  retry_of: the attempt this one repeats.
CREATE FUNCTION tdgen.run_start(environment text, on_busy text, caller oid, "trigger" text, force boolean,
								retry_of bigint)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning SET jit = off AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
	previous tdgen.run;
	attempt integer := 1;
	due timestamptz;
	last_success timestamptz;
	policy jsonb := tdgen.run_policy(e.options) || jsonb_build_object('forced', force);
	id bigint;
	transfer text;
	refused text;
	sqlstate text;
	message text;
	reason text;
	cols jsonb;
	pruned bigint;
BEGIN
	IF on_busy IS NULL OR on_busy NOT IN ('fail', 'wait', 'skip') THEN
		RAISE EXCEPTION 'on_busy must be ''fail'', ''wait'' or ''skip'', not %', coalesce(quote_literal(on_busy), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'It says what a refresh does while another of the same environment runs: fail (55P03), wait for it, or skip (recorded, no error).';
	END IF;
	IF "trigger" IS NULL OR "trigger" NOT IN ('manual', 'cron', 'ci') THEN
		RAISE EXCEPTION 'trigger must be ''manual'', ''cron'' or ''ci'', not %', coalesce(quote_literal("trigger"), 'NULL')
			USING ERRCODE = 'invalid_parameter_value', HINT = 'It records what started the refresh: a person, the schedule, or CI.';
	END IF;
	IF to_regrole(quote_ident(e.owner)) IS NULL OR tdgen.is_superuser(quote_ident(e.owner)::regrole) THEN
		RAISE EXCEPTION 'the owner % of environment % is missing or a superuser', quote_ident(e.owner), quote_literal(e.name)
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'A refresh runs as its environment''s owner and never as a superuser: name another owner with tdgen_environment(..., owner => role).';
	END IF;
	IF retry_of IS NOT NULL THEN
		SELECT * INTO previous FROM tdgen.run AS r WHERE r.id = retry_of;
		attempt := previous.attempt + 1;
		due := previous.scheduled_for;
	ELSIF "trigger" = 'cron' THEN
		due := tdgen.schedule_due(e.name);
		IF due IS NULL THEN
			RETURN NULL;
		END IF;
	END IF;
	policy := policy || jsonb_strip_nulls(jsonb_build_object('scheduled_for', due));

	last_success := tdgen.last_success(e.name);
	IF NOT tdgen.may_refresh(e.name, caller) THEN
		refused := 'denied';
		sqlstate := '42501';
		message := format('permission denied to refresh environment %s', quote_literal(e.name));
		reason := 'no refresh privilege';
	ELSIF force AND NOT tdgen.is_superuser(caller) AND NOT pg_has_role(caller, quote_ident(e.owner)::regrole, 'MEMBER') THEN
		refused := 'denied';
		sqlstate := '42501';
		message := format('permission denied to force a refresh of environment %s', quote_literal(e.name));
		reason := 'force needs the owner or a superuser';
	ELSIF "trigger" = 'cron' AND retry_of IS NULL AND e.options ? 'window'
		  AND NOT tdgen.in_window(e.options ->> 'window', now(), tdgen.schedule_tz(e.name)) THEN
		refused := 'skipped';
		reason := format('outside the window %s', e.options ->> 'window');
	ELSIF e.options ? 'min_interval' AND retry_of IS NULL AND NOT force
		  AND last_success > now() - (e.options ->> 'min_interval')::interval THEN
		refused := CASE WHEN "trigger" = 'cron' THEN 'skipped' ELSE 'denied' END;
		sqlstate := CASE WHEN "trigger" = 'cron' THEN NULL ELSE 'TG003' END;
		reason := format('last success %s ago, min_interval %s', date_trunc('second', now() - last_success),
						 e.options ->> 'min_interval');
		message := format('environment %s was refreshed less than %s ago', quote_literal(e.name), e.options ->> 'min_interval');
	ELSIF on_busy = 'wait' THEN
		PERFORM pg_advisory_lock(tdgen.refresh_lock_key(e.name));
	ELSIF NOT pg_try_advisory_lock(tdgen.refresh_lock_key(e.name)) THEN
		refused := CASE on_busy WHEN 'skip' THEN 'skipped' ELSE 'busy' END;
		sqlstate := CASE on_busy WHEN 'skip' THEN NULL ELSE '55P03' END;
		message := format('a refresh of environment %s is already running', quote_literal(e.name));
		reason := 'busy';
	END IF;
	IF refused IS NOT NULL THEN
		INSERT INTO tdgen.run AS r (environment, source, target_schema, role, application_name, status, finished_at,
									"trigger", attempt, scheduled_for, reason, policy, sqlstate, message)
		VALUES (e.name, e.source, e.target_schema, caller::regrole::name, current_setting('application_name'), refused,
				clock_timestamp(), "trigger", attempt, due, reason, policy, sqlstate, message)
		RETURNING r.id INTO id;
		PERFORM tdgen.run_notify(id);
		RETURN id;
	END IF;
	-- holding the lock, no other refresh of this environment runs: a run
	-- still marked running died with its backend
	UPDATE tdgen.run AS r SET status = 'failed', finished_at = clock_timestamp(), sqlstate = '57P01',
							  message = 'the refresh was interrupted (its session or the server ended)'
	WHERE r.environment = e.name AND r.status = 'running';
	-- the history past retention, but the last success (min_interval and
	-- tdgen_status read it)
	IF e.options ? 'retention' THEN
		DELETE FROM tdgen.run AS r
		WHERE r.environment = e.name AND r.finished_at < now() - (e.options ->> 'retention')::interval
		  AND r.finished_at IS DISTINCT FROM last_success;
		GET DIAGNOSTICS pruned = ROW_COUNT;
		policy := policy || jsonb_build_object('pruned', pruned);
	END IF;
	INSERT INTO tdgen.run AS r (environment, source, target_schema, role, transfer, application_name, "trigger", attempt,
								scheduled_for, policy)
	VALUES (e.name, e.source, e.target_schema, caller::regrole::name, tdgen.transfer(e.name),
			current_setting('application_name'), "trigger", attempt, due, policy)
	RETURNING r.id, r.transfer INTO id, transfer;
	-- new production columns are recorded and alerted here, committed with
	-- the run row, whatever the work that follows does; if production
	-- cannot be read, the work will fail on it and say so
	BEGIN
		IF transfer = 'copy' THEN
			PERFORM tdgen.remote_begin((tdgen.resolve_source(e.source)).server);
		END IF;
		cols := (tdgen.production_columns(e.source)).cols;
		-- the foreign tables too, in this transaction rather than the
		-- work's, which takes a lock on every table it makes
		PERFORM tdgen.sync_source(e.source, cols);
		PERFORM tdgen.record_columns(e.name, cols);
	EXCEPTION WHEN OTHERS THEN
		NULL;
	END;
	RETURN id;
END
$$;

-- After a failed attempt, the seconds to wait before the next one, or
-- NULL for none: only a transient failure is tried again (a lost or
-- refused connection, a server shutting down, a serialization failure, a
-- deadlock; never the gate, a rule, a value, a privilege or a cancel), as
-- often as the environment's option retries says, after retry_delay.
CREATE FUNCTION tdgen.retry_delay(run_id bigint)
RETURNS double precision
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT extract(epoch FROM coalesce((e.options ->> 'retry_delay')::interval, interval '1 minute'))::double precision
	FROM tdgen.run AS r JOIN tdgen.environment AS e ON e.name = r.environment
	WHERE r.id = retry_delay.run_id AND r.status = 'failed'
	  AND (left(r.sqlstate, 2) = '08' OR r.sqlstate IN ('57P01', '57P02', '57P03', '40001', '40P01'))
	  AND r.attempt <= coalesce((e.options ->> 'retries')::integer, 0);
END;

-- When an environment's last successful refresh ended.
CREATE FUNCTION tdgen.last_success(environment text)
RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
RETURN (SELECT max(r.finished_at) FROM tdgen.run AS r WHERE r.environment = last_success.environment AND r.status = 'succeeded');

-- The policy options of an environment that a run applies, as the run
-- records them.
CREATE FUNCTION tdgen.run_policy(options jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT coalesce(jsonb_object_agg(x.key, x.value), '{}') FROM jsonb_each(options) AS x
		WHERE x.key IN ('min_interval', 'window', 'retries', 'retry_delay', 'retention', 'notify'));

-- Send NOTIFY tdgen_run when a run ends, if its environment asks for it
-- (option notify): a small JSON object, sent when the run row commits;
-- the whole report stays with tdgen_report.
CREATE FUNCTION tdgen.run_notify(run_id bigint)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	payload text;
BEGIN
	SELECT jsonb_build_object('run', r.id, 'environment', r.environment, 'status', r.status, 'sqlstate', r.sqlstate,
							  'trigger', r."trigger", 'attempt', r.attempt, 'reason', r.reason,
							  'seconds', round(extract(epoch FROM r.finished_at - r.started_at)::numeric, 3), 'rows', r.rows)::text
	INTO payload
	FROM tdgen.run AS r JOIN tdgen.environment AS e ON e.name = r.environment
	WHERE r.id = run_id AND coalesce((e.options ->> 'notify')::boolean, false);
	IF payload IS NOT NULL THEN
		PERFORM pg_notify('tdgen_run', payload);
	END IF;
END
$$;

-- Close a run: succeeded, or failed (cancelled for 57014) with its
-- SQLSTATE and message (and an alert when the gate refused) and its shadow
-- schema dropped; the lock released; NOTIFY tdgen_run when asked for.
CREATE FUNCTION tdgen.run_finish(run_id bigint, err_sqlstate text, err_message text, err_detail text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning SET jit = off AS $$
DECLARE
	r tdgen.run := tdgen.running_run(run_id);
BEGIN
	DELETE FROM tdgen.run_state AS st WHERE st.run_id = run_finish.run_id;
	UPDATE tdgen.run AS x
	SET status = CASE WHEN err_sqlstate IS NULL THEN 'succeeded' WHEN err_sqlstate = '57014' THEN 'cancelled' ELSE 'failed' END,
		finished_at = clock_timestamp(), sqlstate = err_sqlstate, message = err_message
	WHERE x.id = run_id
	RETURNING * INTO r;
	PERFORM tdgen.run_notify(r.id);
	IF err_sqlstate = 'TG001' THEN
		PERFORM tdgen.gate_alert(r.environment, to_jsonb(string_to_array(err_detail, E'\n')), r.id);
	END IF;
	IF err_sqlstate IS NOT NULL THEN
		-- as the owner; what it cannot drop the next refresh reports
		BEGIN
			PERFORM tdgen.execute_quietly(ARRAY(SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', x)
												FROM tdgen.leftover_schemas(r.environment) AS x));
		EXCEPTION WHEN insufficient_privilege THEN
			NULL;
		END;
	END IF;
	PERFORM tdgen.drop_key_sets(r.environment);
	PERFORM tdgen.remote_end();
	PERFORM pg_advisory_unlock(tdgen.refresh_lock_key(r.environment));
	PERFORM set_config('application_name', coalesce(r.application_name, ''), false);
END
$$;

-- A run as JSON for CI.  Shape "tdgen.run/1": documented in docs/refresh.md;
-- fields are only ever added within a version.
-- Members of tdgen_admin read every run's; a role that may refresh an
-- environment, its runs'.
CREATE FUNCTION tdgen_report(run_id bigint)
RETURNS jsonb
LANGUAGE C STABLE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_entry';

CREATE FUNCTION tdgen.report_by(caller regrole, run_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	environment text := (SELECT r.environment FROM tdgen.run AS r WHERE r.id = run_id);
BEGIN
	IF environment IS NOT NULL THEN
		PERFORM tdgen.check_may_watch(environment, caller);
	END IF;
	RETURN tdgen.report(run_id);
END
$$;

CREATE FUNCTION tdgen.report(run_id bigint)
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT jsonb_build_object(
		'format', 'tdgen.run/1',
		'id', r.id, 'environment', r.environment, 'source', r.source, 'target_schema', r.target_schema,
		'target_schemas', r.target_schemas,
		'triggered_by', r.triggered_by, 'status', r.status,
		'trigger', r."trigger", 'attempt', r.attempt, 'scheduled_for', r.scheduled_for, 'reason', r.reason,
		'policy', r.policy,
		'started_at', r.started_at, 'finished_at', r.finished_at,
		'seconds', round(extract(epoch FROM coalesce(r.finished_at, clock_timestamp()) - r.started_at)::numeric, 3),
		'error', CASE WHEN r.sqlstate IS NOT NULL THEN jsonb_build_object('sqlstate', r.sqlstate, 'message', r.message) END,
		'key', jsonb_build_object('version', r.key_version, 'fingerprint', r.key_fingerprint),
		'transfer', r.transfer,
		'phases', r.phase_seconds, 'rows', r.rows, 'bytes', r.bytes,
		'tables', (SELECT coalesce(jsonb_agg(jsonb_build_object(
						'table', tdgen.qualified(t.schema_name, t.table_name), 'mode', t.mode,
						'rows', t.rows, 'bytes', t.bytes, 'seconds', t.seconds)
					ORDER BY t.schema_name, t.table_name), '[]')
				   FROM tdgen.run_table AS t WHERE t.run_id = r.id),
		'columns', (SELECT coalesce(jsonb_agg(jsonb_build_object(
						'column', tdgen.qualified(c.schema_name, c.table_name, c.column_name), 'action', c.action,
						'transform', c.transform, 'params', c.params, 'key_version', c.key_version)
					ORDER BY c.schema_name, c.table_name, c.column_name), '[]')
					FROM tdgen.run_column AS c WHERE c.run_id = r.id),
		'subset', CASE WHEN EXISTS (SELECT FROM tdgen.run_subset AS s WHERE s.run_id = r.id) THEN jsonb_build_object(
					'tables', (SELECT jsonb_agg(jsonb_build_object(
									'table', tdgen.qualified(s.schema_name, s.table_name), 'mode', s.mode,
									'target_rows', s.target_rows, 'downward_rows', s.downward_rows,
									'upward_rows', s.upward_rows, 'lookup_rows', s.lookup_rows, 'nulled_rows', s.nulled_rows)
								ORDER BY s.schema_name, s.table_name)
							   FROM tdgen.run_subset AS s WHERE s.run_id = r.id),
					'edges', (SELECT coalesce(jsonb_agg(jsonb_build_object(
									'edge', g.edge, 'direction', g.direction, 'queries', g.queries, 'keys_read', g.keys_read,
									'new_rows', g.new_rows) ORDER BY g.edge, g.direction), '[]')
							  FROM tdgen.run_subset_edge AS g WHERE g.run_id = r.id)) END)
	FROM tdgen.run AS r WHERE r.id = report.run_id;
END;

-- ---------------------------------------------------------------------------
-- Privileges and comments
-- ---------------------------------------------------------------------------

-- Run by tdgen_refresh as tdgen's owner only; the report is open, and
-- checks its caller.
REVOKE ALL ON FUNCTION tdgen.run_start(text, text, oid, text, boolean, bigint), tdgen.run_finish(bigint, text, text, text),
	tdgen.running_run(bigint), tdgen.report_by(regrole, bigint), tdgen.report(bigint), tdgen.run_notify(bigint),
	tdgen.last_success(text), tdgen.retry_delay(bigint) FROM PUBLIC;

COMMENT ON TABLE tdgen.run IS
	'one row per refresh or refused attempt, written before the work starts: who, what started it (manual, cron, ci), attempt, when, status, the reason of a skip or denial, the policy applied, SQLSTATE and message on failure, key version, transfer, seconds per phase, rows and bytes';
COMMENT ON SEQUENCE tdgen.run_id_seq IS
	'numbers the runs';
COMMENT ON TABLE tdgen.run_table IS
	'per run and production table: mode, rows and bytes loaded, seconds';
COMMENT ON TABLE tdgen.run_column IS
	'per run and production column: kept, masked (transform, parameters, key version) or generated';
COMMENT ON TABLE tdgen.run_subset IS
	'per subset refresh and table: rows taken as targets, reached downward, reached upward, copied whole as lookup, and keys nulled';
COMMENT ON TABLE tdgen.run_subset_edge IS
	'per subset refresh, each foreign key followed and which way: queries to production, keys read, new rows';
COMMENT ON TABLE tdgen.run_state IS
	'what the first step of a running refresh hands the second; written and read by tdgen only';
COMMENT ON VIEW tdgen.progress IS
	'refreshes in progress: phase, table n of m, rows loaded so far into that table, elapsed time';
COMMENT ON FUNCTION tdgen.refresh_lock_key(text) IS
	'the advisory lock key of an environment''s refreshes';
COMMENT ON FUNCTION tdgen.progress_notice(text, text, integer, integer, text) IS
	'what a refresh says as it starts a phase, or a table''s load';
COMMENT ON FUNCTION tdgen.running_run(bigint) IS
	'the run row of a refresh running in this session; 55000 for any other run';
COMMENT ON FUNCTION tdgen.run_start(text, text, oid, text, boolean, bigint) IS
	'records a run of an environment for a role: denied, busy or skipped at once (privilege, window, min_interval, another refresh), else running with the environment''s lock held; NULL for a scheduled tick with nothing due';
COMMENT ON FUNCTION tdgen.retry_delay(bigint) IS
	'after a failed attempt, the seconds to wait before the next, or NULL: only transient failures, within the option retries';
COMMENT ON FUNCTION tdgen.last_success(text) IS
	'when an environment''s last successful refresh ended';
COMMENT ON FUNCTION tdgen.run_policy(jsonb) IS
	'the policy options of an environment a run applies and records';
COMMENT ON FUNCTION tdgen.run_notify(bigint) IS
	'NOTIFY tdgen_run with a small JSON object about a run that ended, if its environment''s option notify asks for it';
COMMENT ON FUNCTION tdgen.run_finish(bigint, text, text, text) IS
	'closes a run as succeeded, failed or cancelled (with an alert when the gate refused), releases the lock and notifies';
COMMENT ON FUNCTION tdgen_report(bigint) IS
	'a run as JSON (format tdgen.run/1) for CI: for tdgen_admin, and for roles that may refresh its environment';
COMMENT ON FUNCTION tdgen.report_by(regrole, bigint) IS
	'tdgen_report for a caller: refuses a run of an environment the caller may not watch (42501)';
COMMENT ON FUNCTION tdgen.report(bigint) IS
	'a run as JSON, format tdgen.run/1';
