-- ===========================================================================
-- schema/subset.sql
--     A referentially closed subset: targets, how foreign keys are
--     followed, and the keys of the rows a refresh loads.
--
-- Targets seed the subset.  Every included row brings the rows it
-- references, transitively (upward, always); children come only from
-- target rows and rows reached downward, never from rows pulled in only
-- as parents.  So the closure is two fixpoints: first downward from the
-- targets, then upward from everything found.  Each runs semi-naively
-- over per-table key sets in staging: the rows new since a table was last
-- followed are sent to production in batches (= ANY of their keys, in the
-- refresh's one snapshot) and the keys that come back are added.
--
-- A row is known by its key: the primary key, else the smallest UNIQUE
-- key of NOT NULL columns, neither with a masked column; else its ctid
-- (with tableoid in a partitioned table), which names one row within one
-- snapshot.  So no masked value ever reaches a key set: production joins
-- on them itself.
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- Configuration
-- ---------------------------------------------------------------------------

-- The foreign table of a production table, synced from production when
-- tdgen has none yet; 42P01 when production has no such table.
CREATE FUNCTION tdgen.subset_foreign_table(environment text, tbl name[])
RETURNS regclass
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
	s tdgen.source := tdgen.resolve_source(e.source);
	found regclass;
BEGIN
	FOR i IN 1 .. 2 LOOP
		SELECT to_regclass(format('%I.%I', s.local_schema, r.local_name)) INTO found
		FROM tdgen.source_relation AS r
		WHERE r.source = s.name AND r.schema_name = tbl[1] AND r.table_name = tbl[2];
		EXIT WHEN found IS NOT NULL OR i = 2;
		PERFORM tdgen.sync_source(s.name);
	END LOOP;
	IF found IS NULL THEN
		RAISE EXCEPTION 'source % has no table %', quote_literal(s.name), tdgen.qualified(VARIADIC tbl)
			USING ERRCODE = 'undefined_table',
				  HINT = format('Name a table of production''s schemas %s as schema.table.', array_to_string(s.schemas, ', '));
	END IF;
	RETURN found;
END
$$;

-- Check a target's or an edge's clauses over its production table.
CREATE FUNCTION tdgen.check_subset_clauses(environment text, tbl name[], "where" text, order_by text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	ft regclass := tdgen.subset_foreign_table(environment, tbl);
BEGIN
	IF "where" IS NOT NULL THEN
		PERFORM tdgen.check_clause(ft, 'where', "where", tdgen.qualified(VARIADIC tbl));
	END IF;
	IF order_by IS NOT NULL THEN
		PERFORM tdgen.check_clause(ft, 'order_by', order_by, tdgen.qualified(VARIADIC tbl));
	END IF;
END
$$;

CREATE FUNCTION tdgen.check_clause(relation regclass, kind text, clause text, table_name text)
RETURNS void
LANGUAGE C STABLE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_check_clause';

-- A subset target: the rows of a production table a subset starts from.
CREATE FUNCTION tdgen_subset_target(environment text, table_name text, percent numeric DEFAULT NULL,
									"where" text DEFAULT NULL, "limit" bigint DEFAULT NULL, order_by text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	tbl name[] := tdgen.parse_name(table_name, 2);
BEGIN
	PERFORM tdgen.resolve_environment(environment);
	IF percent IS NOT NULL AND NOT percent BETWEEN 0 AND 100 THEN
		RAISE EXCEPTION 'percent must be from 0 to 100, not %', percent
			USING ERRCODE = 'invalid_parameter_value', HINT = 'percent => 1.0 takes about one row in a hundred.';
	END IF;
	IF "limit" < 0 THEN
		RAISE EXCEPTION 'limit must not be negative, not %', "limit" USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF order_by IS NOT NULL AND "limit" IS NULL THEN
		RAISE EXCEPTION 'order_by needs a limit' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'order_by says which rows a limit keeps: "limit" => 1000, order_by => ''created_at DESC''.';
	END IF;
	IF num_nonnulls(percent, "where", "limit") = 0 THEN
		RAISE EXCEPTION 'a subset target needs percent, where or limit' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'For the whole table, give percent => 100.';
	END IF;
	PERFORM tdgen.check_subset_clauses(environment, tbl, "where", order_by);
	INSERT INTO tdgen.subset_target AS t (environment, schema_name, table_name, percent, "where", "limit", order_by)
	VALUES (environment, tbl[1], tbl[2], percent, "where", "limit", order_by)
	ON CONFLICT ON CONSTRAINT subset_target_pkey DO UPDATE
	SET percent = excluded.percent, "where" = excluded."where", "limit" = excluded."limit", order_by = excluded.order_by,
		updated_at = now(), updated_by = session_user;
END
$$;

CREATE FUNCTION tdgen_drop_subset_target(environment text, table_name text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	tbl name[] := tdgen.parse_name(table_name, 2);
BEGIN
	DELETE FROM tdgen.subset_target AS t
	WHERE t.environment = tdgen_drop_subset_target.environment AND t.schema_name = tbl[1] AND t.table_name = tbl[2];
	RETURN FOUND;
END
$$;

-- How a subset follows a foreign key (schema.constraint).
CREATE FUNCTION tdgen_subset_edge(environment text, name text, downward boolean DEFAULT true, "where" text DEFAULT NULL,
								  per_parent integer DEFAULT NULL, order_by text DEFAULT NULL,
								  max_depth integer DEFAULT NULL, on_absent text DEFAULT 'include')
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
	k name[] := tdgen.parse_name(name, 2);
	fk record;
BEGIN
	IF per_parent < 0 OR max_depth < 1 THEN
		RAISE EXCEPTION 'per_parent must not be negative and max_depth must be at least 1'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF order_by IS NOT NULL AND per_parent IS NULL THEN
		RAISE EXCEPTION 'order_by needs per_parent' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'order_by says which children per_parent keeps: per_parent => 20, order_by => ''id DESC''.';
	END IF;
	IF on_absent IS NULL OR on_absent NOT IN ('include', 'null') THEN
		RAISE EXCEPTION 'on_absent must be "include" or "null", not %', coalesce(quote_literal(on_absent), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'include brings the parent a row references (the default); null sets the key to NULL when the parent is not otherwise in the subset.';
	END IF;
	SELECT * INTO fk FROM tdgen.subset_edges(e.name, tdgen.read_production(e.source)) AS g
	WHERE g.name = tdgen.qualified(VARIADIC k) LIMIT 1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'source % has no foreign key %', quote_literal(e.source), tdgen.qualified(VARIADIC k)
			USING ERRCODE = 'undefined_object',
				  HINT = 'Name a foreign key between production''s tables as schema.constraint_name.';
	END IF;
	IF on_absent = 'null' AND fk.not_null THEN
		RAISE EXCEPTION 'foreign key % cannot be set to NULL: a column of it is NOT NULL', tdgen.qualified(VARIADIC k)
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'on_absent => ''null'' is for foreign keys of nullable columns.';
	END IF;
	PERFORM tdgen.check_subset_clauses(e.name, ARRAY[fk.child_schema, fk.child_table], "where", order_by);
	INSERT INTO tdgen.subset_edge AS g (environment, schema_name, name, downward, "where", per_parent, order_by, max_depth,
										on_absent)
	VALUES (e.name, k[1], k[2], coalesce(downward, true), "where", per_parent, order_by, max_depth, on_absent)
	ON CONFLICT ON CONSTRAINT subset_edge_pkey DO UPDATE
	SET downward = excluded.downward, "where" = excluded."where", per_parent = excluded.per_parent,
		order_by = excluded.order_by, max_depth = excluded.max_depth, on_absent = excluded.on_absent,
		updated_at = now(), updated_by = session_user;
END
$$;

CREATE FUNCTION tdgen_drop_subset_edge(environment text, name text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	k name[] := tdgen.parse_name(name, 2);
BEGIN
	DELETE FROM tdgen.subset_edge AS g
	WHERE g.environment = tdgen_drop_subset_edge.environment AND g.schema_name = k[1] AND g.name = k[2];
	RETURN FOUND;
END
$$;

-- A reference production does not declare, for subsets: rows of child
-- whose child_columns (all non-NULL, and where "when" holds) equal
-- parent_columns of a row of parent.  Named schema.name in the child's
-- schema (default <child table>_<columns>_ref), for tdgen_subset_edge.
CREATE FUNCTION tdgen_relation(child text, child_columns text[], parent text, parent_columns text[], "when" text DEFAULT NULL,
							   name text DEFAULT NULL, environment text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	c name[] := tdgen.parse_name(child, 2);
	p name[] := tdgen.parse_name(parent, 2);
	rel name := coalesce(tdgen_relation.name, left(format('%s_%s_ref', c[2], array_to_string(child_columns, '_')), 63));
	ft regclass;
	missing text;
	e tdgen.environment;
BEGIN
	PERFORM tdgen.check_environment(environment);
	IF cardinality(child_columns) IS DISTINCT FROM cardinality(parent_columns) OR cardinality(child_columns) = 0 THEN
		RAISE EXCEPTION 'relation % needs as many parent columns as child columns, at least one', quote_ident(rel)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- validated against production, through any environment of the
	-- source (a relation names production's tables)
	SELECT * INTO e FROM tdgen.environment AS x
	WHERE x.name = coalesce(tdgen_relation.environment, x.name)
	  AND EXISTS (SELECT FROM tdgen.source AS s WHERE s.name = x.source AND c[1] = ANY (s.schemas))
	ORDER BY x.name LIMIT 1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no environment reads schema %', quote_ident(c[1])
			USING ERRCODE = 'undefined_object', HINT = 'A relation is between tables of an environment''s source.';
	END IF;
	FOR i IN 1 .. 2 LOOP
		ft := tdgen.subset_foreign_table(e.name, CASE i WHEN 1 THEN c ELSE p END);
		SELECT string_agg(quote_ident(x), ', ') INTO missing
		FROM unnest(CASE i WHEN 1 THEN child_columns ELSE parent_columns END) AS x
		WHERE NOT EXISTS (SELECT FROM pg_attribute AS a WHERE a.attrelid = ft AND a.attname = x AND a.attnum > 0 AND NOT a.attisdropped);
		IF missing IS NOT NULL THEN
			RAISE EXCEPTION 'table % has no column %', tdgen.qualified(VARIADIC CASE i WHEN 1 THEN c ELSE p END), missing
				USING ERRCODE = 'undefined_column';
		END IF;
	END LOOP;
	IF "when" IS NOT NULL THEN
		PERFORM tdgen.check_subset_clauses(e.name, c, "when", NULL);
	END IF;
	IF EXISTS (SELECT FROM jsonb_to_recordset(tdgen.read_production(e.source) #> '{snap,constraint}') AS k(conname name, contype "char")
			   WHERE k.contype = 'f' AND k.conname = rel) THEN
		RAISE EXCEPTION 'production has a foreign key named %', quote_ident(rel)
			USING ERRCODE = 'duplicate_object', HINT = 'Give the relation another name.';
	END IF;
	INSERT INTO tdgen.relation AS v (schema_name, name, environment, table_name, columns, ref_schema, ref_table, ref_columns, "when")
	VALUES (c[1], rel, environment, c[2], child_columns, p[1], p[2], parent_columns, "when")
	ON CONFLICT ON CONSTRAINT relation_one DO UPDATE
	SET table_name = excluded.table_name, columns = excluded.columns, ref_schema = excluded.ref_schema,
		ref_table = excluded.ref_table, ref_columns = excluded.ref_columns, "when" = excluded."when",
		updated_at = now(), updated_by = session_user;
END
$$;

CREATE FUNCTION tdgen_drop_relation(name text, environment text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	k name[] := tdgen.parse_name(name, 2);
BEGIN
	DELETE FROM tdgen.relation AS v
	WHERE v.schema_name = k[1] AND v.name = k[2] AND v.environment IS NOT DISTINCT FROM tdgen_drop_relation.environment;
	RETURN FOUND;
END
$$;

-- ---------------------------------------------------------------------------
-- The graph
-- ---------------------------------------------------------------------------

-- A type of production's snapshot as a key set names it: production's
-- name, and the type a key set holds its values as (a built-in type
-- itself, any other as text).
CREATE FUNCTION tdgen.snapshot_type(snap jsonb, typid oid, OUT type_name text, OUT set_type text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT CASE WHEN typid < 16384 THEN format_type(typid, -1)
				ELSE format('%I.%I', (SELECT n.nspname FROM jsonb_to_recordset(snap -> 'namespace') AS n(oid oid, nspname name)
									  WHERE n.oid = (snap #>> ARRAY['type_by_oid', typid::text, 'typnamespace'])::oid),
							snap #>> ARRAY['type_by_oid', typid::text, 'typname']) END,
		   CASE WHEN typid < 16384 THEN format_type(typid, -1) ELSE 'text' END;
END;

-- Production's tables as a subset sees them (production: read_production's):
-- mode (subset, lookup, empty or skip), the key the subset knows a row by
-- (production's expressions and type names; the types of the key set's
-- columns), the expression a percent target hashes, and the target.
CREATE FUNCTION tdgen.subset_tables(environment text, production jsonb)
RETURNS TABLE (n integer, schema_name name, table_name name, relid oid, qualified text, mode text, key_columns text[],
			   key_types text[], set_types text[], indexed boolean, sample_hash text, sample text, percent numeric, "where" text,
			   "limit" bigint, order_by text, estimated_rows bigint, row_bytes bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH RECURSIVE ec AS MATERIALIZED (
		SELECT * FROM tdgen.effective_columns(environment, production -> 'cols', production -> 'fks')
	), tbl AS (
		SELECT DISTINCT c.schema_name, c.table_name, c.mode FROM ec AS c
	), rel AS MATERIALIZED (
		SELECT c.oid, nn.nspname, c.relname, c.relkind, c.reltuples, c.relpages
		FROM jsonb_to_recordset(production #> '{snap,class}') AS c(oid oid, relname name, relnamespace oid, relkind "char",
																   reltuples float4, relpages int4)
		JOIN jsonb_to_recordset(production #> '{snap,namespace}') AS nn(oid oid, nspname name) ON nn.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p')
	), att AS MATERIALIZED (
		SELECT a.attrelid, a.attnum, a.attname, a.attnotnull, a.atttypid
		FROM jsonb_to_recordset(production #> '{snap,attribute}') AS a(attrelid oid, attnum int2, attname name, atttypid oid,
																	   attnotnull boolean)
	), candidate AS (
		-- the primary key and the UNIQUE keys of NOT NULL columns, with
		-- whether a column is masked
		SELECT k.conrelid, k.contype, k.conname, array_agg(quote_ident(a.attname) ORDER BY u.i) AS cols,
			   array_agg(ty.type_name ORDER BY u.i) AS types, array_agg(ty.set_type ORDER BY u.i) AS set_types,
			   bool_and(a.attnotnull) AS not_null,
			   bool_or(EXISTS (SELECT FROM ec AS c JOIN rel AS r ON r.nspname = c.schema_name AND r.relname = c.table_name
							   WHERE r.oid = k.conrelid AND c.column_name = a.attname AND c.action = 'mask')) AS masked
		FROM jsonb_to_recordset(production #> '{snap,constraint}') AS k(conname name, contype "char", conrelid oid, conkey int2[])
		CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS u(attnum, i)
		JOIN att AS a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
		CROSS JOIN LATERAL tdgen.snapshot_type(production -> 'snap', a.atttypid) AS ty
		WHERE k.contype IN ('p', 'u')
		GROUP BY k.conrelid, k.contype, k.conname
	), chosen AS (
		SELECT DISTINCT ON (c.conrelid) c.*
		FROM candidate AS c WHERE NOT c.masked AND (c.contype = 'p' OR c.not_null)
		ORDER BY c.conrelid, c.contype = 'p' DESC, cardinality(c.cols), c.conname
	), sample AS (
		SELECT DISTINCT ON (c.conrelid) c.conrelid, c.cols, c.types
		FROM candidate AS c WHERE c.contype = 'p' OR c.not_null
		ORDER BY c.conrelid, c.contype = 'p' DESC, cardinality(c.cols), c.conname
	), tree AS (
		SELECT r.oid AS root, r.oid FROM rel AS r
		UNION
		SELECT t.root, i.inhrelid FROM tree AS t
		JOIN jsonb_to_recordset(production #> '{snap,inherits}') AS i(inhrelid oid, inhparent oid) ON i.inhparent = t.oid
	), estimate AS (
		SELECT t.root, sum(greatest(p.reltuples, 0))::bigint AS n, sum(p.relpages::bigint) * current_setting('block_size')::bigint AS bytes
		FROM tree AS t JOIN rel AS p ON p.oid = t.oid AND p.relkind = 'r'
		GROUP BY t.root
	)
	SELECT (row_number() OVER (ORDER BY t.schema_name, t.table_name))::integer, t.schema_name, t.table_name, r.oid,
		   tdgen.qualified(t.schema_name, t.table_name),
		   CASE WHEN t.mode = 'copy' THEN 'subset' ELSE t.mode END,
		   coalesce(ch.cols, CASE WHEN r.relkind = 'p' THEN ARRAY['tableoid', 'ctid'] ELSE ARRAY['ctid'] END),
		   coalesce(ch.types, CASE WHEN r.relkind = 'p' THEN ARRAY['oid', 'tid'] ELSE ARRAY['tid'] END),
		   coalesce(ch.set_types, CASE WHEN r.relkind = 'p' THEN ARRAY['oid', 'tid'] ELSE ARRAY['tid'] END),
		   ch.cols IS NOT NULL AND r.relkind = 'r',
		   -- an integer key hashes as itself (a third of the time of its
		   -- text, on production's every row), any other key as its text
		   CASE WHEN sa.types IN ('{smallint}', '{integer}', '{bigint}') THEN 'hashint8extended' ELSE 'hashtextextended' END,
		   CASE WHEN sa.types IN ('{smallint}', '{integer}', '{bigint}') THEN format('tdgen_t.%s::bigint', sa.cols[1])
				WHEN sa.cols IS NOT NULL
				THEN format('ROW(%s)::text', (SELECT string_agg('tdgen_t.' || x, ', ') FROM unnest(sa.cols) AS x))
				ELSE 'tdgen_t::text' END,
		   st.percent, st."where", st."limit", st.order_by,
		   coalesce(x.n, 0), CASE WHEN coalesce(x.n, 0) > 0 THEN x.bytes / x.n ELSE 0 END
	FROM tbl AS t
	JOIN rel AS r ON r.nspname = t.schema_name AND r.relname = t.table_name
	LEFT JOIN chosen AS ch ON ch.conrelid = r.oid
	LEFT JOIN sample AS sa ON sa.conrelid = r.oid
	LEFT JOIN estimate AS x ON x.root = r.oid
	LEFT JOIN tdgen.subset_target AS st ON st.environment = subset_tables.environment
										AND st.schema_name = t.schema_name AND st.table_name = t.table_name;
END;

-- Production's foreign keys and the virtual relations as a subset follows
-- them: between the root tables a key set belongs to (child_schema,
-- child_table; parent_...), on the relations they are declared on (a
-- partition's own foreign key is read on the partition), with the
-- environment's options for each.
CREATE FUNCTION tdgen.subset_edges(environment text, production jsonb)
RETURNS TABLE (n integer, name text, child_schema name, child_table name, child_rel text, child_columns name[],
			   parent_schema name, parent_table name, parent_rel text, parent_columns name[], validated boolean,
			   not_null boolean, "when" text, downward boolean, "where" text, per_parent integer, order_by text,
			   max_depth integer, on_absent text, child_types text[], child_set_types text[], carried boolean,
			   child_indexed boolean, child_partitions integer)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH RECURSIVE ec AS MATERIALIZED (
		SELECT * FROM tdgen.effective_columns(environment, production -> 'cols', production -> 'fks')
	), rel AS MATERIALIZED (
		SELECT c.oid, nn.nspname, c.relname, c.relkind, c.relispartition
		FROM jsonb_to_recordset(production #> '{snap,class}') AS c(oid oid, relname name, relnamespace oid, relkind "char",
																   relispartition boolean)
		JOIN jsonb_to_recordset(production #> '{snap,namespace}') AS nn(oid oid, nspname name) ON nn.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p')
	), tree AS (
		SELECT r.oid AS root, r.oid FROM rel AS r WHERE NOT r.relispartition
		UNION
		SELECT t.root, i.inhrelid FROM tree AS t
		JOIN jsonb_to_recordset(production #> '{snap,inherits}') AS i(inhrelid oid, inhparent oid) ON i.inhparent = t.oid
	), part AS (
		-- the partitions that hold each partitioned table's rows
		SELECT r.oid AS top, r.oid FROM rel AS r WHERE r.relkind = 'p'
		UNION
		SELECT t.top, i.inhrelid FROM part AS t
		JOIN jsonb_to_recordset(production #> '{snap,inherits}') AS i(inhrelid oid, inhparent oid) ON i.inhparent = t.oid
	), leaves AS MATERIALIZED (
		SELECT t.top, count(*)::integer AS n FROM part AS t JOIN rel AS r ON r.oid = t.oid AND r.relkind = 'r' GROUP BY t.top
	), fk AS (
		SELECT k.*, cn.nspname AS con_schema
		FROM jsonb_to_recordset(production #> '{snap,constraint}') AS k(conname name, connamespace oid, contype "char",
																		conrelid oid, confrelid oid, conkey int2[],
																		confkey int2[], convalidated boolean,
																		conislocal boolean)
		JOIN jsonb_to_recordset(production #> '{snap,namespace}') AS cn(oid oid, nspname name) ON cn.oid = k.connamespace
		WHERE k.contype = 'f' AND k.conislocal
	), modes AS (
		SELECT DISTINCT c.schema_name, c.table_name, c.mode FROM ec AS c
	), lead AS MATERIALIZED (
		-- the columns an index of a relation leads with
		SELECT DISTINCT x.indrelid, x.indkey[1] AS attnum
		FROM jsonb_to_recordset(production #> '{snap,index}') AS x(indrelid oid, indkey int2[])
	), edge AS (
		SELECT f.con_schema AS schema_name, f.conname AS name,
			   ct.nspname AS child_schema, ct.relname AS child_table, tdgen.qualified(cr.nspname, cr.relname) AS child_rel,
			   tdgen.attribute_names(production -> 'snap', f.conrelid, f.conkey) AS child_columns,
			   pt.nspname AS parent_schema, pt.relname AS parent_table, tdgen.qualified(pr.nspname, pr.relname) AS parent_rel,
			   tdgen.attribute_names(production -> 'snap', f.confrelid, f.confkey) AS parent_columns,
			   f.convalidated AS validated, f.conrelid AS relid, f.conkey AS attnums, NULL::text AS "when",
			   coalesce((SELECT l.n FROM leaves AS l WHERE l.top = cr.oid), 0) AS partitions
		FROM fk AS f
		JOIN rel AS cr ON cr.oid = f.conrelid
		JOIN rel AS pr ON pr.oid = f.confrelid
		JOIN tree AS c ON c.oid = f.conrelid JOIN rel AS ct ON ct.oid = c.root
		JOIN tree AS p ON p.oid = f.confrelid JOIN rel AS pt ON pt.oid = p.root
		UNION ALL
		-- the virtual relations (the environment's over the general ones)
		SELECT v.schema_name, v.name, v.schema_name, v.table_name, tdgen.qualified(v.schema_name, v.table_name), v.columns,
			   v.ref_schema, v.ref_table, tdgen.qualified(v.ref_schema, v.ref_table), v.ref_columns, false, r.oid,
			   ARRAY(SELECT a.attnum FROM jsonb_to_recordset(production #> ARRAY['snap', 'attribute_by_rel', r.oid::text])
									   AS a(attnum int2, attname name) WHERE a.attname = ANY (v.columns)),
			   v."when", coalesce((SELECT l.n FROM leaves AS l WHERE l.top = r.oid), 0)
		FROM (SELECT DISTINCT ON (x.schema_name, x.name) x.* FROM tdgen.relation AS x
			  WHERE x.environment IS NULL OR x.environment = subset_edges.environment
			  ORDER BY x.schema_name, x.name, x.environment NULLS LAST) AS v
		JOIN rel AS r ON r.nspname = v.schema_name AND r.relname = v.table_name
	)
	SELECT (row_number() OVER (ORDER BY g.schema_name, g.name, g.child_rel))::integer, tdgen.qualified(g.schema_name, g.name),
		   g.child_schema, g.child_table, g.child_rel, g.child_columns, g.parent_schema, g.parent_table, g.parent_rel,
		   g.parent_columns, g.validated,
		   EXISTS (SELECT FROM jsonb_to_recordset(production #> ARRAY['snap', 'attribute_by_rel', g.relid::text])
									  AS a(attnum int2, attnotnull boolean)
				   WHERE a.attnum = ANY (g.attnums) AND a.attnotnull),
		   g."when",
		   coalesce(o.downward, true), o."where", o.per_parent, o.order_by, o.max_depth, coalesce(o.on_absent, 'include'),
		   ty.type_names, ty.set_types,
		   -- the edge's values travel with the child's keys (and parents
		   -- come of them without asking production for the child again)
		   -- unless one is masked (a masked value never reaches a key set),
		   -- or the key holds for one partition's rows only
		   (g.child_schema, g.child_table) <> (g.parent_schema, g.parent_table) AND g."when" IS NULL
		   AND g.child_rel = tdgen.qualified(g.child_schema, g.child_table)
		   AND coalesce(o.on_absent, 'include') <> 'null'
		   AND NOT EXISTS (SELECT FROM ec AS c WHERE (c.schema_name, c.table_name) = (g.child_schema, g.child_table)
						   AND c.column_name = ANY (g.child_columns) AND c.action = 'mask'),
		   EXISTS (SELECT FROM lead AS l WHERE l.indrelid = g.relid AND l.attnum = g.attnums[1]), g.partitions
	FROM edge AS g
	CROSS JOIN LATERAL (SELECT array_agg(t.type_name ORDER BY a.i) AS type_names, array_agg(t.set_type ORDER BY a.i) AS set_types
						FROM unnest(g.attnums) WITH ORDINALITY AS a(attnum, i)
						JOIN jsonb_to_recordset(production #> ARRAY['snap', 'attribute_by_rel', g.relid::text])
							   AS x(attnum int2, atttypid oid) ON x.attnum = a.attnum
						CROSS JOIN LATERAL tdgen.snapshot_type(production -> 'snap', x.atttypid) AS t) AS ty
	JOIN modes AS cm ON cm.schema_name = g.child_schema AND cm.table_name = g.child_table AND cm.mode <> 'skip'
	JOIN modes AS pm ON pm.schema_name = g.parent_schema AND pm.table_name = g.parent_table AND pm.mode <> 'skip'
	LEFT JOIN tdgen.subset_edge AS o ON o.environment = subset_edges.environment AND o.schema_name = g.schema_name
									 AND o.name = g.name;
END;

-- ---------------------------------------------------------------------------
-- The closure
-- ---------------------------------------------------------------------------

-- A list of SQL expressions, each prefixed (tdgen_c.tdgen_i1, ...), or
-- with aliases (x AS tdgen_i1, ...).
CREATE FUNCTION tdgen.sql_list(exprs text[], prefix text DEFAULT '', alias text DEFAULT NULL)
RETURNS text
LANGUAGE sql IMMUTABLE
RETURN (SELECT string_agg(prefix || x || coalesce(' AS ' || alias || i, ''), ', ' ORDER BY i)
		FROM unnest(exprs) WITH ORDINALITY AS u(x, i));

-- The column definition list of tdgen.remote_rows for columns of types:
-- r1 type1, r2 type2, ...
CREATE FUNCTION tdgen.row_defs(types text[])
RETURNS text
LANGUAGE sql IMMUTABLE
RETURN (SELECT string_agg(format('r%s %s', i, t), ', ' ORDER BY i) FROM unnest(types) WITH ORDINALITY AS u(t, i));

-- n columns of such a row (alias), from the first-th on: alias.r<first>,
-- ...; NULL for none.
CREATE FUNCTION tdgen.row_cols(alias text, first integer, n integer)
RETURNS text
LANGUAGE sql IMMUTABLE
RETURN (SELECT string_agg(format('%s.r%s', alias, i), ', ' ORDER BY i) FROM generate_series(first, first + n - 1) AS i);

-- The names alias1 .. aliasN.
CREATE FUNCTION tdgen.sql_names(alias text, n integer)
RETURNS text[]
LANGUAGE sql IMMUTABLE
RETURN ARRAY(SELECT alias || i FROM generate_series(1, n) AS i);

-- The condition that a row read from production (got: its first n
-- columns its key) is not in a key set yet.  Each query returns a row
-- once, so this is the whole test of a new row: cheaper than ON CONFLICT
-- by half on a million keys, and the set's primary key still refuses a
-- row twice.
CREATE FUNCTION tdgen.key_absent(key_table text, n integer)
RETURNS text
LANGUAGE sql IMMUTABLE
RETURN format('NOT EXISTS (SELECT FROM %s AS tdgen_x WHERE (%s) = (%s))', key_table,
			  tdgen.sql_list(tdgen.sql_names('k', n), 'tdgen_x.'), tdgen.row_cols('got', 1, n));

-- A batch's array parameters, $first::type1[], $first+1::type2[], ...
CREATE FUNCTION tdgen.batch_params(types text[], first integer)
RETURNS text
LANGUAGE sql IMMUTABLE
RETURN (SELECT string_agg(format('$%s::%s[]', first + i - 1, types[i]), ', ' ORDER BY i)
		FROM generate_series(1, cardinality(types)) AS i);

-- The rows of a relation (its alias) whose columns equal one of a batch's
-- rows, given as one array parameter a column ($1::type[], ...): = ANY on
-- the first column, which production plans from the array's size (an
-- index scan, or a hashed list over a scan), and for several columns a
-- join to unnest of them all besides.  opaque: one column an index leads
-- with, the batch hidden from production's planner behind a subquery (the
-- index takes it as it runs; weighing a million constants one by one takes
-- the planner seconds, per partition).  Never without such an index: a
-- scan would compare each row with the whole list.  first: the number of
-- the first parameter ($1 unless the query has others before).
CREATE FUNCTION tdgen.batch_filter(alias text, columns text[], types text[], opaque boolean DEFAULT false, first integer DEFAULT 1)
RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE WHEN opaque AND cardinality(columns) = 1
			THEN format('%s%s = ANY ((SELECT $%s::%s[])::%4$s[])', alias, columns[1], first, types[1])
			ELSE format('%s%s = ANY ($%s::%s[])', alias, columns[1], first, types[1])
				 || CASE WHEN cardinality(columns) > 1
						 THEN format(' AND (%s) IN (SELECT * FROM unnest(%s))', tdgen.sql_list(columns, alias),
									 tdgen.batch_params(types, first))
						 ELSE '' END END;

-- The rows of a partitioned table whose columns equal one of a batch's
-- rows (the parameters as tdgen.batch_filter's), as a join to the batch:
-- production hashes the batch once and scans the partitions, where = ANY
-- behind a subquery would probe every partition's index with the whole
-- batch (without such an index, tdgen.batch_filter's hashed list over a
-- scan is quicker still).
CREATE FUNCTION tdgen.batch_join(columns text[], types text[], first integer DEFAULT 1)
RETURNS text
LANGUAGE sql IMMUTABLE
RETURN format(' JOIN unnest(%s) AS tdgen_b(%s) ON (%s) = (%s)', tdgen.batch_params(types, first),
			  array_to_string(tdgen.sql_names('tdgen_b', cardinality(columns)), ', '), array_to_string(columns, ', '),
			  tdgen.sql_list(tdgen.sql_names('tdgen_b', cardinality(columns)), 'tdgen_b.'));

-- Whether a batch of keys finds its rows in a partitioned child better by
-- a join (tdgen.batch_join: the table read once) than by = ANY (every
-- partition's index probed with every key): when the probes, each taken
-- as costing four rows read, would cost more than reading the table.
CREATE FUNCTION tdgen.batch_joins(g record, keys bigint, child_rows bigint)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN g.child_partitions > 1 AND g.child_indexed AND keys * g.child_partitions * 4 > child_rows;
END
$$;

-- Whether following an edge one way is one recursive query to the end of
-- a self-reference, whose rows then name their predecessor: down with no
-- per_parent or max_depth, and always up.
CREATE FUNCTION tdgen.subset_recurses(g record, direction text)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN g.child_rel = g.parent_rel
		   AND (direction = 'up' OR direction = 'down' AND g.per_parent IS NULL AND g.max_depth IS NULL);
END
$$;

-- The query that follows one edge from a batch of rows, run on
-- production: its parameters are the batch's keys (tdgen.batch_filter);
-- it returns the keys of the rows at the other end and their
-- values of dst_vals (the columns of the foreign keys that travel with
-- that table's keys), then the key of the batch's row that brought each;
-- for rows a self-reference finds deeper, NULLs there and then the key of
-- the row of the same table that brought it, as a text array
-- (tdgen.subset_recurses tells which queries have it).  direction
-- 'down' (parent rows to children, with the edge's where, per_parent and
-- when) or 'up' (child rows to parents); 'orphans': only the keys of the
-- batch's (child) rows whose parent production lacks; with batch false,
-- 'up' from every row of the child table, only the parents' keys and
-- values.  A self-reference with no per_parent or max_depth is followed to
-- its end in one recursive query.  first: the number of the first
-- parameter; joined: down, the children found by a join to the batch
-- (tdgen.batch_joins).
CREATE FUNCTION tdgen.subset_edge_sql(g record, direction text, src_key text[], src_types text[], dst_key text[],
									  dst_vals text[], batch boolean DEFAULT true, first integer DEFAULT 1,
									  joined boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	cf text[] := ARRAY(SELECT quote_ident(x) FROM unnest(g.child_columns) AS x);
	pf text[] := ARRAY(SELECT quote_ident(x) FROM unnest(g.parent_columns) AS x);
	-- the names of the selected keys and values, the batch's keys, the
	-- referenced and the referencing values
	i text[] := tdgen.sql_names('tdgen_i', cardinality(dst_key)) || tdgen.sql_names('tdgen_v', cardinality(dst_vals));
	s text[] := tdgen.sql_names('tdgen_s', cardinality(src_key));
	q text[] := tdgen.sql_names('tdgen_q', cardinality(pf));
	f text[] := tdgen.sql_names('tdgen_f', cardinality(cf));
	no_src text := (SELECT string_agg(format('NULL::%s', t), ', ') FROM unnest(src_types) AS t);
	-- the keys and values selected, and selected as i
	dst text[] := dst_key || dst_vals;
	dst_i text := concat_ws(', ', tdgen.sql_list(dst_key, '', 'tdgen_i'), tdgen.sql_list(dst_vals, '', 'tdgen_v'));
	rec boolean := tdgen.subset_recurses(g, direction);
	conds text := concat_ws(' AND ', 'true', '(' || g."when" || E'\n)');
	child text;
BEGIN
	IF direction = 'down' THEN
		conds := concat_ws(' AND ', conds, '(' || g."where" || E'\n)');
		IF g.per_parent IS NOT NULL THEN
			-- the first per_parent children of each parent of the batch
			RETURN format('SELECT %s, %s FROM (SELECT %s, %s FROM %s AS tdgen_p WHERE %s) AS tdgen_p '
						  'CROSS JOIN LATERAL (SELECT %s FROM %s WHERE (%s) = (%s) AND %s ORDER BY %s LIMIT %s) AS tdgen_x',
						  tdgen.sql_list(i, 'tdgen_x.'), tdgen.sql_list(s, 'tdgen_p.'), tdgen.sql_list(src_key, 'tdgen_p.', 'tdgen_s'),
						  tdgen.sql_list(pf, 'tdgen_p.', 'tdgen_q'), g.parent_rel, tdgen.batch_filter('tdgen_p.', src_key, src_types, true, first),
						  dst_i, g.child_rel, array_to_string(cf, ', '),
						  tdgen.sql_list(q, 'tdgen_p.'), conds, concat_ws(', ', g.order_by || E'\n', array_to_string(dst_key, ', ')),
						  g.per_parent);
		END IF;
		-- the batch's children (by the parents' keys themselves when the
		-- key referenced is the one the batch gives); followed to the end
		-- of a self-reference, also their own referenced values and no
		-- predecessor
		IF pf = src_key THEN
			child := format('SELECT %s%s, %s%s FROM %s%s WHERE %s AND %s', dst_i,
							CASE WHEN rec THEN ', ' || tdgen.sql_list(pf, '', 'tdgen_q') ELSE '' END,
							tdgen.sql_list(cf, '', 'tdgen_s'), CASE WHEN rec THEN ', NULL::text[]' ELSE '' END, g.child_rel,
							CASE WHEN joined THEN tdgen.batch_join(cf, src_types, first) ELSE '' END,
							CASE WHEN joined THEN 'true'
								 ELSE tdgen.batch_filter('', cf, src_types, g.child_indexed, first) END, conds);
		ELSE
			child := format('SELECT %s%s, %s%s FROM %s AS tdgen_p JOIN (SELECT %s%s, %s FROM %s WHERE %s) AS tdgen_c ON (%s) = (%s) WHERE %s',
							tdgen.sql_list(i, 'tdgen_c.'), CASE WHEN rec THEN ', ' || tdgen.sql_list(q, 'tdgen_c.') ELSE '' END,
							tdgen.sql_list(src_key, 'tdgen_p.', 'tdgen_s'), CASE WHEN rec THEN ', NULL::text[]' ELSE '' END,
							g.parent_rel, dst_i, CASE WHEN rec THEN ', ' || tdgen.sql_list(pf, '', 'tdgen_q') ELSE '' END,
							tdgen.sql_list(cf, '', 'tdgen_f'), g.child_rel, conds, tdgen.sql_list(f, 'tdgen_c.'),
							tdgen.sql_list(pf, 'tdgen_p.'), tdgen.batch_filter('tdgen_p.', src_key, src_types, false, first));
		END IF;
		IF NOT rec THEN
			RETURN child;
		END IF;
		-- every descendant, each row once whatever the batch row (a row
		-- has one parent: one predecessor)
		RETURN format('WITH RECURSIVE tdgen_r(%1$s, %2$s, %3$s, tdgen_pred) AS ('
					  '%4$s UNION SELECT %5$s, %6$s, %7$s, ARRAY[%8$s] FROM tdgen_r '
					  'JOIN (SELECT %9$s, %10$s, %11$s FROM %12$s WHERE %13$s) AS tdgen_c ON (%14$s) = (%15$s)) '
					  'SELECT DISTINCT ON (%17$s) %1$s, %3$s, tdgen_pred FROM tdgen_r ORDER BY %17$s, %16$s',
					  array_to_string(i, ', '), array_to_string(q, ', '), array_to_string(s, ', '), child,
					  tdgen.sql_list(i, 'tdgen_c.'), tdgen.sql_list(q, 'tdgen_c.'), no_src,
					  (SELECT string_agg(format('tdgen_r.%s::text', x), ', ')
					   FROM unnest(tdgen.sql_names('tdgen_i', cardinality(dst_key))) AS x),
					  dst_i, tdgen.sql_list(pf, '', 'tdgen_q'), tdgen.sql_list(cf, '', 'tdgen_f'),
					  g.child_rel, conds, tdgen.sql_list(f, 'tdgen_c.'), tdgen.sql_list(q, 'tdgen_r.'),
					  (SELECT string_agg(x || ' NULLS LAST', ', ') FROM unnest(s) AS x),
					  array_to_string(tdgen.sql_names('tdgen_i', cardinality(dst_key)), ', '));
	END IF;

	-- up: the parents of the batch's rows (or of every row of the table)
	conds := concat_ws(' AND ', conds, (SELECT string_agg(x || ' IS NOT NULL', ' AND ') FROM unnest(cf) AS x));
	IF NOT batch THEN
		RETURN format('SELECT DISTINCT %s FROM (SELECT %s FROM %s WHERE %s) AS tdgen_c JOIN %s AS tdgen_p ON (%s) = (%s)',
					  tdgen.sql_list(dst, 'tdgen_p.'), tdgen.sql_list(cf, '', 'tdgen_f'), g.child_rel, conds,
					  g.parent_rel, tdgen.sql_list(pf, 'tdgen_p.'), tdgen.sql_list(f, 'tdgen_c.'));
	END IF;
	child := format('(SELECT %s, %s FROM %s WHERE %s AND %s) AS tdgen_c', tdgen.sql_list(src_key, '', 'tdgen_s'),
					tdgen.sql_list(cf, '', 'tdgen_f'), g.child_rel, tdgen.batch_filter('', src_key, src_types, true, first), conds);
	IF direction = 'orphans' THEN
		-- the batch's rows whose parent production lacks
		RETURN format('SELECT %s FROM %s WHERE NOT EXISTS (SELECT FROM %s AS tdgen_p WHERE (%s) = (%s))',
					  tdgen.sql_list(s, 'tdgen_c.'), child, g.parent_rel, tdgen.sql_list(pf, 'tdgen_p.'),
					  tdgen.sql_list(f, 'tdgen_c.'));
	END IF;
	IF rec THEN
		-- every ancestor, each once from each row that references it
		RETURN format('WITH RECURSIVE tdgen_r(%1$s, %2$s, tdgen_pred) AS ('
					  'SELECT %3$s, %4$s, NULL::text[] FROM %5$s '
					  'UNION SELECT %6$s, %7$s, ARRAY[%8$s] FROM tdgen_r '
					  'JOIN (SELECT %9$s, %10$s, %11$s FROM %12$s WHERE %13$s) AS tdgen_c ON (%14$s) = (%15$s)) '
					  'SELECT DISTINCT ON (%16$s) %22$s, %17$s, tdgen_pred FROM tdgen_r JOIN %18$s AS tdgen_p ON (%19$s) = (%20$s) '
					  'ORDER BY %16$s, %21$s',
					  array_to_string(f, ', '), array_to_string(s, ', '), tdgen.sql_list(f, 'tdgen_c.'),
					  tdgen.sql_list(s, 'tdgen_c.'), child, tdgen.sql_list(f, 'tdgen_c.'), no_src,
					  (SELECT string_agg(format('tdgen_c.%s::text', x), ', ') FROM unnest(s) AS x),
					  tdgen.sql_list(src_key, '', 'tdgen_s'), tdgen.sql_list(pf, '', 'tdgen_q'), tdgen.sql_list(cf, '', 'tdgen_f'),
					  g.child_rel, conds, tdgen.sql_list(q, 'tdgen_c.'), tdgen.sql_list(f, 'tdgen_r.'),
					  tdgen.sql_list(dst_key, 'tdgen_p.'), tdgen.sql_list(s, 'tdgen_r.'), g.parent_rel, tdgen.sql_list(pf, 'tdgen_p.'),
					  tdgen.sql_list(f, 'tdgen_r.'), (SELECT string_agg('tdgen_r.' || x || ' NULLS LAST', ', ') FROM unnest(s) AS x),
					  tdgen.sql_list(dst, 'tdgen_p.'));
	END IF;
	IF pf = dst_key AND cardinality(dst_vals) = 0 AND g.validated AND g."when" IS NULL THEN
		-- production vouches for the parent: its key is the child's value
		RETURN format('SELECT DISTINCT ON (%1$s) %1$s, %2$s FROM %3$s ORDER BY %1$s, %2$s',
					  tdgen.sql_list(f, 'tdgen_c.'), tdgen.sql_list(s, 'tdgen_c.'), child);
	END IF;
	RETURN format('SELECT DISTINCT ON (%1$s) %7$s, %2$s FROM %3$s JOIN %4$s AS tdgen_p ON (%5$s) = (%6$s) ORDER BY %1$s, %2$s',
				  tdgen.sql_list(dst_key, 'tdgen_p.'), tdgen.sql_list(s, 'tdgen_c.'), child, g.parent_rel,
				  tdgen.sql_list(pf, 'tdgen_p.'), tdgen.sql_list(f, 'tdgen_c.'), tdgen.sql_list(dst, 'tdgen_p.'));
END
$$;

-- The keys a query to production takes at most (its array parameters):
-- one query an edge a round at most sizes, which production answers with
-- one scan or one index pass instead of one per batch.
CREATE FUNCTION tdgen.subset_batch()
RETURNS integer
LANGUAGE sql IMMUTABLE
RETURN 1000000;

-- Send a query of a closure ahead (tdgen.remote_send), then store the
-- rows of the one sent before it (pending): production answers the new
-- query while staging stores the other's rows.  landing: how this one's
-- rows are stored (tdgen.subset_land), pending once it is sent.
CREATE FUNCTION tdgen.subset_send(query text, params text[], landing jsonb, INOUT pending jsonb, INOUT stats jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM tdgen.remote_send(query, params);
	stats := tdgen.subset_land(pending, stats);
	pending := landing;
END
$$;

-- Store the rows of the oldest query sent ahead: landing's sql, an
-- INSERT of tdgen.remote_take()'s rows into a key set, run with its mark,
-- depth and edge as $1, $2, $3; then its temporary table dropped, if it
-- names one, and the query, the keys read and the rows added counted for
-- its edge and direction; with names (edge numbers to names), a query of
-- several edges, whose sql returns each edge's rows read and added (edge,
-- got, added).  Nothing for NULL.
CREATE FUNCTION tdgen.subset_land(landing jsonb, stats jsonb)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	added bigint;
	r record;
BEGIN
	IF landing IS NULL THEN
		RETURN stats;
	END IF;
	IF landing ? 'names' THEN
		-- several edges' rows (tdgen.subset_gather): its sql counts them
		FOR r IN EXECUTE landing ->> 'sql' LOOP
			stats := tdgen.subset_count(stats, landing -> 'names' ->> r.edge::text, 'down', 1, r.got, r.added);
		END LOOP;
		RETURN stats;
	END IF;
	EXECUTE landing ->> 'sql' USING landing ->> 'mark', (landing ->> 'depth')::integer, (landing ->> 'edge')::integer;
	GET DIAGNOSTICS added = ROW_COUNT;
	IF landing ? 'drop' THEN
		EXECUTE format('DROP TABLE %s', landing ->> 'drop');
	END IF;
	RETURN tdgen.subset_count(stats, landing ->> 'name', landing ->> 'direction', 1, tdgen.remote_rows_read(), added);
END
$$;

-- The next batch of a key set's rows numbered after lo up to hi (seq):
-- at most tdgen.subset_batch() of them in order, only those less than
-- max_depth deep, and not those that came down edge skip (NULL: none).
-- Returns the batch's last number (NULL when no row is left), its rows'
-- greatest depth, how many, and their keys as a text array a column, in
-- the rows' order, the same for each column's array (production sorts
-- them itself where an index takes them).
CREATE FUNCTION tdgen.subset_next_batch(key_table text, nk integer, lo bigint, hi bigint, max_depth integer, skip integer,
										OUT last bigint, OUT depth integer, OUT keys bigint, OUT params text[])
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	EXECUTE format('SELECT max(seq), max(depth) FILTER (WHERE keep), count(*) FILTER (WHERE keep), ARRAY[%s]
					FROM (SELECT *, NOT (mark = ''d'' AND coalesce(via_edge = $5, false)) AS keep FROM %s
						  WHERE seq > $1 AND seq <= $2 AND depth < $3 ORDER BY seq LIMIT $4) AS s',
				   (SELECT string_agg(format('(array_agg(k%s) FILTER (WHERE keep))::text', n), ', ')
					FROM generate_series(1, nk) AS n), key_table)
	INTO last, depth, keys, params
	USING lo, hi, max_depth, tdgen.subset_batch(), skip;
END
$$;

-- Each set's greatest number (seq) now, by table number (0 for a table
-- without a set): of its key set, or removing, of its rows left out.
CREATE FUNCTION tdgen.subset_tops(removing boolean)
RETURNS bigint[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	tops bigint[] := array_fill(0::bigint, ARRAY[(SELECT count(*) FROM tdgen_subset_table)::integer]);
	t record;
	top bigint;
BEGIN
	FOR t IN SELECT x.n, CASE WHEN removing THEN x.gone_table ELSE x.key_table END AS set_table
			 FROM tdgen_subset_table AS x WHERE x.mode = 'subset' LOOP
		EXECUTE format('SELECT coalesce(max(seq), 0) FROM %s', t.set_table) INTO top;
		tops[t.n] := top;
	END LOOP;
	RETURN tops;
END
$$;

-- Follow one edge from the rows of a key set numbered after lo up to hi
-- (seq), a batch at a time: each batch's keys to production, the keys
-- that come back into the key set at the other end, marked, with the row
-- that brought each.  Down, only rows fewer than max_depth steps from a
-- target are followed; up, not the rows that came down this edge (their
-- parent is in).  Each batch's query is sent ahead, its rows stored when
-- the next query is sent (tdgen.subset_send; pending: the one to store
-- next).  Removing, the keys that come back leave the other set for its
-- set of rows left out (dst.gone_table), at once.  stats: as
-- tdgen.subset_count keeps them, the queries, keys read and rows new to
-- the other set (or gone from it) added as they are stored.
CREATE FUNCTION tdgen.subset_follow(g record, direction text, src record, dst record, lo bigint, hi bigint,
									removing boolean, INOUT pending jsonb, INOUT stats jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	sql text;
	nk integer := cardinality(src.key_columns);
	nd integer := cardinality(dst.key_columns);
	nv integer := cardinality(dst.val_names);
	-- the keys and values returned, then the bringing row's key and, for
	-- a self-reference followed to its end, its predecessor
	pred boolean := tdgen.subset_recurses(g, direction);
	defs text := CASE WHEN direction = 'orphans' THEN tdgen.row_defs(src.set_types)
					  ELSE tdgen.row_defs(dst.set_types || dst.val_types || src.set_types
										  || CASE WHEN pred THEN ARRAY['text[]'] ELSE '{}' END) END;
	dst_cols text := tdgen.row_cols('got', 1, nd + CASE WHEN direction = 'orphans' THEN 0 ELSE nv END);
	src_cols text := tdgen.row_cols('got', nd + nv + 1, nk);
	last bigint := lo;
	traced boolean := tdgen.subset_traced();
	params text[];
	top_depth integer;
	kept bigint;
	got bigint;
	added bigint;
BEGIN
	-- the edge is counted, followed or not
	stats := tdgen.subset_count(stats, g.name, CASE WHEN removing THEN 'drop' ELSE direction END, 0, 0, 0);
	IF removing THEN
		-- at once, over the first connection
		stats := tdgen.subset_land(pending, stats);
		pending := NULL;
	END IF;
	LOOP
		SELECT * INTO last, top_depth, kept, params
		FROM tdgen.subset_next_batch(src.key_table, nk, last, hi,
									 CASE WHEN direction = 'down' THEN coalesce(g.max_depth, 2147483647) ELSE 2147483647 END,
									 CASE WHEN direction IN ('up', 'orphans') THEN g.n END);
		EXIT WHEN last IS NULL;
		CONTINUE WHEN kept = 0;
		sql := tdgen.subset_edge_sql(g, direction, src.key_columns, src.key_types, dst.key_columns, dst.val_exprs, true, 1,
									 direction = 'down' AND tdgen.batch_joins(g, kept, dst.estimated_rows));
		IF removing THEN
			EXECUTE format('WITH got AS MATERIALIZED (SELECT * FROM tdgen.remote_rows($1, $2) AS r(%6$s)),
								 del AS (DELETE FROM %1$s AS t USING got WHERE (%2$s) = (%3$s) RETURNING %2$s, t.mark, t.depth),
								 ins AS (INSERT INTO %4$s (%5$s, mark, depth) SELECT * FROM del ON CONFLICT DO NOTHING RETURNING 1)
							SELECT (SELECT count(*) FROM got), (SELECT count(*) FROM ins)',
						   dst.key_table, tdgen.sql_list(tdgen.sql_names('k', nd), 't.'), tdgen.row_cols('got', 1, nd),
						   dst.gone_table, array_to_string(tdgen.sql_names('k', nd), ', '), defs)
			INTO got, added USING sql, params;
			stats := tdgen.subset_count(stats, g.name, 'drop', 1, got, added);
		ELSE
			-- the rows read go straight into the set (counted by
			-- tdgen.remote_rows_read, not kept again to count them), traced
			-- to the row that brought each through a join to the batch's set
			SELECT * INTO pending, stats FROM tdgen.subset_send(sql, params, jsonb_build_object(
				'sql', format('INSERT INTO %s (%s, mark, depth, via_edge, via_seq, via_key)
							   SELECT %s, $1, %s, $3, %s, %s FROM tdgen.remote_take() AS got(%s) %s WHERE %s',
							  dst.key_table, array_to_string(tdgen.sql_names('k', nd) || dst.val_names, ', '), dst_cols,
							  CASE WHEN traced THEN 'coalesce(s.depth, $2) + 1' ELSE '0' END,
							  CASE WHEN traced THEN 's.seq' ELSE 'NULL' END,
							  CASE WHEN traced AND pred THEN format('got.r%s', nd + nv + nk + 1) ELSE 'NULL' END, defs,
							  CASE WHEN traced
								   THEN format('LEFT JOIN %s AS s ON (%s) = (%s)', src.key_table,
											   tdgen.sql_list(tdgen.sql_names('k', nk), 's.'), src_cols)
								   ELSE '' END,
							  tdgen.key_absent(dst.key_table, nd)),
				'mark', CASE WHEN direction = 'down' THEN 'd' ELSE 'u' END, 'depth', top_depth, 'edge', g.n,
				'name', g.name, 'direction', direction), pending, stats);
		END IF;
	END LOOP;
END
$$;

-- Follow an edge whose values travel with the child's keys (g.carried)
-- up from the rows of the child's key set numbered after lo up to hi:
-- their distinct values, without production, when they are the parent's
-- key, production vouches for them and the parent's set needs no values
-- of its own; else the parents production has for them, asked by value
-- (an index lookup) instead of by the child's keys, each query sent ahead
-- as tdgen.subset_follow sends its own (pending, stats).  Values already
-- keys of the parent's set are not asked again.
CREATE FUNCTION tdgen.subset_lift(g record, src record, dst record, lo bigint, hi bigint,
								  INOUT pending jsonb, INOUT stats jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
	pf text[] := ARRAY(SELECT quote_ident(x) FROM unnest(g.parent_columns) AS x);
	nv integer := cardinality(pf);
	v text[] := tdgen.sql_names(format('v%s_', g.n), nv);
	nd integer := cardinality(dst.key_columns);
	by_key boolean := pf = dst.key_columns;
	-- the values asked, until the last query asking them is stored
	lift name := 'tdgen_lift_' || g.n;
	added bigint;
	chunk bigint := 0;
	chunks bigint;
	params text[];
BEGIN
	-- the values new to the parent, each with the first row that has it
	-- (grouped: many rows often share few values, which a hash groups
	-- where a sort would compare them all)
	EXECUTE format('DROP TABLE IF EXISTS pg_temp.%I', lift);
	EXECUTE format('CREATE TEMP TABLE %5$I ON COMMIT DROP AS
					SELECT *, row_number() OVER (ORDER BY %1$s) AS i
					FROM (SELECT %1$s, min(s.seq) AS seq FROM %2$s AS s
						  WHERE s.seq > $1 AND s.seq <= $2 AND NOT (s.mark = ''d'' AND s.via_edge = $3) AND %3$s %4$s
						  GROUP BY %1$s) AS x',
				   array_to_string(v, ', '), src.key_table,
				   (SELECT string_agg(format('%s IS NOT NULL', x), ' AND ') FROM unnest(v) AS x),
				   CASE WHEN by_key
						THEN format('AND NOT EXISTS (SELECT FROM %s AS p WHERE (%s) = (%s))', dst.key_table,
									tdgen.sql_list(tdgen.sql_names('k', nd), 'p.'), tdgen.sql_list(v, 's.'))
						ELSE '' END, lift)
	USING lo, hi, g.n;
	IF by_key AND g.validated AND cardinality(dst.val_names) = 0 THEN
		-- in the order the queries before it would have added theirs
		stats := tdgen.subset_land(pending, stats);
		pending := NULL;
		EXECUTE format('INSERT INTO %s (%s, mark, depth, via_edge, via_seq) SELECT %s, ''u'', 0, $1, seq FROM pg_temp.%I',
					   dst.key_table, array_to_string(tdgen.sql_names('k', nd), ', '), array_to_string(v, ', '), lift)
		USING g.n;
		GET DIAGNOSTICS added = ROW_COUNT;
		EXECUTE format('DROP TABLE pg_temp.%I', lift);
		stats := tdgen.subset_count(stats, g.name, 'up', 0, 0, added);
		RETURN;
	END IF;
	-- the parents production has, with their own values, a batch of
	-- values at a time; each matched to its row by the values it has
	EXECUTE format('SELECT count(*) FROM pg_temp.%I', lift) INTO chunks;
	IF chunks = 0 THEN
		EXECUTE format('DROP TABLE pg_temp.%I', lift);
		stats := tdgen.subset_count(stats, g.name, 'up', 0, 0, 0);
		RETURN;
	END IF;
	WHILE chunk * tdgen.subset_batch() < chunks LOOP
		EXECUTE format('SELECT ARRAY[%s]',
					   (SELECT string_agg(format('(SELECT array_agg(%s ORDER BY i)::text FROM pg_temp.%I WHERE i > $1 AND i <= $2)',
												 x, lift), ', ')
						FROM unnest(v) AS x))
		INTO params USING chunk * tdgen.subset_batch(), (chunk + 1) * tdgen.subset_batch();
		chunk := chunk + 1;
		SELECT * INTO pending, stats FROM tdgen.subset_send(
			format('SELECT %s, %s FROM %s AS tdgen_p WHERE %s', tdgen.sql_list(dst.key_columns || dst.val_exprs, 'tdgen_p.'),
				   tdgen.sql_list(pf, 'tdgen_p.'), g.parent_rel, tdgen.batch_filter('tdgen_p.', pf, g.child_types, true)),
			params,
			jsonb_build_object(
				'sql', format('INSERT INTO %s (%s, mark, depth, via_edge, via_seq)
							   SELECT %s, $1, $2, $3, l.seq FROM tdgen.remote_take() AS got(%s)
							   JOIN pg_temp.%I AS l ON (%s) = (%s) WHERE %s',
							  dst.key_table, array_to_string(tdgen.sql_names('k', nd) || dst.val_names, ', '),
							  tdgen.row_cols('got', 1, nd + cardinality(dst.val_names)),
							  tdgen.row_defs(dst.set_types || dst.val_types || g.child_set_types), lift, tdgen.sql_list(v, 'l.'),
							  tdgen.row_cols('got', nd + cardinality(dst.val_names) + 1, nv), tdgen.key_absent(dst.key_table, nd)),
				'mark', 'u', 'depth', 0, 'edge', g.n, 'name', g.name, 'direction', 'up')
			|| CASE WHEN chunk * tdgen.subset_batch() >= chunks THEN jsonb_build_object('drop', format('pg_temp.%I', lift))
					ELSE '{}' END,
			pending, stats);
	END LOOP;
END
$$;

-- Whether a closure records the row that brought each row and its depth:
-- tdgen_subset_why needs them (its key sets are temporary), and so does
-- max_depth; without them a refresh skips the joins that find them.
CREATE FUNCTION tdgen.subset_traced()
RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN EXISTS (SELECT FROM tdgen_subset_table AS x WHERE x.key_table LIKE 'pg\_temp.%')
		   OR EXISTS (SELECT FROM tdgen_subset_edge AS y WHERE y.max_depth IS NOT NULL);
END
$$;

-- Follow several edges down into one table at once (edges, all into the
-- same set), each from its parent's rows numbered after lo[i] up to hi[i]:
-- one query a batch of each, in which production gives each row once,
-- with the first edge that brings it; sent ahead as tdgen.subset_follow
-- sends its own (pending, stats).  Untraced: no row's path is kept.
CREATE FUNCTION tdgen.subset_gather(edges integer[], lo bigint[], hi bigint[], INOUT pending jsonb, INOUT stats jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	dst record := (SELECT x FROM tdgen_subset_table AS x JOIN tdgen_subset_edge AS y
				   ON (y.child_schema, y.child_table) = (x.schema_name, x.table_name) WHERE y.n = edges[1]);
	nd integer := cardinality(dst.key_columns);
	-- the keys and values each branch returns, and the edge's number
	cols text[] := tdgen.sql_names('tdgen_i', nd) || tdgen.sql_names('tdgen_v', cardinality(dst.val_exprs));
	names jsonb := (SELECT jsonb_object_agg(y.n, y.name) FROM tdgen_subset_edge AS y WHERE y.n = ANY (edges));
	last bigint[] := lo;
	g record;
	src record;
	branches text[];
	params text[];
	batch text[];
	asked integer[];
	top bigint;
	keys bigint;
BEGIN
	FOR i IN 1 .. cardinality(edges) LOOP
		stats := tdgen.subset_count(stats, names ->> edges[i]::text, 'down', 0, 0, 0);
	END LOOP;
	LOOP
		branches := '{}';
		params := '{}';
		asked := '{}';
		FOR i IN 1 .. cardinality(edges) LOOP
			CONTINUE WHEN last[i] >= hi[i];
			SELECT * INTO g FROM tdgen_subset_edge AS y WHERE y.n = edges[i];
			SELECT * INTO src FROM tdgen_subset_table AS x WHERE (x.schema_name, x.table_name) = (g.parent_schema, g.parent_table);
			SELECT b.last, b.keys, b.params INTO top, keys, batch
			FROM tdgen.subset_next_batch(src.key_table, cardinality(src.key_columns), last[i], hi[i], 2147483647, NULL) AS b;
			last[i] := coalesce(top, hi[i]);
			CONTINUE WHEN top IS NULL;
			branches := branches || format('SELECT %s, %s AS tdgen_e FROM (%s) AS tdgen_w', array_to_string(cols, ', '), g.n,
										   tdgen.subset_edge_sql(g, 'down', src.key_columns, src.key_types, dst.key_columns,
																 dst.val_exprs, true, cardinality(params) + 1,
																 tdgen.batch_joins(g, keys, dst.estimated_rows)));
			params := params || batch;
			asked := asked || g.n;
		END LOOP;
		EXIT WHEN cardinality(branches) = 0;
		-- (one edge's query gives each row once itself)
		SELECT * INTO pending, stats FROM tdgen.subset_send(
			CASE WHEN cardinality(branches) = 1 THEN branches[1]
				 ELSE format('SELECT DISTINCT ON (%1$s) * FROM (%2$s) AS tdgen_u ORDER BY %1$s, tdgen_e',
							 array_to_string(tdgen.sql_names('tdgen_i', nd), ', '), array_to_string(branches, ' UNION ALL ')) END,
			params,
			-- one edge's rows counted as tdgen.subset_follow counts its own,
			-- several edges' by the edge that brought each
			CASE WHEN cardinality(asked) = 1
				 THEN jsonb_build_object('sql', format(
						  'INSERT INTO %s (%s, mark, depth, via_edge) SELECT %s, $1, $2, $3 FROM tdgen.remote_take() AS got(%s) WHERE %s',
						  dst.key_table, array_to_string(tdgen.sql_names('k', nd) || dst.val_names, ', '),
						  tdgen.row_cols('got', 1, cardinality(cols)), tdgen.row_defs(dst.set_types || dst.val_types || ARRAY['integer']),
						  tdgen.key_absent(dst.key_table, nd)),
						  'mark', 'd', 'depth', 0, 'edge', asked[1], 'name', names ->> asked[1]::text, 'direction', 'down')
				 ELSE jsonb_build_object('names', names, 'sql', format(
						  'WITH got AS MATERIALIZED (SELECT * FROM tdgen.remote_take() AS got(%1$s)),
								added AS (INSERT INTO %2$s (%3$s, mark, depth, via_edge) SELECT %4$s, ''d'', 0, got.r%5$s FROM got WHERE %6$s
										  RETURNING via_edge)
						   SELECT e.edge, (SELECT count(*) FROM got WHERE got.r%5$s = e.edge) AS got,
								  (SELECT count(*) FROM added WHERE added.via_edge = e.edge) AS added
						   FROM unnest(%7$L::integer[]) AS e(edge)',
						  tdgen.row_defs(dst.set_types || dst.val_types || ARRAY['integer']), dst.key_table,
						  array_to_string(tdgen.sql_names('k', nd) || dst.val_names, ', '), tdgen.row_cols('got', 1, cardinality(cols)),
						  cardinality(cols) + 1, tdgen.key_absent(dst.key_table, nd), asked)) END,
			pending, stats);
	END LOOP;
END
$$;

-- Downward, untraced (tdgen.subset_traced): a table's rows are asked of
-- production once its parents have what they will get, by one query for
-- all the edges into it (tdgen.subset_gather), so a row under two parents
-- (a diamond) is read once, not once a path.  Each round follows, from
-- the rows its parent gained since it was last followed, every edge that
-- is the only one into its table, and every edge into a table whose
-- parents no edge still to follow can reach; every edge left, when each
-- waits on another (a cycle).  stats as tdgen.subset_rounds.
CREATE FUNCTION tdgen.subset_waves(stats jsonb)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	-- how far each edge has followed its parent's set, and each set's top
	done bigint[] := array_fill(0::bigint, ARRAY[(SELECT count(*) FROM tdgen_subset_edge)::integer]);
	tops bigint[];
	w record;
	open integer[];
	ready integer[];
	pending jsonb;
BEGIN
	LOOP
		tops := tdgen.subset_tops(false);
		WITH RECURSIVE down AS (
			SELECT y.n, p.n AS src, c.n AS dst FROM tdgen_subset_edge AS y
			JOIN tdgen_subset_table AS p ON (p.schema_name, p.table_name) = (y.parent_schema, y.parent_table) AND p.mode = 'subset'
			JOIN tdgen_subset_table AS c ON (c.schema_name, c.table_name) = (y.child_schema, y.child_table) AND c.mode = 'subset'
			WHERE y.downward
		), opened AS (
			SELECT * FROM down AS d WHERE tops[d.src] > done[d.n]
		), growing AS (
			SELECT o.dst AS n FROM opened AS o
			UNION
			SELECT d.dst FROM growing AS g JOIN down AS d ON d.src = g.n
		)
		SELECT coalesce(array_agg(o.n ORDER BY o.n), '{}'),
			   coalesce(array_agg(o.n ORDER BY o.n)
							FILTER (WHERE (SELECT count(*) FROM down AS d WHERE d.dst = o.dst) = 1
										  OR NOT EXISTS (SELECT FROM down AS d JOIN growing AS g ON g.n = d.src WHERE d.dst = o.dst)),
						'{}')
		INTO open, ready
		FROM opened AS o;
		EXIT WHEN cardinality(open) = 0;
		IF cardinality(ready) = 0 THEN
			ready := open;
		END IF;
		FOR w IN SELECT c.n AS dst, array_agg(y.n ORDER BY y.n) AS edges, array_agg(done[y.n] ORDER BY y.n) AS lo,
						array_agg(tops[p.n] ORDER BY y.n) AS hi
				 FROM tdgen_subset_edge AS y
				 JOIN tdgen_subset_table AS p ON (p.schema_name, p.table_name) = (y.parent_schema, y.parent_table)
				 JOIN tdgen_subset_table AS c ON (c.schema_name, c.table_name) = (y.child_schema, y.child_table)
				 WHERE y.n = ANY (ready) GROUP BY c.n ORDER BY c.n LOOP
			SELECT * INTO pending, stats FROM tdgen.subset_gather(w.edges, w.lo, w.hi, pending, stats);
			FOR i IN 1 .. cardinality(w.edges) LOOP
				done[w.edges[i]] := w.hi[i];
			END LOOP;
		END LOOP;
		stats := tdgen.subset_land(pending, stats);
		pending := NULL;
	END LOOP;
	RETURN stats;
END
$$;

-- The rounds of a closure over the key sets of tdgen.subset_keys (its
-- temporary tables pg_temp.tdgen_subset_table and _edge): each round
-- follows the edges from the rows each set gained since the round before,
-- until no set gains any.  direction 'down' follows the edges that allow
-- it from parents to children; 'up' every edge but the on_absent 'null'
-- ones from children to parents; 'drop' the same edges down, whatever
-- their options, from the rows left out (the sets' gone tables) to take
-- out the rows that reference them.  A round's queries depend only on
-- the rows the sets had when it began, so each is sent ahead while the
-- rows of the one before are stored; a round ends when all are stored.
-- stats: tdgen.subset_count's figures, returned with this closure's added.
CREATE FUNCTION tdgen.subset_rounds(direction text, stats jsonb)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	removing boolean := direction = 'drop';
	done bigint[] := array_fill(0::bigint, ARRAY[(SELECT count(*) FROM tdgen_subset_table)::integer]);
	tops bigint[];
	moved boolean;
	src record;
	dst record;
	g record;
	pending jsonb;
BEGIN
	IF direction = 'down' AND NOT tdgen.subset_traced() THEN
		RETURN tdgen.subset_waves(stats);
	END IF;
	LOOP
		tops := tdgen.subset_tops(removing);
		moved := false;
		FOR src IN SELECT x.n, x.schema_name, x.table_name, x.key_columns, x.key_types, x.set_types,
						  CASE WHEN removing THEN x.gone_table ELSE x.key_table END AS key_table
				   FROM tdgen_subset_table AS x WHERE x.mode = 'subset' AND tops[x.n] > done[x.n] ORDER BY x.n LOOP
			FOR g IN SELECT y.n, y.name, y.child_schema, y.child_table, y.child_rel, y.child_columns, y.parent_schema,
							y.parent_table, y.parent_rel, y.parent_columns, y.validated, y.not_null, y."when", y.downward,
							CASE WHEN NOT removing THEN y."where" END AS "where",
							CASE WHEN NOT removing THEN y.per_parent END AS per_parent,
							CASE WHEN NOT removing THEN y.order_by END AS order_by,
							CASE WHEN NOT removing THEN y.max_depth END AS max_depth, y.on_absent, y.child_types,
							y.child_set_types, y.carried, y.child_indexed, y.child_partitions
					 FROM tdgen_subset_edge AS y
					 WHERE CASE direction
							   WHEN 'down' THEN (y.parent_schema, y.parent_table) = (src.schema_name, src.table_name) AND y.downward
							   WHEN 'up' THEN (y.child_schema, y.child_table) = (src.schema_name, src.table_name)
											  AND y.on_absent <> 'null'
							   ELSE (y.parent_schema, y.parent_table) = (src.schema_name, src.table_name) AND y.on_absent <> 'null' END
					 ORDER BY y.n LOOP
				SELECT * INTO dst FROM tdgen_subset_table AS x
				WHERE x.mode = 'subset'
				  AND (x.schema_name, x.table_name) = (CASE WHEN direction = 'up' THEN g.parent_schema ELSE g.child_schema END,
														CASE WHEN direction = 'up' THEN g.parent_table ELSE g.child_table END);
				CONTINUE WHEN NOT FOUND;
				IF direction = 'up' AND g.carried THEN
					SELECT * INTO pending, stats FROM tdgen.subset_lift(g, src, dst, done[src.n], tops[src.n], pending, stats);
				ELSE
					SELECT * INTO pending, stats
					FROM tdgen.subset_follow(g, CASE WHEN direction = 'up' THEN 'up' ELSE 'down' END, src, dst, done[src.n],
											 tops[src.n], removing, pending, stats);
				END IF;
			END LOOP;
			done[src.n] := tops[src.n];
			moved := true;
		END LOOP;
		stats := tdgen.subset_land(pending, stats);
		pending := NULL;
		EXIT WHEN NOT moved;
	END LOOP;
	RETURN stats;
END
$$;

-- The closure: key sets of the environment's subset in key_schema (TEMP
-- tables in pg_temp, else UNLOGGED ones), one k<n> a subset table,
-- through tdgen's open connection to production.  Returns each table's
-- mode (subset, lookup, copy for an unreached table copied whole, empty,
-- skip), key set and rows by how they were reached; with run_id, records
-- the edges followed in tdgen.run_subset_edge.
CREATE FUNCTION tdgen.subset_keys(environment text, production jsonb, key_schema name, run_id bigint DEFAULT NULL)
RETURNS TABLE (n integer, schema_name name, table_name name, mode text, key_table text, key_columns text[], key_types text[],
			   target_rows bigint, downward_rows bigint, upward_rows bigint, lookup_rows bigint, row_bytes bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off SET client_min_messages = warning AS $$
#variable_conflict use_column
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
	seed bigint := coalesce((e.options ->> 'seed')::bigint, 0);
	persistence text := CASE WHEN key_schema = 'pg_temp' THEN 'TEMP' ELSE 'UNLOGGED' END;
	t record;
	src record;
	dst record;
	g record;
	top bigint;
	added bigint;
	stats jsonb := '{}';
	sql text;
BEGIN
	DROP TABLE IF EXISTS pg_temp.tdgen_subset_table, pg_temp.tdgen_subset_edge;
	CREATE TEMP TABLE tdgen_subset_table ON COMMIT DROP AS
	SELECT x.*, NULL::text AS key_table, NULL::text AS gone_table FROM tdgen.subset_tables(e.name, production) AS x;
	CREATE TEMP TABLE tdgen_subset_edge ON COMMIT DROP AS SELECT * FROM tdgen.subset_edges(e.name, production);
	-- the values that travel with a table's keys: those of its foreign
	-- keys that carry them (v<edge>_<column>)
	ALTER TABLE tdgen_subset_table ADD val_exprs text[], ADD val_names text[], ADD val_types text[];
	UPDATE tdgen_subset_table AS x
	SET val_exprs = coalesce(v.exprs, '{}'), val_names = coalesce(v.names, '{}'), val_types = coalesce(v.types, '{}')
	FROM tdgen_subset_table AS y
	LEFT JOIN LATERAL (SELECT array_agg(quote_ident(c.name) ORDER BY g.n, c.i) AS exprs,
							  array_agg(format('v%s_%s', g.n, c.i) ORDER BY g.n, c.i) AS names,
							  array_agg(g.child_set_types[c.i] ORDER BY g.n, c.i) AS types
					   FROM tdgen_subset_edge AS g CROSS JOIN LATERAL unnest(g.child_columns) WITH ORDINALITY AS c(name, i)
					   WHERE g.carried AND (g.child_schema, g.child_table) = (y.schema_name, y.table_name)) AS v ON true
	WHERE y.n = x.n;

	-- the tables the targets reach: downward from the targets, then
	-- upward from those and from the lookup tables; the others are
	-- unreached, made empty or copied whole
	WITH RECURSIVE down AS (
		SELECT x.schema_name, x.table_name FROM tdgen_subset_table AS x
		WHERE x.mode = 'subset' AND num_nonnulls(x.percent, x."where", x."limit") > 0
		UNION
		SELECT g.child_schema, g.child_table FROM down AS d
		JOIN tdgen_subset_edge AS g ON (g.parent_schema, g.parent_table) = (d.schema_name, d.table_name) AND g.downward
		JOIN tdgen_subset_table AS x ON (x.schema_name, x.table_name) = (g.child_schema, g.child_table) AND x.mode = 'subset'
	), reach AS (
		SELECT d.schema_name, d.table_name FROM down AS d
		UNION
		SELECT x.schema_name, x.table_name FROM tdgen_subset_table AS x WHERE x.mode = 'lookup'
		UNION
		SELECT g.parent_schema, g.parent_table FROM reach AS a
		JOIN tdgen_subset_edge AS g ON (g.child_schema, g.child_table) = (a.schema_name, a.table_name) AND g.on_absent <> 'null'
	)
	UPDATE tdgen_subset_table AS x SET mode = CASE WHEN e.options ->> 'unreached' = 'copy' THEN 'copy' ELSE 'empty' END
	WHERE x.mode = 'subset' AND (x.schema_name, x.table_name) NOT IN (SELECT a.schema_name, a.table_name FROM reach AS a);
	-- a table copied whole brings its parents like a lookup table; an
	-- unreached parent of one is copied whole too
	WITH RECURSIVE whole AS (
		SELECT x.schema_name, x.table_name FROM tdgen_subset_table AS x WHERE x.mode = 'copy'
		UNION
		SELECT g.parent_schema, g.parent_table FROM whole AS w
		JOIN tdgen_subset_edge AS g ON (g.child_schema, g.child_table) = (w.schema_name, w.table_name) AND g.on_absent <> 'null'
	)
	UPDATE tdgen_subset_table AS x SET mode = 'copy'
	WHERE x.mode = 'empty' AND (x.schema_name, x.table_name) IN (SELECT w.schema_name, w.table_name FROM whole AS w)
	  AND NOT EXISTS (SELECT FROM tdgen.table_mode AS m WHERE m.mode = 'empty' AND m.schema_name = x.schema_name
					  AND m.table_name = x.table_name AND (m.environment IS NULL OR m.environment = e.name));

	-- a key set a subset table (seq: the order rows arrive in, from a
	-- sequence that hands this one session its numbers in blocks)
	FOR t IN SELECT * FROM tdgen_subset_table AS x WHERE x.mode = 'subset' ORDER BY x.n LOOP
		UPDATE tdgen_subset_table AS x SET key_table = format('%I.%I', key_schema, 'k' || t.n),
										   gone_table = format('%I.%I', key_schema, 'g' || t.n) WHERE x.n = t.n;
		EXECUTE format('CREATE %s TABLE %I.%I (%s, mark "char" NOT NULL, depth integer NOT NULL, via_edge integer, via_seq bigint, via_key text[],
										   seq bigint GENERATED ALWAYS AS IDENTITY (CACHE 10000), PRIMARY KEY (%s)) %s',
					   persistence, key_schema, 'k' || t.n,
					   (SELECT string_agg(format('k%s %s NOT NULL', i, t.set_types[i]), ', ' ORDER BY i)
						FROM generate_series(1, cardinality(t.key_columns)) AS i)
					   || coalesce((SELECT string_agg(format(', %s %s', t.val_names[i], t.val_types[i]), '' ORDER BY i)
									FROM generate_series(1, cardinality(t.val_names)) AS i), ''),
					   array_to_string(tdgen.sql_names('k', cardinality(t.key_columns)), ', '),
					   CASE WHEN persistence = 'TEMP' THEN 'ON COMMIT DROP' ELSE '' END);
		EXECUTE format('CREATE INDEX ON %I.%I (seq)', key_schema, 'k' || t.n);
		IF e.options ->> 'orphans' = 'drop' THEN
			-- the rows left out, for the rows that need them to follow
			EXECUTE format('CREATE %s TABLE %I.%I (LIKE %I.%I INCLUDING IDENTITY INCLUDING INDEXES) %s', persistence, key_schema,
						   'g' || t.n, key_schema, 'k' || t.n, CASE WHEN persistence = 'TEMP' THEN 'ON COMMIT DROP' ELSE '' END);
		END IF;
	END LOOP;

	-- the targets
	FOR t IN SELECT * FROM tdgen_subset_table AS x
			 WHERE x.mode = 'subset' AND num_nonnulls(x.percent, x."where", x."limit") > 0 ORDER BY x.n LOOP
		sql := format('SELECT %s FROM %s AS tdgen_t WHERE %s AND %s', tdgen.sql_list(t.key_columns || t.val_exprs, 'tdgen_t.'),
					  t.qualified, coalesce('(' || t."where" || E'\n)', 'true'),
					  CASE WHEN t.percent IS NULL OR t.percent >= 100 THEN 'true'
						   WHEN t.percent <= 0 THEN 'false'
						   ELSE format('(%s(%s, %s) & 9223372036854775807) < %s', t.sample_hash, t.sample, seed,
									   floor(t.percent / 100 * 9223372036854775807::numeric)::bigint) END);
		IF t."limit" IS NOT NULL THEN
			sql := sql || format(' ORDER BY %s LIMIT %s', concat_ws(', ', t.order_by || E'\n', tdgen.sql_list(t.key_columns, 'tdgen_t.')),
								 t."limit");
		END IF;
		EXECUTE format('INSERT INTO %s (%s, mark, depth) SELECT got.*, ''t'', 0 FROM tdgen.remote_rows($1, ''{}'') AS got(%s) WHERE %s',
					   t.key_table, array_to_string(tdgen.sql_names('k', cardinality(t.key_columns)) || t.val_names, ', '),
					   tdgen.row_defs(t.set_types || t.val_types), tdgen.key_absent(t.key_table, cardinality(t.key_columns)))
		USING sql;
	END LOOP;

	-- downward, from the targets and the rows reached so, round by round
	stats := tdgen.subset_rounds('down', stats);

	-- upward: the parents of every row, and of every row of the tables
	-- copied whole, until nothing new comes
	FOR g IN SELECT y.* FROM tdgen_subset_edge AS y
			 JOIN tdgen_subset_table AS x ON (x.schema_name, x.table_name) = (y.child_schema, y.child_table) AND x.mode IN ('lookup', 'copy')
			 WHERE y.on_absent <> 'null' ORDER BY y.n LOOP
		SELECT * INTO dst FROM tdgen_subset_table AS x
		WHERE (x.schema_name, x.table_name) = (g.parent_schema, g.parent_table) AND x.mode = 'subset';
		CONTINUE WHEN NOT FOUND;
		EXECUTE format('INSERT INTO %s (%s, mark, depth, via_edge)
						SELECT got.*, ''u'', 0, $2 FROM tdgen.remote_rows($1, ''{}'') AS got(%s) WHERE %s',
					   dst.key_table, array_to_string(tdgen.sql_names('k', cardinality(dst.key_columns)) || dst.val_names, ', '),
					   tdgen.row_defs(dst.set_types || dst.val_types), tdgen.key_absent(dst.key_table, cardinality(dst.key_columns)))
		USING tdgen.subset_edge_sql(g, 'up', NULL, NULL, dst.key_columns, dst.val_exprs, false), g.n;
		GET DIAGNOSTICS added = ROW_COUNT;
		stats := tdgen.subset_count(stats, g.name, 'up', 1, tdgen.remote_rows_read(), added);
	END LOOP;
	stats := tdgen.subset_rounds('up', stats);

	-- orphans 'drop': the rows whose parent production lacks (behind a
	-- key it does not check) leave the subset, and every row of the
	-- subset that references a row gone, transitively
	IF e.options ->> 'orphans' = 'drop' THEN
		FOR g IN SELECT y.* FROM tdgen_subset_edge AS y WHERE NOT y.validated AND y.on_absent <> 'null' ORDER BY y.n LOOP
			SELECT * INTO src FROM tdgen_subset_table AS x
			WHERE (x.schema_name, x.table_name) = (g.child_schema, g.child_table) AND x.mode = 'subset';
			CONTINUE WHEN NOT FOUND;
			EXECUTE format('SELECT coalesce(max(seq), 0) FROM %s', src.key_table) INTO top;
			SELECT x.stats INTO stats FROM tdgen.subset_follow(g, 'orphans', src, src, 0, top, true, NULL, stats) AS x;
		END LOOP;
		stats := tdgen.subset_rounds('drop', stats);
	END IF;

	IF run_id IS NOT NULL THEN
		INSERT INTO tdgen.run_subset_edge (run_id, edge, direction, queries, keys_read, new_rows)
		SELECT run_id, x.key, d.key, (d.value ->> 0)::integer, (d.value ->> 1)::bigint, (d.value ->> 2)::bigint
		FROM jsonb_each(stats) AS x CROSS JOIN LATERAL jsonb_each(x.value) AS d;
	END IF;
	FOR t IN SELECT * FROM tdgen_subset_table AS x ORDER BY x.n LOOP
		n := t.n;
		schema_name := t.schema_name;
		table_name := t.table_name;
		mode := t.mode;
		key_table := t.key_table;
		key_columns := t.key_columns;
		key_types := t.key_types;
		row_bytes := t.row_bytes;
		target_rows := 0;
		downward_rows := 0;
		upward_rows := 0;
		lookup_rows := CASE WHEN t.mode IN ('lookup', 'copy') THEN t.estimated_rows ELSE 0 END;
		IF t.mode = 'subset' THEN
			EXECUTE format('SELECT count(*) FILTER (WHERE mark = ''t''), count(*) FILTER (WHERE mark = ''d''),
								   count(*) FILTER (WHERE mark = ''u'') FROM %s', t.key_table)
			INTO target_rows, downward_rows, upward_rows;
		END IF;
		RETURN NEXT;
	END LOOP;
END
$$;

-- Add a follow's figures (queries, keys read, new rows) to an edge's.
CREATE FUNCTION tdgen.subset_count(stats jsonb, edge text, direction text, queries bigint, keys_read bigint, new_rows bigint)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
RETURN jsonb_set(stats, ARRAY[edge], coalesce(stats -> edge, '{}') || jsonb_build_object(direction,
					jsonb_build_array(coalesce((stats #>> ARRAY[edge, direction, '0'])::bigint, 0) + queries,
									  coalesce((stats #>> ARRAY[edge, direction, '1'])::bigint, 0) + keys_read,
									  coalesce((stats #>> ARRAY[edge, direction, '2'])::bigint, 0) + new_rows)));

-- ---------------------------------------------------------------------------
-- Plan and why
-- ---------------------------------------------------------------------------

-- The closure of an environment's subset, as a refresh would compute it
-- now, in TEMP key sets of this transaction (pg_temp.tdgen_subset_table
-- lists them).  Without targets, every table is copied whole.
CREATE FUNCTION tdgen.subset_now(environment text)
RETURNS SETOF record
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
BEGIN
	IF NOT EXISTS (SELECT FROM tdgen.subset_target AS st WHERE st.environment = e.name) THEN
		RAISE EXCEPTION 'environment % has no subset targets', quote_literal(e.name)
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Without targets a refresh copies every table whole (tdgen_plan shows it); tdgen_subset_target sets one.';
	END IF;
	PERFORM tdgen.remote_begin((tdgen.resolve_source(e.source)).server);
	RETURN QUERY SELECT k.* FROM tdgen.subset_keys(e.name, tdgen.read_production(e.source), 'pg_temp') AS k;
END
$$;

-- tdgen_subset_plan: per table, how many rows a refresh would load and how
-- they come, computed now on production (keys only: no row data moves).
CREATE FUNCTION tdgen_subset_plan(environment text)
RETURNS TABLE (table_name text, mode text, target_rows bigint, downward_rows bigint, upward_rows bigint, lookup_rows bigint,
			   total_rows bigint, estimated_bytes bigint)
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_entry';

CREATE FUNCTION tdgen.subset_plan_by(caller regrole, environment text)
RETURNS TABLE (table_name text, mode text, target_rows bigint, downward_rows bigint, upward_rows bigint, lookup_rows bigint,
			   total_rows bigint, estimated_bytes bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
	PERFORM tdgen.check_may_plan(environment, caller);
	RETURN QUERY
		SELECT tdgen.qualified(k.schema_name, k.table_name), k.mode, k.target_rows, k.downward_rows, k.upward_rows,
			   k.lookup_rows, k.target_rows + k.downward_rows + k.upward_rows + k.lookup_rows,
			   (k.target_rows + k.downward_rows + k.upward_rows + k.lookup_rows) * k.row_bytes
		FROM tdgen.subset_now(environment) AS k(n integer, schema_name name, table_name name, mode text, key_table text,
												 key_columns text[], key_types text[], target_rows bigint,
												 downward_rows bigint, upward_rows bigint, lookup_rows bigint, row_bytes bigint)
		WHERE k.mode <> 'skip'
		ORDER BY 1;
END
$$;

-- tdgen_subset_why: why a row is in the subset, as the path back to a
-- target: the row, the row that brought it (its parent if it came
-- downward, its child if upward) and the foreign key between them, and
-- so on.  row_key: the row's key columns by name, as a subset knows
-- rows ({"id": 42}; {"ctid": "(0,1)"} for a table without a key).  No
-- rows when the row is not in the subset.
CREATE FUNCTION tdgen_subset_why(environment text, "table" text, row_key jsonb)
RETURNS TABLE (step integer, table_name text, key jsonb, reached text, via text)
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_entry';

CREATE FUNCTION tdgen.subset_why_by(caller regrole, environment text, "table" text, row_key jsonb)
RETURNS TABLE (step integer, table_name text, key jsonb, reached text, via text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
#variable_conflict use_column
DECLARE
	tbl name[] := tdgen.parse_name("table", 2);
	want jsonb := row_key;
	t record;
	g record;
	row record;
	names text[];
	cond text;
	n integer := 0;
BEGIN
	PERFORM tdgen.check_may_plan(environment, caller);
	PERFORM FROM tdgen.subset_now(environment) AS k(n integer, schema_name name, table_name name, mode text, key_table text,
													 key_columns text[], key_types text[], target_rows bigint,
													 downward_rows bigint, upward_rows bigint, lookup_rows bigint,
													 row_bytes bigint);
	SELECT * INTO t FROM pg_temp.tdgen_subset_table AS x WHERE (x.schema_name, x.table_name) = (tbl[1], tbl[2]);
	IF NOT FOUND THEN
		RAISE EXCEPTION 'environment % has no table %', quote_literal(environment), tdgen.qualified(VARIADIC tbl)
			USING ERRCODE = 'undefined_table';
	END IF;
	names := ARRAY(SELECT (parse_ident(x))[1] FROM unnest(t.key_columns) AS x);
	IF t.mode = 'subset' AND (jsonb_typeof(want) IS DISTINCT FROM 'object' OR NOT want ?& names) THEN
		RAISE EXCEPTION 'a row of % is known by %', tdgen.qualified(VARIADIC tbl), array_to_string(names, ', ')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = format('Give them as a JSON object: %s.', (SELECT jsonb_object_agg(x, '...') FROM unnest(names) AS x));
	END IF;
	cond := (SELECT string_agg(format('k%s = (%L::jsonb ->> %L)::%s', i, want, names[i], t.set_types[i]), ' AND ')
			 FROM generate_series(1, cardinality(names)) AS i);
	LOOP
		IF t.mode IN ('lookup', 'copy') THEN
			step := n;
			table_name := tdgen.qualified(t.schema_name, t.table_name);
			key := NULL;
			reached := 'whole';
			via := NULL;
			RETURN NEXT;
			RETURN;
		END IF;
		EXIT WHEN t.mode <> 'subset';
		EXECUTE format('SELECT * FROM %s WHERE %s', t.key_table, cond) INTO row;
		EXIT WHEN row IS NULL;
		names := ARRAY(SELECT (parse_ident(x))[1] FROM unnest(t.key_columns) AS x);
		SELECT * INTO g FROM pg_temp.tdgen_subset_edge AS y WHERE y.n = row.via_edge;
		step := n;
		table_name := tdgen.qualified(t.schema_name, t.table_name);
		EXECUTE format('SELECT jsonb_build_object(%s) FROM %s WHERE seq = $1',
					   (SELECT string_agg(format('%L, k%s', names[i], i), ', ') FROM generate_series(1, cardinality(names)) AS i),
					   t.key_table) INTO key USING row.seq;
		reached := CASE row.mark WHEN 't' THEN 'target' WHEN 'd' THEN 'downward' ELSE 'upward' END;
		via := g.name;
		RETURN NEXT;
		EXIT WHEN row.mark = 't';
		n := n + 1;
		-- the row that brought it: in the parent's table down, the child's up
		SELECT * INTO t FROM pg_temp.tdgen_subset_table AS x
		WHERE (x.schema_name, x.table_name) = CASE WHEN row.mark = 'd' THEN (g.parent_schema, g.parent_table)
												   ELSE (g.child_schema, g.child_table) END;
		cond := CASE WHEN row.via_seq IS NOT NULL THEN format('seq = %s', row.via_seq)
					 WHEN row.via_key IS NOT NULL
					 THEN format('ARRAY[%s] = %L::text[]', (SELECT string_agg(format('k%s::text', i), ', ')
															 FROM generate_series(1, cardinality(t.key_columns)) AS i),
								 row.via_key)
					 ELSE 'false' END;
	END LOOP;
END
$$;


-- ---------------------------------------------------------------------------
-- A refresh's subset
-- ---------------------------------------------------------------------------

-- The schemas a run's key sets live in: tdgen_keys_<environment>_<run>,
-- tdgen's own (a schema of that name someone else made is not touched).
CREATE FUNCTION tdgen.key_schemas(environment text)
RETURNS SETOF name
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT n.nspname FROM pg_namespace AS n
	WHERE tdgen.numbered_name(n.nspname, 'tdgen_keys_' || environment || '_') AND n.nspowner = current_user::regrole
	ORDER BY 1;
END;

-- Drop an environment's key sets (at the start and the end of a run).
CREATE FUNCTION tdgen.drop_key_sets(environment text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
	x name;
BEGIN
	FOR x IN SELECT * FROM tdgen.key_schemas(environment) LOOP
		EXECUTE format('DROP SCHEMA %I CASCADE', x);
	END LOOP;
END
$$;

-- A subset refresh's keys, before any row moves: the key sets (readable
-- by the environment's owner, whose workers load by them), the plan's
-- rows in tdgen.run_subset, the caps checked.  Returns per table how to
-- load it: mode copy (with key set, key_columns and key_types when by
-- keys) or empty.
CREATE FUNCTION tdgen.subset_prepare(e tdgen.environment, production jsonb, run_id bigint)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
	key_schema name := format('tdgen_keys_%s_%s', e.name, run_id);
	total bigint;
	bytes bigint;
	result jsonb;
BEGIN
	PERFORM tdgen.drop_key_sets(e.name);
	EXECUTE format('CREATE SCHEMA %I', key_schema);
	EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', key_schema, e.owner);
	INSERT INTO tdgen.run_subset (run_id, schema_name, table_name, mode, target_rows, downward_rows, upward_rows, lookup_rows)
	SELECT run_id, k.schema_name, k.table_name, k.mode, k.target_rows, k.downward_rows, k.upward_rows, k.lookup_rows
	FROM tdgen.subset_keys(e.name, production, key_schema, run_id) AS k
	WHERE k.mode <> 'skip';
	EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', key_schema, e.owner);

	SELECT sum(s.target_rows + s.downward_rows + s.upward_rows + s.lookup_rows),
		   sum((s.target_rows + s.downward_rows + s.upward_rows + s.lookup_rows) * t.row_bytes)
	INTO total, bytes
	FROM tdgen.run_subset AS s
	JOIN pg_temp.tdgen_subset_table AS t ON (t.schema_name, t.table_name) = (s.schema_name, s.table_name)
	WHERE s.run_id = subset_prepare.run_id;
	IF total > (e.options ->> 'max_rows')::bigint OR bytes > (e.options ->> 'max_bytes')::bigint THEN
		RAISE EXCEPTION 'the subset of environment % is over its cap: % rows, about % bytes', quote_literal(e.name), total, bytes
			USING ERRCODE = 'TG002',
				  DETAIL = format('max_rows %s, max_bytes %s', coalesce(e.options ->> 'max_rows', 'none'),
								  coalesce(e.options ->> 'max_bytes', 'none')),
				  HINT = 'Narrow the targets or limit edges (tdgen_subset_target, tdgen_subset_edge), or raise the caps in the environment''s options.';
	END IF;

	-- and the keys to set to NULL where the parent is not in the subset
	-- (on_absent 'null'; a parent copied whole is always there) or not in
	-- production (orphans 'null', for keys production does not check)
	SELECT jsonb_build_object('tables', jsonb_object_agg(tdgen.qualified(t.schema_name, t.table_name),
							jsonb_build_object('mode', CASE WHEN t.mode IN ('subset', 'lookup', 'copy') THEN 'copy' ELSE t.mode END,
											   'keys', t.key_table, 'key_columns', t.key_columns, 'key_types', t.key_types,
											   'key_indexed', t.indexed,
											   'nulls', (SELECT jsonb_agg(jsonb_build_object(
																'child_schema', (tdgen.parse_name(g.child_rel, 2))[1],
																'child_name', (tdgen.parse_name(g.child_rel, 2))[2],
																'child_columns', g.child_columns,
																'parent_schema', (tdgen.parse_name(g.parent_rel, 2))[1],
																'parent_name', (tdgen.parse_name(g.parent_rel, 2))[2],
																'parent_columns', g.parent_columns,
																'parent', tdgen.qualified(g.parent_schema, g.parent_table)))
														 FROM pg_temp.tdgen_subset_edge AS g
														 JOIN pg_temp.tdgen_subset_table AS p
														   ON (p.schema_name, p.table_name) = (g.parent_schema, g.parent_table)
														 WHERE (g.on_absent = 'null' AND p.mode IN ('subset', 'empty')
																OR NOT g.validated AND NOT g.not_null AND e.options ->> 'orphans' = 'null')
														   AND (g.child_schema, g.child_table) = (t.schema_name, t.table_name)))),
		-- the references checked after the load: the virtual ones, and
		-- production's unchecked ones with orphans 'fail'
		'checks', (SELECT coalesce(jsonb_agg(jsonb_build_object(
							'name', g.name, 'child', g.child_rel, 'parent', g.parent_rel,
							'child_schema', (tdgen.parse_name(g.child_rel, 2))[1], 'child_name', (tdgen.parse_name(g.child_rel, 2))[2],
							'parent_schema', (tdgen.parse_name(g.parent_rel, 2))[1], 'parent_name', (tdgen.parse_name(g.parent_rel, 2))[2],
							'child_columns', g.child_columns, 'parent_columns', g.parent_columns, 'when', g."when")), '[]')
				   FROM pg_temp.tdgen_subset_edge AS g
				   JOIN pg_temp.tdgen_subset_table AS c ON (c.schema_name, c.table_name) = (g.child_schema, g.child_table)
				   WHERE c.mode IN ('subset', 'lookup', 'copy')
					 AND (g."when" IS NOT NULL OR g.name IN (SELECT tdgen.qualified(v.schema_name, v.name) FROM tdgen.relation AS v)
						  OR NOT g.validated AND e.options ->> 'orphans' = 'fail')))
	INTO result
	FROM pg_temp.tdgen_subset_table AS t;
	RETURN result;
END
$$;

-- ---------------------------------------------------------------------------
-- Privileges and comments
-- ---------------------------------------------------------------------------

-- A subset's configuration is SQL run on production: written by those who
-- write the rules (tdgen_admin), as tdgen_rule is.
REVOKE ALL ON FUNCTION tdgen_subset_target(text, text, numeric, text, bigint, text), tdgen_drop_subset_target(text, text),
	tdgen_subset_edge(text, text, boolean, text, integer, text, integer, text), tdgen_drop_subset_edge(text, text),
	tdgen_relation(text, text[], text, text[], text, text, text), tdgen_drop_relation(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tdgen_subset_target(text, text, numeric, text, bigint, text), tdgen_drop_subset_target(text, text),
	tdgen_subset_edge(text, text, boolean, text, integer, text, integer, text), tdgen_drop_subset_edge(text, text),
	tdgen_relation(text, text[], text, text[], text, text, text), tdgen_drop_relation(text, text) TO tdgen_admin;
REVOKE ALL ON FUNCTION tdgen.subset_foreign_table(text, name[]), tdgen.check_subset_clauses(text, name[], text, text),
	tdgen.check_clause(regclass, text, text, text), tdgen.subset_tables(text, jsonb), tdgen.subset_edges(text, jsonb),
	tdgen.subset_recurses(record, text), tdgen.subset_edge_sql(record, text, text[], text[], text[], text[], boolean, integer, boolean),
	tdgen.batch_filter(text, text[], text[], boolean, integer), tdgen.batch_join(text[], text[], integer), tdgen.batch_params(text[], integer),
	tdgen.batch_joins(record, bigint, bigint),
	tdgen.subset_follow(record, text, record, record, bigint, bigint, boolean, jsonb, jsonb), tdgen.subset_batch(),
	tdgen.subset_send(text, text[], jsonb, jsonb, jsonb), tdgen.subset_land(jsonb, jsonb),
	tdgen.subset_lift(record, record, record, bigint, bigint, jsonb, jsonb), tdgen.snapshot_type(jsonb, oid), tdgen.subset_rounds(text, jsonb), tdgen.subset_keys(text, jsonb, name, bigint),
	tdgen.subset_traced(), tdgen.subset_gather(integer[], bigint[], bigint[], jsonb, jsonb), tdgen.subset_waves(jsonb),
	tdgen.subset_next_batch(text, integer, bigint, bigint, integer, integer), tdgen.subset_tops(boolean),
	tdgen.key_schemas(text), tdgen.drop_key_sets(text), tdgen.subset_prepare(tdgen.environment, jsonb, bigint),
	tdgen.subset_now(text), tdgen.subset_plan_by(regrole, text), tdgen.subset_why_by(regrole, text, text, jsonb) FROM PUBLIC;

COMMENT ON FUNCTION tdgen_subset_target(text, text, numeric, text, bigint, text) IS
	'sets the rows of a production table an environment''s subset starts from: where, percent (seeded hash of the key), limit by order_by';
COMMENT ON FUNCTION tdgen_drop_subset_target(text, text) IS
	'removes a subset target; an environment without targets copies every table whole';
COMMENT ON FUNCTION tdgen_subset_edge(text, text, boolean, text, integer, text, integer, text) IS
	'sets how an environment''s subset follows a foreign key: downward or not, where, per_parent by order_by, max_depth, on_absent';
COMMENT ON FUNCTION tdgen_drop_subset_edge(text, text) IS
	'removes the options of a foreign key in a subset: it is followed both ways again';
COMMENT ON FUNCTION tdgen_relation(text, text[], text, text[], text, text, text) IS
	'declares a reference production does not (polymorphic with "when"): a subset follows it as a foreign key and checks it after the load';
COMMENT ON FUNCTION tdgen_drop_relation(text, text) IS
	'removes a virtual relation';
COMMENT ON FUNCTION tdgen.subset_foreign_table(text, name[]) IS
	'the foreign table of a production table, synced from production when missing';
COMMENT ON FUNCTION tdgen.check_subset_clauses(text, name[], text, text) IS
	'checks a subset target''s or edge''s where and order_by over its production table';
COMMENT ON FUNCTION tdgen.check_clause(regclass, text, text, text) IS
	'parses and analyzes a WHERE condition or ORDER BY list over a table without running anything';
COMMENT ON FUNCTION tdgen.subset_tables(text, jsonb) IS
	'production''s tables as a subset sees them: mode, the key it knows rows by, the sample expression, the target';
COMMENT ON FUNCTION tdgen.subset_edges(text, jsonb) IS
	'production''s foreign keys between the root tables of key sets, with the environment''s options for each';
COMMENT ON FUNCTION tdgen.sql_list(text[], text, text) IS
	'SQL expressions as a comma-separated list, each prefixed, optionally aliased alias1, alias2...';
COMMENT ON FUNCTION tdgen.batch_filter(text, text[], text[], boolean, integer) IS
	'the condition that a relation''s columns equal one row of a batch of keys given as array parameters';
COMMENT ON FUNCTION tdgen.batch_params(text[], integer) IS
	'a batch''s array parameters as SQL, numbered from first';
COMMENT ON FUNCTION tdgen.batch_joins(record, bigint, bigint) IS
	'whether a batch of keys finds a partitioned child''s rows better by a join than by every partition''s index';
COMMENT ON FUNCTION tdgen.batch_join(text[], text[], integer) IS
	'a join of a partitioned table to a batch of keys given as array parameters, hashed once instead of probed per partition';
COMMENT ON FUNCTION tdgen.row_defs(text[]) IS
	'the column definition list r1 type1, r2 type2, ... of a row tdgen.remote_rows reads';
COMMENT ON FUNCTION tdgen.row_cols(text, integer, integer) IS
	'n columns of such a row from one on, as a SQL list';
COMMENT ON FUNCTION tdgen.key_absent(text, integer) IS
	'the condition that a row read from production is not in a key set yet';
COMMENT ON FUNCTION tdgen.sql_names(text, integer) IS
	'the names alias1 to aliasN';
COMMENT ON FUNCTION tdgen.subset_recurses(record, text) IS
	'whether following an edge one way is one recursive query to the end of a self-reference, its rows naming their predecessor';
COMMENT ON FUNCTION tdgen.subset_edge_sql(record, text, text[], text[], text[], text[], boolean, integer, boolean) IS
	'the production query that follows a foreign key from a batch of keys, down to children or up to parents';
COMMENT ON FUNCTION tdgen.subset_follow(record, text, record, record, bigint, bigint, boolean, jsonb, jsonb) IS
	'follows a foreign key from the new rows of a key set, a batch at a time, each query sent ahead and its keys added to the other set when the next is sent';
COMMENT ON FUNCTION tdgen.subset_send(text, text[], jsonb, jsonb, jsonb) IS
	'sends a query of a subset''s closure ahead, then stores the rows of the one sent before it';
COMMENT ON FUNCTION tdgen.subset_land(jsonb, jsonb) IS
	'stores the rows of the oldest query a subset''s closure sent ahead into their key set, and counts them for their edge';
COMMENT ON FUNCTION tdgen.subset_batch() IS
	'the keys or values one query of a subset''s closure sends production at most';
COMMENT ON FUNCTION tdgen.subset_lift(record, record, record, bigint, bigint, jsonb, jsonb) IS
	'follows a foreign key up from the values that travel with the child''s keys: the parents without production when they are its keys, else asked by value';
COMMENT ON FUNCTION tdgen.snapshot_type(jsonb, oid) IS
	'a type of production''s snapshot as a key set names it: production''s name and the type the set holds it as';
COMMENT ON FUNCTION tdgen.subset_next_batch(text, integer, bigint, bigint, integer, integer) IS
	'the next batch of a key set''s new rows to follow an edge from: its last number, depth, size and keys as arrays';
COMMENT ON FUNCTION tdgen.subset_tops(boolean) IS
	'each subset table''s greatest key-set number now (or of its rows left out)';
COMMENT ON FUNCTION tdgen.subset_traced() IS
	'whether a subset''s closure keeps each row''s path and depth (for tdgen_subset_why and max_depth)';
COMMENT ON FUNCTION tdgen.subset_gather(integer[], bigint[], bigint[], jsonb, jsonb) IS
	'follows several foreign keys down into one table in one query a batch, each row read once';
COMMENT ON FUNCTION tdgen.subset_waves(jsonb) IS
	'the downward closure of a refresh: a table''s rows asked once its parents have theirs, all its edges in one query';
COMMENT ON FUNCTION tdgen.subset_rounds(text, jsonb) IS
	'the rounds of a subset''s closure one way (down, up, or drop for the rows that reference rows left out), until no key set gains a row';
COMMENT ON FUNCTION tdgen.subset_keys(text, jsonb, name, bigint) IS
	'the closure of an environment''s subset as key sets: downward from the targets, then upward from everything';
COMMENT ON FUNCTION tdgen.subset_count(jsonb, text, text, bigint, bigint, bigint) IS
	'adds one follow''s queries, keys read and new rows to an edge''s figures';
COMMENT ON FUNCTION tdgen_subset_plan(text) IS
	'what a subset refresh would load, computed now on production''s keys: per table, rows as targets, downward, upward, whole, and their estimated bytes';
COMMENT ON FUNCTION tdgen_subset_why(text, text, jsonb) IS
	'why a row is in an environment''s subset: the path back to a target, each row with how it came and the foreign key it came by';
COMMENT ON FUNCTION tdgen.subset_now(text) IS
	'the closure of an environment''s subset computed now in TEMP key sets, for the plan and why';
COMMENT ON FUNCTION tdgen.subset_plan_by(regrole, text) IS
	'tdgen_subset_plan for a calling role that may refresh the environment';
COMMENT ON FUNCTION tdgen.subset_why_by(regrole, text, text, jsonb) IS
	'tdgen_subset_why for a calling role that may refresh the environment';
COMMENT ON FUNCTION tdgen.key_schemas(text) IS
	'the schemas of an environment''s key sets, tdgen''s own';
COMMENT ON FUNCTION tdgen.drop_key_sets(text) IS
	'drops an environment''s key sets';
COMMENT ON FUNCTION tdgen.subset_prepare(tdgen.environment, jsonb, bigint) IS
	'a subset refresh''s keys before any row moves: key sets, plan rows, caps checked; how to load each table';
