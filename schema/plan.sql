-- ===========================================================================
-- schema/plan.sql
--     What a refresh would do, without moving data: tdgen_plan.
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- Plan
-- ---------------------------------------------------------------------------

-- Production's tables in load order (referenced tables first), with their
-- mode in the environment, estimated rows and bytes (the table's and its
-- partitions', from production's statistics; TOAST not counted) and what
-- happens to each column.  production: tdgen.read_production's, read here
-- when not given.
CREATE FUNCTION tdgen.plan(environment text, production jsonb DEFAULT NULL)
RETURNS TABLE (load_order integer, table_name text, mode text, estimated_rows bigint, estimated_bytes bigint,
			   columns jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET enable_nestloop = off SET jit = off AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
	s tdgen.source := tdgen.resolve_source(e.source);
	cols jsonb;
	fks jsonb;
	cls jsonb;
	inh jsonb;
	nsp jsonb;
BEGIN
	production := coalesce(production, tdgen.read_production(s.name));
	cols := production -> 'cols';
	fks := production -> 'fks';
	cls := production #> '{snap,class}';
	inh := production #> '{snap,inherits}';
	nsp := production #> '{snap,namespace}';
	RETURN QUERY
	WITH RECURSIVE ec AS MATERIALIZED (
		SELECT * FROM tdgen.effective_columns(e.name, cols, fks)
	), tbl AS (
		-- a lookup table is copied whole (it differs only in a subset)
		SELECT DISTINCT c.schema_name, c.table_name, CASE WHEN c.mode = 'lookup' THEN 'copy' ELSE c.mode END AS mode
		FROM ec AS c
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
		WHERE c.relkind IN ('r', 'p')
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

-- 42501 unless the caller may refresh the environment (plans read
-- production as a refresh would).
CREATE FUNCTION tdgen.check_may_plan(environment text, caller regrole)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM tdgen.resolve_environment(environment);
	IF NOT tdgen.may_refresh(environment, caller) THEN
		RAISE EXCEPTION 'permission denied to plan environment %', quote_literal(environment)
			USING ERRCODE = 'insufficient_privilege',
				  HINT = format('The environment''s owner or a superuser may allow you with tdgen_grant(%L, ''refresh'', role).', environment);
	END IF;
END
$$;

CREATE FUNCTION tdgen.plan_by(caller regrole, environment text)
RETURNS TABLE (load_order integer, table_name text, mode text, estimated_rows bigint, estimated_bytes bigint,
			   columns jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM tdgen.check_may_plan(environment, caller);
	RETURN QUERY SELECT * FROM tdgen.plan(environment);
END
$$;

-- ---------------------------------------------------------------------------
-- Privileges and comments
-- ---------------------------------------------------------------------------

-- tdgen_plan checks its caller itself (tdgen.plan_by).
REVOKE ALL ON FUNCTION tdgen.plan(text, jsonb), tdgen.plan_by(regrole, text), tdgen.check_may_plan(text, regrole) FROM PUBLIC;

COMMENT ON FUNCTION tdgen.plan(text, jsonb) IS
	'what a refresh would do: tables in load order, modes, estimated rows and bytes, each column''s transform';
COMMENT ON FUNCTION tdgen_plan(text) IS
	'what a refresh would do, without moving data: tables in load order, modes, estimated rows and bytes, each column''s transform';
COMMENT ON FUNCTION tdgen.check_may_plan(text, regrole) IS
	'raises 42501 unless the role may refresh the environment';
COMMENT ON FUNCTION tdgen.plan_by(regrole, text) IS
	'tdgen_plan for a calling role that may refresh the environment';
