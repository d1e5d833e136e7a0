-- ===========================================================================
-- schema/refresh.sql
--     CALL tdgen_refresh('qa'): a masked copy of production, built in
--     shadow schemas and swapped in for the target schemas in one commit.
--
-- tdgen_refresh (src/entry.c) opens the run (schema/run.sql) and commits
-- it, so the record survives whatever follows; then two steps, committed
-- in between so that background workers see the shadow tables: the first
-- (the gate, the shadow schemas, with the fdw transfer the load) and the
-- second (the jobs, the finish, the swap).  Every production read happens
-- in one snapshot (see refresh_prepare).  On failure the targets are as
-- they were; then the run is closed.
--
-- The steps (and the check and plan) run with jit off: their queries are
-- planned over catalog documents whose sizes the planner cannot know, so
-- their estimated costs pass jit_above_cost while they run in
-- milliseconds; compiling them cost a second per refresh of the demo shop,
-- ten times the rest of its catalog work.
-- ===========================================================================

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
-- on them; with keys (a subset's key set, its columns k1, k2, ...), only
-- the rows whose key_columns equal one of its rows, a batch at a time
-- (key_indexed: an index of production's table leads with the first).
CREATE FUNCTION tdgen.copy_rows(target regclass, query text, keys regclass DEFAULT NULL, key_columns text[] DEFAULT NULL,
								key_types text[] DEFAULT NULL, key_indexed boolean DEFAULT false)
RETURNS bigint
LANGUAGE C VOLATILE PARALLEL UNSAFE
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
									-- another column of the row, as text ('' for NULL);
									-- through jsonb, whose dates are ISO whatever the
									-- DateStyle
									WHEN t.parameters -> p.key ->> 'type' = 'column'
									THEN format('coalesce(to_jsonb(%I) #>> ''{}'', '''')', p.value #>> '{}')
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
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
	r tdgen.run;
	e tdgen.environment;
	s tdgen.source;
	schemas jsonb;
	map jsonb;
	production jsonb;
	snap jsonb;
	cols jsonb;
	fks jsonb;
	k record;
	phases jsonb := '{}';
	t0 timestamptz;
	tbl record;
	n integer := 0;
	skipped text[];
	plan jsonb;
	snapshot text;
	subset jsonb;
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

	-- the gate: nothing moves while a column lacks a rule, on production as
	-- read once, in this snapshot, for the whole step
	t0 := clock_timestamp();
	PERFORM tdgen.announce(e.name, 'gate');
	production := tdgen.read_production(s.name);
	snap := production -> 'snap';
	cols := production -> 'cols';
	fks := production -> 'fks';
	IF EXISTS (SELECT FROM tdgen.check_problems(e.name, production)) THEN
		-- refused, with the scan's suggestions (run_finish raises the alert)
		PERFORM tdgen.gate_refusal(e.name, (SELECT jsonb_agg(to_jsonb(c)) FROM @extschema@.tdgen_check(e.name) AS c));
	END IF;
	SELECT * INTO k FROM @extschema@.tdgen_key_status();
	phases := phases || jsonb_build_object('gate', tdgen.seconds_since(t0));

	-- a subset: the keys of the rows to load, known (and within the caps)
	-- before any row moves
	IF EXISTS (SELECT FROM tdgen.subset_target AS st WHERE st.environment = e.name) THEN
		IF r.transfer <> 'copy' THEN
			RAISE EXCEPTION 'a subset needs the copy transfer, and environment % has transfer %', quote_literal(e.name), r.transfer
				USING ERRCODE = 'feature_not_supported',
					  HINT = 'A subset''s keys and rows are read in one snapshot over tdgen''s own connection: set the option transfer to copy, or drop the subset targets.';
		END IF;
		t0 := clock_timestamp();
		PERFORM tdgen.announce(e.name, 'keys');
		subset := tdgen.subset_prepare(e, production, run_id);
		phases := phases || jsonb_build_object('keys', tdgen.seconds_since(t0));
	END IF;

	-- the shadow schemas
	t0 := clock_timestamp();
	PERFORM tdgen.announce(e.name, 'schema');
	-- the source's schemas and those whose objects they use
	SELECT jsonb_agg(to_jsonb(m)), jsonb_object_agg(m.source_schema, m.shadow_schema) INTO schemas, map
	FROM tdgen.schema_map(e, ARRAY(SELECT jsonb_array_elements_text(snap -> 'extra'))::name[]) AS m;
	-- and extensions' objects by their names in the staging database
	map := map || jsonb_build_object('', tdgen.extension_names(snap));
	PERFORM tdgen.check_target(e, tdgen.swapped_targets(e, schemas));
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
	-- (in a subset, by its key set, whole, or not at all)
	SELECT coalesce(jsonb_agg(jsonb_build_object(
				'load_order', p.load_order, 'qualified', p.table_name,
				'mode', coalesce(subset #>> ARRAY['tables', p.table_name, 'mode'], p.mode),
				'keys', subset #> ARRAY['tables', p.table_name, 'keys'],
				'key_columns', subset #> ARRAY['tables', p.table_name, 'key_columns'],
				'key_types', subset #> ARRAY['tables', p.table_name, 'key_types'],
				'key_indexed', subset #> ARRAY['tables', p.table_name, 'key_indexed'],
				'nulls', subset #> ARRAY['tables', p.table_name, 'nulls'],
				'schema_name', (tdgen.parse_name(p.table_name, 2))[1], 'table_name', (tdgen.parse_name(p.table_name, 2))[2])
			ORDER BY p.load_order), '[]')
	INTO plan
	FROM tdgen.plan(e.name, production) AS p WHERE p.mode <> 'skip';
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
	WHERE c.mode IN ('copy', 'lookup');

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
			PERFORM tdgen.record_load(run_id, tbl.schema_name, tbl.table_name, tbl.mode, map,
									  CASE WHEN tbl.mode = 'copy'
										   THEN tdgen.run_as_owner(ARRAY[format('SELECT tdgen.load_rows(%L, %L)',
																		  tdgen.shadow_table(map, tbl.schema_name, tbl.table_name), tbl.sql)])::bigint
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
									   'checks', coalesce(subset -> 'checks', '[]'),
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

-- Record a table's load: rows, bytes of its rows on disk in its shadow
-- table (map's; partitions and TOAST included, indexes not), seconds.
CREATE FUNCTION tdgen.record_load(run_id bigint, schema_name name, table_name name, mode text, map jsonb,
								  loaded bigint, seconds double precision)
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	INSERT INTO tdgen.run_table (run_id, schema_name, table_name, mode, rows, bytes, seconds)
	VALUES (run_id, schema_name, table_name, mode, loaded,
			coalesce((SELECT sum(pg_table_size(pt.relid))
					  FROM pg_partition_tree(tdgen.shadow_table(map, schema_name, table_name)::regclass) AS pt),
					 pg_table_size(tdgen.shadow_table(map, schema_name, table_name)::regclass)),
			seconds);
END;

-- The jobs of a refresh's second step, numbered in the order they are
-- given to tdgen.run_jobs, each with the (up to four) earlier ones it
-- comes after: with the copy transfer a load per table first (in load
-- order, each emptying its table first so its rows go in frozen; the
-- table's production name in schema_name and table_name); in a subset,
-- each key to set to NULL where its parent is absent, after both loads
-- and the table's previous one (the table's name in nulled); then each
-- table's keys, indexes and statistics, after its load; then each foreign
-- key after both its tables' keys and indexes, and after the foreign key
-- before it on either table (both take a lock that would make them wait
-- for each other).  state: the run's tdgen.run_state.
CREATE FUNCTION tdgen.build_jobs(environment text, transfer text, state jsonb)
RETURNS TABLE (job integer, statement text, after integer[], notice text, schema_name name, table_name name, nulled text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH load AS MATERIALIZED (
		SELECT row_number() OVER (ORDER BY p.load_order)::integer AS job, p.qualified, p.schema_name, p.table_name, p.sql,
			   p.keys, p.key_columns, p.key_types, p.key_indexed,
			   tdgen.shadow_table(state -> 'map', p.schema_name, p.table_name) AS shadow_table,
			   count(*) OVER ()::integer AS total
		FROM jsonb_to_recordset(state -> 'plan') AS p(load_order integer, qualified text, mode text, schema_name name,
													  table_name name, sql text, keys text, key_columns text[],
													  key_types text[], key_indexed boolean)
		WHERE p.mode = 'copy' AND transfer = 'copy'
	), nulls AS MATERIALIZED (
		-- in a subset, the keys to parents not in it set to NULL, a job a
		-- key after the loads of both tables and the table's job before
		SELECT ((SELECT count(*) FROM load) + row_number() OVER (ORDER BY p.qualified, x.child_name, x.child_columns))::integer AS job,
			   p.qualified, tdgen.shadow_table(state -> 'map', p.schema_name, p.table_name) AS shadow_table,
			   format('WITH tdgen_n AS (UPDATE %s AS tdgen_c SET (%s) = ROW(%s) WHERE %s RETURNING 1) SELECT count(*) FROM tdgen_n',
					  tdgen.shadow_table(state -> 'map', x.child_schema, x.child_name),
					  tdgen.sql_list(ARRAY(SELECT quote_ident(c) FROM unnest(x.child_columns) AS c)),
					  array_to_string(array_fill('NULL'::text, ARRAY[cardinality(x.child_columns)]), ', '),
					  tdgen.dangling(x.child_columns, tdgen.shadow_table(state -> 'map', x.parent_schema, x.parent_name),
									 x.parent_columns)) AS statement,
			   lc.job AS child_load, lp.job AS parent_load
		FROM jsonb_to_recordset(state -> 'plan') AS p(qualified text, schema_name name, table_name name, nulls jsonb)
		CROSS JOIN LATERAL jsonb_to_recordset(p.nulls) AS x(child_schema name, child_name name, child_columns name[],
															parent_schema name, parent_name name, parent_columns name[],
															parent text)
		LEFT JOIN load AS lc ON lc.qualified = p.qualified
		LEFT JOIN load AS lp ON lp.qualified = x.parent
		WHERE jsonb_typeof(p.nulls) = 'array'
	), chain AS MATERIALIZED (
		SELECT nl.job, nl.shadow_table, lag(nl.job) OVER (PARTITION BY nl.shadow_table ORDER BY nl.job) AS previous,
			   max(nl.job) OVER (PARTITION BY nl.shadow_table) AS last
		FROM nulls AS nl
	), work AS MATERIALIZED (
		SELECT ((SELECT count(*) FROM load) + (SELECT count(*) FROM nulls) + w.n)::integer AS job, w.*
		FROM tdgen.shadow_table_work(state -> 'snap', state -> 'map',
									 ARRAY(SELECT jsonb_array_elements_text(state -> 'skipped'))) WITH ORDINALITY AS w(shadow_table, qualified, statements, n)
	), fk AS MATERIALIZED (
		SELECT ((SELECT count(*) FROM load) + (SELECT count(*) FROM nulls) + (SELECT count(*) FROM work) + f.n)::integer AS job, f.*
		FROM tdgen.shadow_foreign_keys(state -> 'snap', state -> 'map',
									   ARRAY(SELECT jsonb_array_elements_text(state -> 'skipped'))) WITH ORDINALITY AS f(shadow_table, qualified, referenced, statement, n)
	), touch AS MATERIALIZED (
		-- each foreign key's job with the job of the one before it on each of its tables
		SELECT t.job, t.tbl, lag(t.job) OVER (PARTITION BY t.tbl ORDER BY t.job) AS previous
		FROM (SELECT f.job, f.shadow_table AS tbl FROM fk AS f
			  UNION
			  SELECT f.job, f.referenced FROM fk AS f) AS t
	)
	SELECT l.job, tdgen.job_sql('load', l.job, l.total, l.qualified,
								format('SELECT tdgen.remote_begin(%L, %L); TRUNCATE %s; SELECT tdgen.copy_rows(%L, %L, %L, %L, %L, %L)',
									   state ->> 'server', state ->> 'snapshot', l.shadow_table, l.shadow_table, l.sql,
									   l.keys, l.key_columns, l.key_types, coalesce(l.key_indexed, false))),
		   ARRAY[0, 0, 0, 0], tdgen.progress_notice(environment, 'load', l.job, l.total, l.qualified), l.schema_name, l.table_name,
		   NULL
	FROM load AS l
	UNION ALL
	SELECT nl.job, tdgen.job_sql('constraints', NULL, NULL, nl.qualified, nl.statement),
		   ARRAY[coalesce(nl.child_load, 0), coalesce(nl.parent_load, 0), coalesce(c.previous, 0), 0], NULL, NULL, NULL,
		   nl.qualified
	FROM nulls AS nl JOIN chain AS c ON c.job = nl.job
	UNION ALL
	SELECT w.job, tdgen.job_sql('constraints', NULL, NULL, w.qualified, w.statements),
		   ARRAY[coalesce(l.job, 0), coalesce((SELECT max(c.last) FROM chain AS c WHERE c.shadow_table = w.shadow_table), 0), 0, 0],
		   NULL, NULL, NULL, NULL
	FROM work AS w LEFT JOIN load AS l ON l.shadow_table = w.shadow_table
	UNION ALL
	SELECT f.job, tdgen.job_sql('constraints', NULL, NULL, f.qualified, f.statement),
		   ARRAY[coalesce(wt.job, 0), coalesce(wr.job, 0), coalesce(tt.previous, 0), coalesce(tr.previous, 0)],
		   NULL, NULL, NULL, NULL
	FROM fk AS f
	LEFT JOIN work AS wt ON wt.shadow_table = f.shadow_table
	LEFT JOIN work AS wr ON wr.shadow_table = f.referenced
	LEFT JOIN touch AS tt ON tt.job = f.job AND tt.tbl = f.shadow_table
	LEFT JOIN touch AS tr ON tr.job = f.job AND tr.tbl = f.referenced;
END;

-- The second step, in jobs side by side (the environment's jobs): with the
-- copy transfer each table loaded by a background worker in production's
-- exported snapshot; each table's keys, indexes and statistics as soon
-- as it is loaded; each foreign key once both its tables have theirs.
-- Then the sequences and the swap, here.  The shadow schema is committed:
-- on failure the caller drops it.
CREATE FUNCTION tdgen.refresh_build(run_id bigint)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
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
	load_schemas name[] := '{}';
	load_tables name[] := '{}';
	nulled text[] := '{}';
	tbl record;
	done record;
	dangling bigint;
BEGIN
	e := tdgen.resolve_environment(r.environment);
	phases := r.phase_seconds;

	-- the jobs, each with the (up to four) earlier ones it comes after
	t0 := clock_timestamp();
	PERFORM tdgen.announce(e.name, CASE WHEN r.transfer = 'copy' THEN 'load' ELSE 'constraints' END);
	SELECT coalesce(array_agg(j.statement ORDER BY j.job), '{}'), coalesce(array_agg(j.after ORDER BY j.job), '{}'),
		   coalesce(array_agg(j.notice ORDER BY j.job), '{}'),
		   coalesce(array_agg(j.schema_name ORDER BY j.job) FILTER (WHERE j.schema_name IS NOT NULL), '{}'),
		   coalesce(array_agg(j.table_name ORDER BY j.job) FILTER (WHERE j.table_name IS NOT NULL), '{}'),
		   coalesce(array_agg(j.nulled ORDER BY j.job), '{}')
	INTO statements, after, notices, load_schemas, load_tables, nulled
	FROM tdgen.build_jobs(e.name, r.transfer, state) AS j;
	FOR done IN SELECT * FROM tdgen.run_jobs(statements, after, tdgen.jobs(e.name), notices) AS j
				WHERE j.job <= cardinality(load_tables) OR nulled[j.job] IS NOT NULL LOOP
		IF done.job <= cardinality(load_tables) THEN
			PERFORM tdgen.record_load(run_id, load_schemas[done.job], load_tables[done.job], 'copy', map,
									  done.result::bigint, done.seconds);
		ELSE
			-- a subset's keys set to NULL
			UPDATE tdgen.run_subset AS s SET nulled_rows = s.nulled_rows + done.result::bigint
			WHERE s.run_id = refresh_build.run_id AND tdgen.qualified(s.schema_name, s.table_name) = nulled[done.job];
		END IF;
	END LOOP;
	-- tables made empty
	IF r.transfer = 'copy' THEN
		FOR tbl IN SELECT * FROM jsonb_to_recordset(plan) AS p(schema_name name, table_name name, mode text) WHERE p.mode <> 'copy' LOOP
			PERFORM tdgen.record_load(run_id, tbl.schema_name, tbl.table_name, tbl.mode, map, 0, 0);
		END LOOP;
		phases := phases || jsonb_build_object('load', tdgen.seconds_since(t0));
		t0 := clock_timestamp();
	END IF;

	-- a subset's references that no foreign key checks: none may dangle
	FOR tbl IN SELECT * FROM jsonb_to_recordset(state -> 'checks')
						AS x(name text, child text, parent text, child_schema name, child_name name, parent_schema name,
							 parent_name name, child_columns name[], parent_columns name[], "when" text) LOOP
		dangling := tdgen.run_as_owner(ARRAY[format('SELECT count(*) FROM %s AS tdgen_c WHERE %s',
			tdgen.shadow_table(map, tbl.child_schema, tbl.child_name),
			tdgen.dangling(tbl.child_columns, tdgen.shadow_table(map, tbl.parent_schema, tbl.parent_name), tbl.parent_columns,
						   tbl."when"))])::bigint;
		IF dangling > 0 THEN
			RAISE EXCEPTION 'reference % does not hold in the subset: % row(s) of % reference no row of %',
							tbl.name, dangling, tbl.child, tbl.parent
				USING ERRCODE = 'foreign_key_violation',
					  DETAIL = 'Production has these rows without their parent (their keys are withheld: they are production''s).',
					  HINT = 'Set the environment''s option orphans to "drop" or "null", or correct the relation (tdgen_relation).';
		END IF;
	END LOOP;

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

-- The refresh: a C procedure that runs the steps above as tdgen's owner
-- for its caller, committing between them (src/entry.c).  on_busy: what
-- it does while another refresh of the environment runs (fail, wait,
-- skip); "trigger": what started it (manual, cron, ci); force: past the
-- environment's min_interval (its owner or a superuser).
CREATE PROCEDURE tdgen_refresh(environment text, on_busy text DEFAULT 'fail', "trigger" text DEFAULT 'manual',
							   force boolean DEFAULT false)
LANGUAGE C AS 'MODULE_PATHNAME', 'tdgen_refresh';

-- ---------------------------------------------------------------------------
-- Report
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- Privileges and comments
-- ---------------------------------------------------------------------------

-- The refresh's steps run as tdgen's owner only, called by tdgen_refresh;
-- tdgen_refresh itself is open: run_start decides who may refresh what,
-- and records who tried.
REVOKE ALL ON FUNCTION tdgen.refresh_prepare(bigint), tdgen.refresh_build(bigint),
	tdgen.swap_schemas(tdgen.environment, jsonb, text[]), tdgen.job_sql(text, integer, integer, text, text),
	tdgen.build_jobs(text, text, jsonb), tdgen.execute_quietly(text[]), tdgen.load_rows(regclass, text),
	tdgen.copy_rows(regclass, text, regclass, text[], text[], boolean), tdgen.run_jobs(text[], integer[], integer, text[]) FROM PUBLIC;

COMMENT ON FUNCTION tdgen.load_rows(regclass, text) IS
	'loads the rows of a query (one SELECT of the table''s columns that are not generated, in order, of their types) into a table in batches; returns how many';
COMMENT ON FUNCTION tdgen.run_jobs(text[], integer[], integer, text[]) IS
	'runs statements side by side in background workers, each in its own transaction, a statement after the earlier ones it names; returns each one''s result and seconds';
COMMENT ON FUNCTION tdgen.copy_rows(regclass, text, regclass, text[], text[], boolean) IS
	'loads what tdgen.load_rows would for the same query, reading the foreign table''s rows by binary COPY over tdgen''s connection (with keys, only the rows of a subset''s key set); returns how many';
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
COMMENT ON FUNCTION tdgen.build_jobs(text, text, jsonb) IS
	'the jobs of a refresh''s second step in order, each with the earlier ones it comes after: loads, each table''s keys and indexes, foreign keys';
COMMENT ON FUNCTION tdgen.record_load(bigint, name, name, text, jsonb, bigint, double precision) IS
	'records a table''s load in tdgen.run_table: rows, bytes of its rows, seconds';
COMMENT ON FUNCTION tdgen.swap_schemas(tdgen.environment, jsonb, text[]) IS
	'puts the shadow schemas in place of the targets in one transaction (checked first), with the environment''s grants and mark, and drops the old ones';
COMMENT ON PROCEDURE tdgen_refresh(text, text, text, boolean) IS
	'refreshes an environment: gate, shadow schema, masked load (or a subset), swap; recorded in tdgen.run, refused, skipped or queued while busy (on_busy), tried again after transient failures (option retries)';
