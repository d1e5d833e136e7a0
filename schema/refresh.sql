-- ===========================================================================
-- schema/refresh.sql
--     CALL tdgen_refresh('qa'): a masked copy of production, built in a
--     shadow schema and swapped in for the target schema in one commit;
--     the run history, progress, plan and report.
--
-- One refresh is two transactions.  The first records the run and commits,
-- so the record survives whatever follows.  The second does the work: the
-- gate, the shadow schema, the load, constraints and indexes, the swap.
-- Every production read happens in it, so postgres_fdw serves all of them
-- from one REPEATABLE READ remote transaction: one snapshot.  It either
-- commits whole or leaves the target as it was.
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
		CHECK (status IN ('running', 'succeeded', 'failed', 'denied', 'busy')),
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
REVOKE ALL ON tdgen.run, tdgen.run_table, tdgen.run_column FROM PUBLIC;
GRANT SELECT ON tdgen.run, tdgen.run_table, tdgen.run_column TO tdgen_admin;

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
-- Plan
-- ---------------------------------------------------------------------------

-- Production's tables in load order (referenced tables first), with their
-- mode in the environment, estimated rows and bytes (the table's and its
-- partitions', from production's statistics; TOAST not counted) and what
-- happens to each column.
CREATE FUNCTION tdgen.plan(environment text)
RETURNS TABLE (load_order integer, table_name text, mode text, estimated_rows bigint, estimated_bytes bigint,
			   columns jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET enable_nestloop = off AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
	s tdgen.source := tdgen.resolve_source(e.source);
	cols jsonb;
	fks jsonb;
	cls jsonb;
	inh jsonb;
	nsp jsonb;
BEGIN
	SELECT pc.cols, pc.fks INTO cols, fks FROM tdgen.production_columns(s.name) AS pc;
	cls := tdgen.read_remote(s.local_schema, 'catalog_class', 'relkind IN (''r'', ''p'')');
	inh := tdgen.read_remote(s.local_schema, 'catalog_inherits', 'true');
	nsp := tdgen.read_remote(s.local_schema, 'catalog_namespace', 'true');
	RETURN QUERY
	WITH RECURSIVE ec AS MATERIALIZED (
		SELECT * FROM tdgen.effective_columns(e.name, cols, fks)
	), tbl AS (
		SELECT DISTINCT c.schema_name, c.table_name, c.mode FROM ec AS c
	), col AS (
		-- what happens to each column, per table
		SELECT c.schema_name, c.table_name,
			   jsonb_object_agg(c.column_name,
								CASE WHEN c.generated THEN to_jsonb('generated'::text)
									 WHEN c.action = 'mask' THEN jsonb_build_object('transform', c.transform, 'params', c.params)
									 WHEN c.action = 'keep' THEN to_jsonb('keep'::text)
									 ELSE to_jsonb('no rule'::text) END ORDER BY c.attnum) AS columns
		FROM ec AS c GROUP BY c.schema_name, c.table_name
	), rel AS (
		SELECT c.oid, c.relname, n.nspname, c.relkind, c.reltuples, c.relpages
		FROM jsonb_to_recordset(cls) AS c(oid oid, relname name, relnamespace oid, relkind "char", reltuples float4,
										  relpages int4)
		JOIN jsonb_to_recordset(nsp) AS n(oid oid, nspname name) ON n.oid = c.relnamespace
	), tree AS (
		-- each table with itself and its partitions at any depth
		SELECT r.oid AS root, r.oid FROM rel AS r
		UNION
		SELECT t.root, i.inhrelid FROM tree AS t
		JOIN jsonb_to_recordset(inh) AS i(inhrelid oid, inhparent oid) ON i.inhparent = t.oid
	), estimate AS (
		-- the leaves hold the rows (a partitioned table's own estimate is
		-- its whole tree's)
		SELECT r.nspname, r.relname, coalesce(sum(greatest(p.reltuples, 0)), 0)::bigint AS n,
			   coalesce(sum(p.relpages::bigint * current_setting('block_size')::bigint), 0)::bigint AS bytes
		FROM rel AS r JOIN tree AS t ON t.root = r.oid JOIN rel AS p ON p.oid = t.oid AND p.relkind = 'r'
		GROUP BY r.nspname, r.relname
	), edge AS (
		SELECT DISTINCT f.schema_name, f.table_name, f.ref_schema, f.ref_table
		FROM jsonb_to_recordset(fks) AS f(schema_name name, table_name name, ref_schema name, ref_table name)
		WHERE (f.schema_name, f.table_name) <> (f.ref_schema, f.ref_table)
	), reach AS (
		-- the tables each table references, directly or not
		SELECT g.schema_name, g.table_name, g.ref_schema, g.ref_table FROM edge AS g
		UNION
		SELECT r.schema_name, r.table_name, g.ref_schema, g.ref_table
		FROM reach AS r JOIN edge AS g ON g.schema_name = r.ref_schema AND g.table_name = r.ref_table
	), acyclic AS (
		-- the references that are no part of a cycle
		SELECT g.* FROM edge AS g
		WHERE NOT EXISTS (SELECT FROM reach AS r
						  WHERE (r.schema_name, r.table_name, r.ref_schema, r.ref_table)
								= (g.ref_schema, g.ref_table, g.schema_name, g.table_name))
	), depth AS (
		-- the longest chain of those references above each table: each
		-- table at each depth once, not each path, whose number can grow
		-- exponentially
		SELECT t.schema_name, t.table_name, 0 AS depth FROM tbl AS t
		UNION
		SELECT g.schema_name, g.table_name, d.depth + 1
		FROM depth AS d JOIN acyclic AS g ON g.ref_schema = d.schema_name AND g.ref_table = d.table_name
	)
	SELECT (row_number() OVER (ORDER BY max(d.depth), t.schema_name, t.table_name))::integer,
		   tdgen.qualified(t.schema_name, t.table_name), t.mode,
		   CASE WHEN t.mode = 'copy' THEN x.n ELSE 0 END,
		   CASE WHEN t.mode = 'copy' THEN x.bytes ELSE 0 END,
		   CASE WHEN t.mode = 'skip' THEN '{}'::jsonb ELSE c.columns END
	FROM tbl AS t
	JOIN depth AS d ON d.schema_name = t.schema_name AND d.table_name = t.table_name
	LEFT JOIN estimate AS x ON x.nspname = t.schema_name AND x.relname = t.table_name
	LEFT JOIN col AS c ON c.schema_name = t.schema_name AND c.table_name = t.table_name
	GROUP BY t.schema_name, t.table_name, t.mode, x.n, x.bytes, c.columns
	ORDER BY 1;
END
$$;

-- The plan, for roles that may refresh the environment.
CREATE FUNCTION tdgen_plan(environment text)
RETURNS TABLE (load_order integer, table_name text, mode text, estimated_rows bigint, estimated_bytes bigint,
			   columns jsonb)
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_entry';

CREATE FUNCTION tdgen.plan_by(caller regrole, environment text)
RETURNS TABLE (load_order integer, table_name text, mode text, estimated_rows bigint, estimated_bytes bigint,
			   columns jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM tdgen.resolve_environment(environment);
	IF NOT tdgen.may_refresh(environment, caller) THEN
		RAISE EXCEPTION 'permission denied to plan environment %', quote_literal(environment)
			USING ERRCODE = 'insufficient_privilege',
				  HINT = format('The environment''s owner or a superuser may allow you with tdgen_grant(%L, ''refresh'', role).', environment);
	END IF;
	RETURN QUERY SELECT * FROM tdgen.plan(environment);
END
$$;

-- ---------------------------------------------------------------------------
-- The work
-- ---------------------------------------------------------------------------

-- The load step: a query's rows into a table, in batches (table_multi_insert
-- with a bulk-insert state), partitions routed and generated columns
-- computed; rows so far show in pg_stat_progress_copy.
CREATE FUNCTION tdgen.load_rows(target regclass, query text)
RETURNS bigint
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_load_rows';

-- The same load with the foreign table's rows read by binary COPY over
-- tdgen's connection (tdgen.remote_begin) and the select list evaluated
-- on them.
CREATE FUNCTION tdgen.copy_rows(target regclass, query text)
RETURNS bigint
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_copy_rows';

-- Statements run side by side, each in a transaction of its own, in up to
-- `workers` background workers connected as the current user; a statement
-- starts once the earlier ones it comes after have committed (`after`:
-- one 1-based number per statement, or a row of them per statement in a
-- two-dimensional array; 0 for none).  The first error stops the others
-- and is raised here.  Each statement's result is the first column of the
-- first row of its last command.  notices[i], when not null, is raised
-- here as a NOTICE when statement i starts.
CREATE FUNCTION tdgen.run_jobs(statements text[], after integer[], workers integer, notices text[])
RETURNS TABLE (job integer, result text, seconds double precision)
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_run_jobs';

-- The SQL that reads one column from its foreign table into the shadow
-- table: masked by the rule's transform, or kept, cast to the shadow
-- column's type.
CREATE FUNCTION tdgen.load_expression(column_name name, local_type text, shadow_type text, action text,
									  transform text, params jsonb)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	t tdgen.transform;
	arg text := quote_ident(column_name);
	args text := '';
	p record;
BEGIN
	IF action IS DISTINCT FROM 'mask' THEN
		RETURN format('%s::%s', arg, shadow_type);
	END IF;
	SELECT * INTO t FROM tdgen.transform AS tr WHERE tr.name = transform;
	IF transform = 'nullify' THEN
		RETURN format('NULL::%s', shadow_type);
	END IF;
	IF 'text' = ANY (t.input_types) AND local_type <> 'text' THEN
		arg := arg || '::text';
	END IF;
	FOR p IN SELECT key, value FROM jsonb_each(coalesce(params, '{}')) ORDER BY key LOOP
		args := args || format(', %I => %s', p.key,
							   CASE WHEN p.key = 'scope' THEN quote_literal(p.value #>> '{}')
									WHEN jsonb_typeof(p.value) IN ('object', 'array') THEN quote_literal(p.value::text) || '::jsonb'
									WHEN jsonb_typeof(p.value) = 'string' THEN quote_literal(p.value #>> '{}') || '::' ||
										 CASE WHEN t.parameters -> p.key ->> 'type' = 'jsonb' THEN 'jsonb' ELSE 'text' END
									ELSE quote_literal(p.value #>> '{}') || '::' || (t.parameters -> p.key ->> 'type') END);
	END LOOP;
	RETURN format('(tdgen.%I(%s%s))::%s', transform, arg, args, shadow_type);
END
$$;

-- Announce progress: a NOTICE, and the application_name other sessions
-- read through tdgen.progress.
CREATE FUNCTION tdgen.announce(environment text, phase text, n integer DEFAULT NULL, total integer DEFAULT NULL,
							   table_name text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM set_config('application_name', tdgen.session_label(phase, n, total, table_name), false);
	RAISE NOTICE '%', tdgen.progress_notice(environment, phase, n, total, table_name);
END
$$;

-- The application_name of a session at work on a refresh, which
-- tdgen.progress reads: tdgen|phase|table number|tables|pid of the
-- refresh's backend|table, the table's name cut to fit in 63 bytes.
CREATE FUNCTION tdgen.session_label(phase text, n integer, total integer, table_name text)
RETURNS text
LANGUAGE sql STABLE
RETURN left(format('tdgen|%s|%s|%s|%s|%s', phase, n, total, pg_backend_pid(), table_name), 63);

-- Seconds since the given instant.
CREATE FUNCTION tdgen.seconds_since(t timestamptz)
RETURNS double precision
LANGUAGE sql VOLATILE
RETURN round(extract(epoch FROM clock_timestamp() - t)::numeric, 3)::double precision;

-- Statements run as the environment's owner during a refresh, in a
-- security-restricted operation (tdgen.run_as_owner), with notices
-- quieted (DDL's cascades say nothing useful).
CREATE FUNCTION tdgen.execute_quietly(statements text[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
BEGIN
	PERFORM tdgen.run_as_owner(statements);
END
$$;

-- The first step of a refresh, after its run is recorded: the gate, the
-- shadow schema, and with the fdw transfer the load, all in one snapshot
-- of production.  Committed before the second step, so that background
-- workers see the shadow tables; with the copy transfer tdgen's connection
-- to production stays open (held) and its snapshot is exported for them.
-- What the second step needs goes to tdgen.run_state.
CREATE FUNCTION tdgen.refresh_prepare(run_id bigint)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r tdgen.run;
	e tdgen.environment;
	s tdgen.source;
	schemas jsonb;
	map jsonb;
	snap jsonb;
	cols jsonb;
	fks jsonb;
	problems integer;
	problem_lines text;
	suggestions text;
	k record;
	phases jsonb := '{}';
	t0 timestamptz;
	tbl record;
	n integer := 0;
	skipped text[];
	plan jsonb;
	snapshot text;
BEGIN
	r := tdgen.running_run(run_id);
	e := tdgen.resolve_environment(r.environment);
	s := tdgen.resolve_source(e.source);
	SELECT jsonb_agg(to_jsonb(m)), jsonb_object_agg(m.source_schema, m.shadow_schema) INTO schemas, map
	FROM tdgen.schema_map(e) AS m;

	-- nothing is read while the targets may not be replaced
	PERFORM tdgen.check_target(e, tdgen.swapped_targets(e, schemas));

	-- the copy transfer reads everything through tdgen's own connection,
	-- from here on: one snapshot of production, to the end of the refresh
	IF r.transfer = 'copy' THEN
		PERFORM tdgen.remote_begin(s.server, hold => true);
	END IF;

	-- the gate: nothing moves while a column lacks a rule
	t0 := clock_timestamp();
	PERFORM tdgen.announce(e.name, 'gate');
	SELECT count(*), string_agg(c.problem || ': ' || c.detail, E'\n' ORDER BY c.column_name, c.problem),
		   string_agg(DISTINCT c.suggestion, E'\n')
	INTO problems, problem_lines, suggestions
	FROM @extschema@.tdgen_check(e.name) AS c;
	IF problems > 0 THEN
		RAISE EXCEPTION 'tdgen: % problem(s) with the rules of environment %', problems, quote_literal(e.name)
			USING ERRCODE = 'TG001', DETAIL = problem_lines,
				  HINT = 'Write a rule or a keep for each column, for example:' || E'\n' || coalesce(suggestions, '');
	END IF;
	SELECT * INTO k FROM @extschema@.tdgen_key_status();
	phases := phases || jsonb_build_object('gate', tdgen.seconds_since(t0));

	-- production's schema, read once, in this snapshot
	t0 := clock_timestamp();
	PERFORM tdgen.announce(e.name, 'schema');
	snap := tdgen.remote_schema(s.name);
	-- the source's schemas and those whose objects they use
	SELECT jsonb_agg(to_jsonb(m)), jsonb_object_agg(m.source_schema, m.shadow_schema) INTO schemas, map
	FROM tdgen.schema_map(e, ARRAY(SELECT jsonb_array_elements_text(snap -> 'extra'))::name[]) AS m;
	-- and extensions' objects by their names in the staging database
	map := map || jsonb_build_object('', tdgen.extension_names(snap));
	PERFORM tdgen.check_target(e, tdgen.swapped_targets(e, schemas));
	SELECT pc.cols, pc.fks INTO cols, fks FROM tdgen.production_columns(s.name) AS pc;
	SELECT coalesce(array_agg(DISTINCT tdgen.qualified(c.schema_name, c.table_name)), '{}') INTO skipped
	FROM tdgen.effective_columns(e.name, cols, fks) AS c WHERE c.mode = 'skip';
	-- the shadow schemas belong to the owner, who builds everything in them
	PERFORM tdgen.execute_quietly(ARRAY(SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', x)
										FROM tdgen.leftover_schemas(e.name) AS x));
	FOR tbl IN SELECT x.shadow_schema FROM jsonb_to_recordset(schemas) AS x(shadow_schema name) LOOP
		EXECUTE format('CREATE SCHEMA %I AUTHORIZATION %I', tbl.shadow_schema, e.owner);
	END LOOP;
	-- function bodies are production's, checked there: the tables a
	-- function reads may come after it
	PERFORM set_config('check_function_bodies', 'off', true);
	PERFORM tdgen.execute_quietly(ARRAY(SELECT tdgen.shadow_ddl(snap, map, 'create', skipped)));
	phases := phases || jsonb_build_object('schema', tdgen.seconds_since(t0));

	-- each table to load, referenced ones first, with the SELECT that
	-- reads it from its foreign table, every masked column through its
	-- transform on the way in
	SELECT coalesce(jsonb_agg(jsonb_build_object(
				'load_order', p.load_order, 'qualified', p.table_name, 'mode', p.mode,
				'schema_name', (tdgen.parse_name(p.table_name, 2))[1], 'table_name', (tdgen.parse_name(p.table_name, 2))[2])
			ORDER BY p.load_order), '[]')
	INTO plan
	FROM tdgen.plan(e.name) AS p WHERE p.mode <> 'skip';
	SELECT jsonb_agg(p || jsonb_build_object('sql', l.sql) ORDER BY (p ->> 'load_order')::integer)
	INTO plan
	FROM jsonb_array_elements(plan) AS p
	LEFT JOIN tdgen.load_sqls(e.name, s, cols, fks, map) AS l
		   ON l.schema_name = p ->> 'schema_name' AND l.table_name = p ->> 'table_name';
	INSERT INTO tdgen.run_column (run_id, schema_name, table_name, column_name, action, transform, params, key_version)
	SELECT run_id, c.schema_name, c.table_name, c.column_name,
		   CASE WHEN c.generated THEN 'generated' ELSE c.action END, c.transform, c.params,
		   CASE WHEN c.action = 'mask' THEN k.version END
	FROM tdgen.effective_columns(e.name, cols, fks) AS c
	WHERE c.mode = 'copy';

	-- the fdw transfer loads here, in postgres_fdw's snapshot of this
	-- transaction, into the tables it made (so the rows go in frozen)
	IF r.transfer = 'fdw' THEN
		t0 := clock_timestamp();
		FOR tbl IN SELECT * FROM jsonb_to_recordset(plan) AS p(qualified text, mode text, schema_name name, table_name name, sql text)
		LOOP
			IF tbl.mode = 'copy' THEN
				n := n + 1;
				PERFORM tdgen.announce(e.name, 'load', n, tdgen.tables_to_load(plan), tbl.qualified);
			END IF;
			PERFORM tdgen.record_load(run_id, tbl.schema_name, tbl.table_name, tbl.mode, format('%I.%I', map ->> tbl.schema_name, tbl.table_name),
									  CASE WHEN tbl.mode = 'copy'
										   THEN tdgen.run_as_owner(ARRAY[format('SELECT tdgen.load_rows(%L, %L)',
																		  format('%I.%I', map ->> tbl.schema_name, tbl.table_name), tbl.sql)])::bigint
										   ELSE 0 END,
									  tdgen.seconds_since(t0));
			t0 := clock_timestamp();
		END LOOP;
		phases := phases || jsonb_build_object('load', (SELECT sum(rt.seconds) FROM tdgen.run_table AS rt WHERE rt.run_id = refresh_prepare.run_id));
	ELSE
		snapshot := tdgen.remote_export();
	END IF;

	UPDATE tdgen.run AS x SET key_version = k.version, key_fingerprint = k.fingerprint, phase_seconds = phases,
							  target_schemas = (SELECT jsonb_object_agg(m ->> 'source_schema', m ->> 'target_schema')
												FROM jsonb_array_elements(schemas) AS m)
	WHERE x.id = run_id;
	INSERT INTO tdgen.run_state (run_id, state)
	VALUES (run_id, jsonb_build_object('snap', snap, 'skipped', to_jsonb(skipped), 'plan', plan, 'snapshot', snapshot,
									   'server', s.server, 'schemas', schemas, 'map', map,
									   'rebody', to_jsonb(tdgen.function_bodies(snap, schemas))));
END
$$;

-- The functions and procedures a refresh makes, as CREATE OR REPLACE
-- statements that name production's schemas by their targets (schemas:
-- tdgen.schema_map rows as jsonb).  The shadow schemas' functions are made
-- naming the shadow schemas, in which their bodies run during the
-- refresh; once the shadow schemas have the targets' names, these give
-- the same functions the bodies and search_path settings that name them.
CREATE FUNCTION tdgen.function_bodies(snap jsonb, schemas jsonb)
RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT coalesce(array_agg(tdgen.retarget_function(p.definition,
													  (SELECT jsonb_object_agg(m ->> 'source_schema', m ->> 'target_schema')
													   FROM jsonb_array_elements(schemas) AS m)
													  || jsonb_build_object('', tdgen.extension_names(snap))) ORDER BY p.oid), '{}')
	FROM jsonb_to_recordset(snap -> 'proc') AS p(oid oid, pronamespace oid, prokind "char", definition text)
	JOIN jsonb_to_recordset(snap -> 'namespace') AS n(oid oid, nspname name) ON n.oid = p.pronamespace
	WHERE p.prokind IN ('f', 'p', 'w') AND tdgen.reproduced(snap, n.nspname, 'pg_proc', p.oid);
END;

-- Per table, the SELECT that reads it from its foreign table into the
-- shadow table: one expression per stored column, masked or kept.
CREATE FUNCTION tdgen.load_sqls(environment text, s tdgen.source, cols jsonb, fks jsonb, map jsonb)
RETURNS TABLE (schema_name name, table_name name, sql text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT c.schema_name, c.table_name,
		   format('SELECT %s FROM %I.%I',
				  string_agg(tdgen.load_expression(c.column_name, c.local_type,
												   format_type(a.atttypid, a.atttypmod), c.action, c.transform, c.params),
							 ', ' ORDER BY a.attnum),
				  s.local_schema, sr.local_name)
	FROM tdgen.effective_columns(load_sqls.environment, cols, fks) AS c
	JOIN pg_class AS pc ON pc.relname = c.table_name AND pc.relnamespace = to_regnamespace(quote_ident(map ->> c.schema_name))
	JOIN pg_attribute AS a ON a.attrelid = pc.oid AND a.attname = c.column_name AND NOT a.attisdropped
	JOIN tdgen.source_relation AS sr ON sr.source = s.name AND sr.schema_name = c.schema_name
									 AND sr.table_name = c.table_name
	WHERE NOT c.generated
	GROUP BY c.schema_name, c.table_name, sr.local_name;
END;

-- A job of the second step: the statement, after it names the worker's
-- session for tdgen.progress (tdgen.session_label).
CREATE FUNCTION tdgen.job_sql(phase text, n integer, total integer, table_name text, statement text)
RETURNS text
LANGUAGE sql STABLE
RETURN format('SELECT set_config(%L, %L, false); %s', 'application_name',
			  tdgen.session_label(phase, n, total, table_name), statement);

-- How many tables of a plan are loaded (the others are made empty).
CREATE FUNCTION tdgen.tables_to_load(plan jsonb)
RETURNS integer
LANGUAGE sql IMMUTABLE
RETURN (SELECT count(*) FROM jsonb_array_elements(plan) AS p WHERE p ->> 'mode' = 'copy');

-- Record a table's load: rows, bytes of its rows on disk (partitions and
-- TOAST included, indexes not), seconds.
CREATE FUNCTION tdgen.record_load(run_id bigint, schema_name name, table_name name, mode text, shadow_table text,
								  loaded bigint, seconds double precision)
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	INSERT INTO tdgen.run_table (run_id, schema_name, table_name, mode, rows, bytes, seconds)
	VALUES (run_id, schema_name, table_name, mode, loaded,
			coalesce((SELECT sum(pg_table_size(pt.relid)) FROM pg_partition_tree(shadow_table::regclass) AS pt),
					 pg_table_size(shadow_table::regclass)),
			seconds);
END;

-- The second step, in jobs side by side (the environment's jobs): with the
-- copy transfer each table loaded by a background worker in production's
-- exported snapshot; each table's keys, indexes and statistics as soon
-- as it is loaded; each foreign key once both its tables have theirs.
-- Then the sequences and the swap, here.  The shadow schema is committed:
-- on failure the caller drops it.
CREATE FUNCTION tdgen.refresh_build(run_id bigint)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r tdgen.run := tdgen.running_run(run_id);
	state jsonb := (SELECT st.state FROM tdgen.run_state AS st WHERE st.run_id = refresh_build.run_id);
	e tdgen.environment;
	map jsonb := state -> 'map';
	skipped text[] := ARRAY(SELECT jsonb_array_elements_text(state -> 'skipped'));
	plan jsonb := state -> 'plan';
	phases jsonb;
	t0 timestamptz;
	statements text[] := '{}';
	after integer[] := '{}';
	notices text[] := '{}';
	loads text[] := '{}';
	load_schemas name[] := '{}';
	load_tables name[] := '{}';
	shadow_table text;
	-- per shadow table (qualified), the number of its load job, of the job giving it
	-- its keys and indexes, and of the last foreign key job on it
	loaded jsonb := '{}';
	built jsonb := '{}';
	locked jsonb := '{}';
	tbl record;
	done record;
	total integer := tdgen.tables_to_load(state -> 'plan');
BEGIN
	e := tdgen.resolve_environment(r.environment);
	phases := r.phase_seconds;

	-- the jobs, each with the (up to four) earlier ones it comes after
	t0 := clock_timestamp();
	PERFORM tdgen.announce(e.name, CASE WHEN r.transfer = 'copy' THEN 'load' ELSE 'constraints' END);
	IF r.transfer = 'copy' THEN
		-- a load per table, which first empties the table so its rows go in
		-- frozen
		FOR tbl IN
			SELECT p.*, row_number() OVER (ORDER BY p.load_order) AS n
			FROM jsonb_to_recordset(plan) AS p(load_order integer, qualified text, mode text, schema_name name, table_name name,
											   sql text)
			WHERE p.mode = 'copy'
		LOOP
			shadow_table := format('%I.%I', map ->> tbl.schema_name, tbl.table_name);
			statements := statements || tdgen.job_sql('load', tbl.n::integer, total, tbl.qualified,
													  format('SELECT tdgen.remote_begin(%L, %L); TRUNCATE %s; SELECT tdgen.copy_rows(%L, %L)',
															 state ->> 'server', state ->> 'snapshot', shadow_table, shadow_table, tbl.sql));
			after := after || ARRAY[[0, 0, 0, 0]];
			notices := notices || tdgen.progress_notice(e.name, 'load', tbl.n::integer, total, tbl.qualified);
			loads := loads || tbl.qualified;
			load_schemas := load_schemas || tbl.schema_name;
			load_tables := load_tables || tbl.table_name;
			loaded := loaded || jsonb_build_object(shadow_table, cardinality(statements));
		END LOOP;
	END IF;
	-- each table's keys, indexes and statistics, after its load
	FOR tbl IN SELECT * FROM tdgen.shadow_table_work(state -> 'snap', map, skipped) AS w LOOP
		statements := statements || tdgen.job_sql('constraints', NULL, NULL, tbl.qualified,
												  tbl.statements);
		after := after || ARRAY[[coalesce((loaded ->> tbl.shadow_table)::integer, 0), 0, 0, 0]];
		notices := notices || NULL::text;
		built := built || jsonb_build_object(tbl.shadow_table, cardinality(statements));
	END LOOP;
	-- each foreign key after both its tables' keys and indexes, and after
	-- the foreign key before it on either table (both take a lock that
	-- would make them wait for each other)
	FOR tbl IN SELECT * FROM tdgen.shadow_foreign_keys(state -> 'snap', map, skipped) AS f LOOP
		statements := statements || tdgen.job_sql('constraints', NULL, NULL, tbl.qualified,
												  tbl.statement);
		after := after || ARRAY[[coalesce((built ->> tbl.shadow_table)::integer, 0), coalesce((built ->> tbl.referenced)::integer, 0),
								 coalesce((locked ->> tbl.shadow_table)::integer, 0), coalesce((locked ->> tbl.referenced)::integer, 0)]];
		notices := notices || NULL::text;
		locked := locked || jsonb_build_object(tbl.shadow_table, cardinality(statements), tbl.referenced, cardinality(statements));
	END LOOP;
	FOR done IN SELECT * FROM tdgen.run_jobs(statements, after, tdgen.jobs(e.name), notices) AS j WHERE j.job <= cardinality(loads) LOOP
		PERFORM tdgen.record_load(run_id, load_schemas[done.job], load_tables[done.job], 'copy',
								  format('%I.%I', map ->> load_schemas[done.job], load_tables[done.job]), done.result::bigint, done.seconds);
	END LOOP;
	-- tables made empty
	IF r.transfer = 'copy' THEN
		FOR tbl IN SELECT * FROM jsonb_to_recordset(plan) AS p(schema_name name, table_name name, mode text) WHERE p.mode <> 'copy' LOOP
			PERFORM tdgen.record_load(run_id, tbl.schema_name, tbl.table_name, tbl.mode,
									  format('%I.%I', map ->> tbl.schema_name, tbl.table_name), 0, 0);
		END LOOP;
		phases := phases || jsonb_build_object('load', tdgen.seconds_since(t0));
		t0 := clock_timestamp();
	END IF;

	-- sequences past the rows loaded
	PERFORM tdgen.announce(e.name, 'constraints');
	PERFORM tdgen.execute_quietly(ARRAY(SELECT tdgen.shadow_ddl(state -> 'snap', map, 'finish', skipped,
															   coalesce((e.options ->> 'triggers')::boolean, true))));
	phases := phases || jsonb_build_object('constraints', tdgen.seconds_since(t0));
	PERFORM tdgen.remote_end();

	-- the swap: the shadow schemas take the targets' names and grants
	t0 := clock_timestamp();
	PERFORM tdgen.announce(e.name, 'swap');
	PERFORM tdgen.swap_schemas(e, state -> 'schemas', ARRAY(SELECT jsonb_array_elements_text(state -> 'rebody')));
	phases := phases || jsonb_build_object('swap', tdgen.seconds_since(t0));

	UPDATE tdgen.run AS x
	SET phase_seconds = phases,
		rows = (SELECT sum(rt.rows) FROM tdgen.run_table AS rt WHERE rt.run_id = x.id),
		bytes = (SELECT sum(rt.bytes) FROM tdgen.run_table AS rt WHERE rt.run_id = x.id)
	WHERE x.id = run_id;
END
$$;

-- Put the shadow schemas in place of the targets, in the caller's
-- transaction (readers see all the old or all the new, across every
-- schema): once the targets are checked to be the environment's own with
-- nothing outside depending on them, the shadow schemas get the
-- environment's grants and its mark, every old target is renamed out of
-- the way, every shadow schema takes its target's name, and the old ones
-- are dropped (with any target of a schema the source no longer reads).
-- Then the functions get their bodies as they read under the targets'
-- names (rebody, tdgen.function_bodies).
-- schemas: the refresh's tdgen.schema_map rows, as jsonb.
CREATE FUNCTION tdgen.swap_schemas(e tdgen.environment, schemas jsonb, rebody text[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
	m record;
	targets name[] := tdgen.swapped_targets(e, schemas);
	old_names name[] := '{}';
	orphan name;
BEGIN
	PERFORM tdgen.check_target(e, targets);
	FOR m IN SELECT * FROM jsonb_to_recordset(schemas) AS x(target_schema name, shadow_schema name, old_schema name) LOOP
		PERFORM tdgen.execute_quietly(ARRAY(SELECT tdgen.grant_statements(e.name, m.shadow_schema)));
		EXECUTE format('COMMENT ON SCHEMA %I IS %L', m.shadow_schema, tdgen.target_mark(e.name));
	END LOOP;
	-- renames need CREATE on the database, which the owner need not have;
	-- drops are the owner's, who can drop only its own schemas
	FOR m IN
		SELECT x.*, n.nspowner FROM jsonb_to_recordset(schemas) AS x(target_schema name, old_schema name)
		JOIN pg_namespace AS n ON n.nspname = x.target_schema
	LOOP
		PERFORM tdgen.execute_quietly(ARRAY[format('DROP SCHEMA IF EXISTS %I CASCADE', m.old_schema)]);
		IF m.nspowner <> quote_ident(e.owner)::regrole THEN
			-- a target made while the environment had another owner
			EXECUTE format('ALTER SCHEMA %I OWNER TO %I', m.target_schema, e.owner);
		END IF;
		EXECUTE format('ALTER SCHEMA %I RENAME TO %I', m.target_schema, m.old_schema);
		old_names := old_names || m.old_schema;
	END LOOP;
	FOR orphan IN
		SELECT t FROM unnest(targets) AS t
		WHERE t NOT IN (SELECT x ->> 'target_schema' FROM jsonb_array_elements(schemas) AS x)
		  AND to_regnamespace(quote_ident(t)) IS NOT NULL
	LOOP
		IF (SELECT n.nspowner FROM pg_namespace AS n WHERE n.nspname = orphan) <> quote_ident(e.owner)::regrole THEN
			EXECUTE format('ALTER SCHEMA %I OWNER TO %I', orphan, e.owner);
		END IF;
		old_names := old_names || orphan;
	END LOOP;
	FOR m IN SELECT * FROM jsonb_to_recordset(schemas) AS x(target_schema name, shadow_schema name) LOOP
		EXECUTE format('ALTER SCHEMA %I RENAME TO %I', m.shadow_schema, m.target_schema);
	END LOOP;
	PERFORM tdgen.execute_quietly(ARRAY(SELECT format('DROP SCHEMA %I CASCADE', x) FROM unnest(old_names) AS x));
	PERFORM set_config('check_function_bodies', 'off', true);
	PERFORM tdgen.execute_quietly(rebody);
END
$$;

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

-- The run row, before any work.  A role that may not refresh the
-- environment gets a run denied (42501); without wait, a refresh already
-- running makes it busy (55P03); both finished at once.  Otherwise the
-- per-environment lock (waited for, with wait), the leftovers of a refresh
-- that died cleaned up, and a running run.
CREATE FUNCTION tdgen.run_start(environment text, wait boolean, caller oid)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
	id bigint;
	transfer text;
	refused text;
BEGIN
	IF to_regrole(quote_ident(e.owner)) IS NULL OR tdgen.is_superuser(quote_ident(e.owner)::regrole) THEN
		RAISE EXCEPTION 'the owner % of environment % is missing or a superuser', quote_ident(e.owner), quote_literal(e.name)
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'A refresh runs as its environment''s owner and never as a superuser: name another owner with tdgen_environment(..., owner => role).';
	END IF;
	IF NOT tdgen.may_refresh(e.name, caller) THEN
		refused := 'denied';
	ELSIF wait THEN
		PERFORM pg_advisory_lock(tdgen.refresh_lock_key(e.name));
	ELSIF NOT pg_try_advisory_lock(tdgen.refresh_lock_key(e.name)) THEN
		refused := 'busy';
	END IF;
	IF refused IS NOT NULL THEN
		INSERT INTO tdgen.run AS r (environment, source, target_schema, role, application_name, status, finished_at,
									sqlstate, message)
		VALUES (e.name, e.source, e.target_schema, caller::regrole::name, current_setting('application_name'), refused,
				clock_timestamp(), CASE refused WHEN 'denied' THEN '42501' ELSE '55P03' END,
				CASE refused WHEN 'denied' THEN format('permission denied to refresh environment %s', quote_literal(e.name))
							 ELSE format('a refresh of environment %s is already running', quote_literal(e.name)) END)
		RETURNING r.id INTO id;
		RETURN id;
	END IF;
	-- holding the lock, no other refresh of this environment runs: a run
	-- still marked running died with its backend
	UPDATE tdgen.run AS r SET status = 'failed', finished_at = clock_timestamp(), sqlstate = '57P01',
							  message = 'the refresh was interrupted (its session or the server ended)'
	WHERE r.environment = e.name AND r.status = 'running';
	INSERT INTO tdgen.run AS r (environment, source, target_schema, role, transfer, application_name)
	VALUES (e.name, e.source, e.target_schema, caller::regrole::name, tdgen.transfer(e.name),
			current_setting('application_name'))
	RETURNING r.id, r.transfer INTO id, transfer;
	-- new production columns are recorded and alerted here, committed with
	-- the run row, whatever the work that follows does; if production
	-- cannot be read, the work will fail on it and say so
	BEGIN
		IF transfer = 'copy' THEN
			PERFORM tdgen.remote_begin((tdgen.resolve_source(e.source)).server);
		END IF;
		PERFORM count(*) FROM tdgen.check_problems(e.name);
	EXCEPTION WHEN OTHERS THEN
		NULL;
	END;
	RETURN id;
END
$$;

-- Close a run: succeeded, or failed with its SQLSTATE and message (and an
-- alert when the gate refused) and its shadow schema dropped; the lock
-- released.
CREATE FUNCTION tdgen.run_finish(run_id bigint, err_sqlstate text, err_message text, err_detail text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
	r tdgen.run := tdgen.running_run(run_id);
BEGIN
	DELETE FROM tdgen.run_state AS st WHERE st.run_id = run_finish.run_id;
	UPDATE tdgen.run AS x
	SET status = CASE WHEN err_sqlstate IS NULL THEN 'succeeded' ELSE 'failed' END,
		finished_at = clock_timestamp(), sqlstate = err_sqlstate, message = err_message
	WHERE x.id = run_id
	RETURNING * INTO r;
	IF err_sqlstate = 'TG001' THEN
		PERFORM tdgen.raise_alert('gate_refused', r.source, r.environment,
								  format('refresh of %s refused: %s', r.environment, err_message),
								  jsonb_build_object('run_id', r.id, 'problems', string_to_array(err_detail, E'\n')));
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
	PERFORM tdgen.remote_end();
	PERFORM pg_advisory_unlock(tdgen.refresh_lock_key(r.environment));
	PERFORM set_config('application_name', coalesce(r.application_name, ''), false);
END
$$;

-- The refresh: a C procedure that runs the steps above as tdgen's owner
-- for its caller, committing between them (src/entry.c).
CREATE PROCEDURE tdgen_refresh(environment text, wait boolean DEFAULT false)
LANGUAGE C AS 'MODULE_PATHNAME', 'tdgen_refresh';

-- ---------------------------------------------------------------------------
-- Report
-- ---------------------------------------------------------------------------

-- A run as JSON for CI.  Shape "tdgen.run/1": documented in docs/refresh.md;
-- fields are only ever added within a version.
CREATE FUNCTION tdgen_report(run_id bigint)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT jsonb_build_object(
		'format', 'tdgen.run/1',
		'id', r.id, 'environment', r.environment, 'source', r.source, 'target_schema', r.target_schema,
		'target_schemas', r.target_schemas,
		'triggered_by', r.triggered_by, 'status', r.status,
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
					FROM tdgen.run_column AS c WHERE c.run_id = r.id))
	FROM tdgen.run AS r WHERE r.id = tdgen_report.run_id;
END;

-- ---------------------------------------------------------------------------
-- Privileges and comments
-- ---------------------------------------------------------------------------

-- The refresh's steps run as tdgen's owner only, called by tdgen_refresh;
-- tdgen_refresh itself is open: run_start decides who may refresh what,
-- and records who tried.
REVOKE ALL ON FUNCTION tdgen.refresh_prepare(bigint), tdgen.refresh_build(bigint),
	tdgen.swap_schemas(tdgen.environment, jsonb, text[]), tdgen.run_start(text, boolean, oid), tdgen.run_finish(bigint, text, text, text),
	tdgen.running_run(bigint), tdgen.plan(text), tdgen.plan_by(regrole, text), tdgen.job_sql(text, integer, integer, text, text),
	tdgen_report(bigint), tdgen.execute_quietly(text[]), tdgen.load_rows(regclass, text),
	tdgen.copy_rows(regclass, text), tdgen.run_jobs(text[], integer[], integer, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tdgen_report(bigint) TO tdgen_admin;

COMMENT ON TABLE tdgen.run IS
	'one row per refresh, written before the work starts: who, when, status, SQLSTATE and message on failure, key version, transfer, seconds per phase, rows and bytes';
COMMENT ON SEQUENCE tdgen.run_id_seq IS
	'numbers the runs';
COMMENT ON TABLE tdgen.run_table IS
	'per run and production table: mode, rows and bytes loaded, seconds';
COMMENT ON TABLE tdgen.run_column IS
	'per run and production column: kept, masked (transform, parameters, key version) or generated';
COMMENT ON VIEW tdgen.progress IS
	'refreshes in progress: phase, table n of m, rows loaded so far into that table, elapsed time';
COMMENT ON FUNCTION tdgen.refresh_lock_key(text) IS
	'the advisory lock key of an environment''s refreshes';
COMMENT ON FUNCTION tdgen.progress_notice(text, text, integer, integer, text) IS
	'what a refresh says as it starts a phase, or a table''s load';
COMMENT ON FUNCTION tdgen.plan(text) IS
	'what a refresh would do: tables in load order, modes, estimated rows and bytes, each column''s transform';
COMMENT ON FUNCTION tdgen.plan_by(regrole, text) IS
	'tdgen_plan for a calling role that may refresh the environment';
COMMENT ON FUNCTION tdgen_plan(text) IS
	'what a refresh would do, without moving data: tables in load order, modes, estimated rows and bytes, each column''s transform';
COMMENT ON FUNCTION tdgen.load_rows(regclass, text) IS
	'loads the rows of a query (one SELECT of the table''s columns that are not generated, in order, of their types) into a table in batches; returns how many';
COMMENT ON FUNCTION tdgen.run_jobs(text[], integer[], integer, text[]) IS
	'runs statements side by side in background workers, each in its own transaction, a statement after the earlier ones it names; returns each one''s result and seconds';
COMMENT ON FUNCTION tdgen.copy_rows(regclass, text) IS
	'loads what tdgen.load_rows would for the same query, reading the foreign table''s rows by binary COPY over tdgen''s connection; returns how many';
COMMENT ON FUNCTION tdgen.load_expression(name, text, text, text, text, jsonb) IS
	'the SQL that reads one column into the shadow table: through its transform, or kept, cast to the column type';
COMMENT ON FUNCTION tdgen.announce(text, text, integer, integer, text) IS
	'reports refresh progress: a NOTICE and the session''s application_name';
COMMENT ON FUNCTION tdgen.seconds_since(timestamptz) IS
	'seconds elapsed since an instant, to the millisecond';
COMMENT ON FUNCTION tdgen.execute_quietly(text[]) IS
	'runs statements with notices quieted';
COMMENT ON FUNCTION tdgen.refresh_prepare(bigint) IS
	'the first step of a refresh, committed before the second: gate, shadow schema, the load with the fdw transfer; what the second step needs goes to tdgen.run_state';
COMMENT ON TABLE tdgen.run_state IS
	'what the first step of a running refresh hands the second; written and read by tdgen only';
COMMENT ON FUNCTION tdgen.running_run(bigint) IS
	'the run row of a refresh running in this session; 55000 for any other run';
COMMENT ON FUNCTION tdgen.refresh_build(bigint) IS
	'the second step of a refresh: loads (copy transfer), each table''s keys, indexes and statistics, and the foreign keys in background workers, then sequences and the swap';
COMMENT ON FUNCTION tdgen.function_bodies(jsonb, jsonb) IS
	'the functions a refresh makes, as CREATE OR REPLACE statements naming the target schemas, run once the shadow schemas have their names';
COMMENT ON FUNCTION tdgen.load_sqls(text, tdgen.source, jsonb, jsonb, jsonb) IS
	'per table, the SELECT that reads it from its foreign table into the shadow table, each column masked or kept';
COMMENT ON FUNCTION tdgen.session_label(text, integer, integer, text) IS
	'the application_name of a session at work on a refresh, as tdgen.progress reads it';
COMMENT ON FUNCTION tdgen.job_sql(text, integer, integer, text, text) IS
	'a job''s statement, first naming the worker''s session for tdgen.progress';
COMMENT ON FUNCTION tdgen.tables_to_load(jsonb) IS
	'how many tables of a refresh plan are loaded';
COMMENT ON FUNCTION tdgen.record_load(bigint, name, name, text, text, bigint, double precision) IS
	'records a table''s load in tdgen.run_table: rows, bytes of its rows, seconds';
COMMENT ON FUNCTION tdgen.swap_schemas(tdgen.environment, jsonb, text[]) IS
	'puts the shadow schemas in place of the targets in one transaction (checked first), with the environment''s grants and mark, and drops the old ones';
COMMENT ON FUNCTION tdgen.run_start(text, boolean, oid) IS
	'records a run of an environment for a role: denied or busy at once, else running, with the environment''s lock held';
COMMENT ON FUNCTION tdgen.run_finish(bigint, text, text, text) IS
	'closes a run as succeeded or failed (with an alert when the gate refused) and releases the lock';
COMMENT ON PROCEDURE tdgen_refresh(text, boolean) IS
	'refreshes an environment: a masked copy of production swapped in for its target schema; one at a time per environment';
COMMENT ON FUNCTION tdgen_report(bigint) IS
	'a run as JSON (format tdgen.run/1) for CI';
