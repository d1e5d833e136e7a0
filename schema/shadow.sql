-- ===========================================================================
-- schema/shadow.sql
--     Reproducing production's schema in a shadow schema, from its catalog
--     as read through postgres_fdw.
-- ===========================================================================

CREATE FUNCTION tdgen.partition_bound_sql(node_tree text)
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_partition_bound_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- It parses node trees: only tdgen's own functions call it.
REVOKE ALL ON FUNCTION tdgen.partition_bound_sql(text) FROM PUBLIC;

COMMENT ON FUNCTION tdgen.partition_bound_sql(text) IS
	'the FOR VALUES (or DEFAULT) clause of a partition, from the text of production''s pg_class.relpartbound';

-- ---------------------------------------------------------------------------
-- Production's schema, read once
-- ---------------------------------------------------------------------------

-- Everything the shadow schema is built from, as one jsonb document: each
-- remote catalog table read to its end in turn (see tdgen.read_remote).
-- information_schema gives CHECK clauses by schema and name only, and a
-- name may repeat across tables and domains; the clauses of such
-- constraints are read again by OID (check_by_oid).
CREATE FUNCTION tdgen.remote_schema(source text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s tdgen.source := tdgen.resolve_source(source);
	ls name := s.local_schema;
	user_schema CONSTANT text := 'NOT IN (''pg_catalog'', ''information_schema'', ''pg_toast'')';
	doc jsonb;
	ambiguous oid[];
BEGIN
	doc := jsonb_build_object(
		'trusted', to_jsonb(s.trusted_schemas),
		'namespace', tdgen.read_remote(ls, 'catalog_namespace', 'true'),
		'class', tdgen.read_remote(ls, 'catalog_class', 'relkind IN (''r'', ''p'', ''S'', ''i'', ''I'')'),
		'attribute', tdgen.read_remote(ls, 'catalog_attribute', 'attnum > 0 AND NOT attisdropped AND attrelid >= 16384'),
		'type', tdgen.read_remote(ls, 'catalog_type', 'true'),
		'constraint', tdgen.read_remote(ls, 'catalog_constraint', 'contype IN (''p'', ''u'', ''f'', ''c'')'),
		'enum', tdgen.read_remote(ls, 'catalog_enum', 'true'),
		'inherits', tdgen.read_remote(ls, 'catalog_inherits', 'true'),
		'partition', tdgen.read_remote(ls, 'catalog_partition', 'relpartbound IS NOT NULL'),
		'partitioned_table', tdgen.read_remote(ls, 'catalog_partitioned_table', 'true'),
		'sequence', tdgen.read_remote(ls, 'catalog_sequence', 'true'),
		'sequences', tdgen.read_remote(ls, 'catalog_sequences', 'schemaname ' || user_schema),
		'depend', tdgen.read_remote(ls, 'catalog_depend', 'deptype IN (''a'', ''i'', ''e'')'),
		'indexes', tdgen.read_remote(ls, 'catalog_indexes', 'schemaname ' || user_schema),
		'columns', tdgen.read_remote(ls, 'info_columns', 'table_schema ' || user_schema),
		'checks', tdgen.read_remote(ls, 'info_check_constraints', 'constraint_schema ' || user_schema));
	SELECT array_agg(k.oid) INTO ambiguous
	FROM jsonb_to_recordset(doc -> 'constraint') AS k(oid oid, conname name, connamespace oid, contype "char")
	JOIN jsonb_to_recordset(doc -> 'namespace') AS n(oid oid, nspname name) ON n.oid = k.connamespace
	WHERE k.contype = 'c'
	  AND (SELECT count(DISTINCT c.check_clause)
		   FROM jsonb_to_recordset(doc -> 'checks') AS c(constraint_schema name, constraint_name name, check_clause text)
		   WHERE c.constraint_schema = n.nspname AND c.constraint_name = k.conname) > 1;
	RETURN tdgen.index_snapshot(doc || jsonb_build_object('check_by_oid', tdgen.remote_check_clauses(s, ambiguous)));
END
$$;

-- The lookups the statements make per table, column or constraint, keyed
-- once (read with #>, which copies only what it finds): a scan of a whole
-- catalog array per lookup grows with the square of the tables.
--   attribute_by_rel  {relid: [attributes]}
--   columns_by_rel    {schema: {table: [information_schema columns]}}
--   type_by_oid       {oid: type}
--   ext_member        {type oid: true} for types of extensions
--   checks_by_name    {schema: {constraint name: [clauses]}}
--   identity_seq      {"relid:attnum": sequence name} of identity columns
CREATE FUNCTION tdgen.index_snapshot(doc jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT doc || jsonb_build_object(
		'attribute_by_rel', coalesce((SELECT jsonb_object_agg(a.k, a.v) FROM (
				SELECT x ->> 'attrelid' AS k, jsonb_agg(x) AS v FROM jsonb_array_elements(doc -> 'attribute') AS x GROUP BY 1) AS a), '{}'),
		'columns_by_rel', coalesce((SELECT jsonb_object_agg(c.sch, c.tbls) FROM (
				SELECT t.sch, jsonb_object_agg(t.tbl, t.v) AS tbls FROM (
					SELECT x ->> 'table_schema' AS sch, x ->> 'table_name' AS tbl, jsonb_agg(x) AS v
					FROM jsonb_array_elements(doc -> 'columns') AS x GROUP BY 1, 2) AS t GROUP BY t.sch) AS c), '{}'),
		'type_by_oid', coalesce((SELECT jsonb_object_agg(x ->> 'oid', x) FROM jsonb_array_elements(doc -> 'type') AS x), '{}'),
		'ext_member', coalesce((SELECT jsonb_object_agg(x ->> 'objid', true) FROM jsonb_array_elements(doc -> 'depend') AS x
								WHERE (x ->> 'classid')::oid = 'pg_type'::regclass AND x ->> 'deptype' = 'e'), '{}'),
		'checks_by_name', coalesce((SELECT jsonb_object_agg(c.sch, c.names) FROM (
				SELECT t.sch, jsonb_object_agg(t.nm, t.v) AS names FROM (
					SELECT x ->> 'constraint_schema' AS sch, x ->> 'constraint_name' AS nm, jsonb_agg(DISTINCT x -> 'check_clause') AS v
					FROM jsonb_array_elements(doc -> 'checks') AS x GROUP BY 1, 2) AS t GROUP BY t.sch) AS c), '{}'),
		'identity_seq', coalesce((SELECT jsonb_object_agg(concat(d ->> 'refobjid', ':', d ->> 'refobjsubid'), c ->> 'relname')
								  FROM jsonb_array_elements(doc -> 'depend') AS d
								  JOIN jsonb_array_elements(doc -> 'class') AS c ON c ->> 'oid' = d ->> 'objid' AND c ->> 'relkind' = 'S'
								  WHERE (d ->> 'classid')::oid = 'pg_class'::regclass AND d ->> 'deptype' = 'i'
									AND (d ->> 'refobjsubid')::int > 0), '{}'));
END;

-- The CHECK clauses of constraints by OID, as production deparses them
-- (pg_get_constraintdef), as {"oid": clause}: one query each over tdgen's
-- connection, whose filter production evaluates (opened for them when
-- none is open, and closed after).
CREATE FUNCTION tdgen.remote_check_clauses(s tdgen.source, oids oid[])
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	opened boolean := false;
	clauses jsonb := '{}';
	k oid;
BEGIN
	IF cardinality(oids) IS NULL THEN
		RETURN clauses;
	END IF;
	IF tdgen.remote_server() IS NULL THEN
		PERFORM tdgen.remote_begin(s.server);
		opened := true;
	END IF;
	FOREACH k IN ARRAY oids LOOP
		clauses := clauses || jsonb_build_object(k::text,
			(tdgen.remote_rows(format('%I.%I', s.local_schema, 'info_check_constraints')::regclass,
							   format('(constraint_schema, constraint_name, check_clause) IN (SELECT n.nspname, c.conname,'
									  || ' substring(pg_catalog.pg_get_constraintdef(c.oid) FROM 7) FROM pg_catalog.pg_constraint AS c'
									  || ' JOIN pg_catalog.pg_namespace AS n ON n.oid = c.connamespace WHERE c.oid = %s)', k))
			 -> 0 ->> 'check_clause'));
	END LOOP;
	IF opened THEN
		PERFORM tdgen.remote_end();
	END IF;
	RETURN clauses;
END
$$;

-- Remote schema names in an expression production deparsed (defaults,
-- generated columns, checks, index definitions) pointed at the shadow
-- schema: outside string literals, and inside the literal of a ::regclass.
CREATE FUNCTION tdgen.retarget(expr text, schemas name[], shadow name)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	piece text;
	out text := '';
	pos integer := 0;
	after text;
	ident text[];
	s name;
BEGIN
	IF expr IS NULL THEN
		RETURN NULL;
	END IF;
	FOR piece IN SELECT m[1] FROM regexp_matches(expr, '(''(?:[^'']|'''')*''|[^'']+)', 'g') AS m LOOP
		pos := pos + length(piece);
		IF left(piece, 1) = '''' THEN
			after := substr(expr, pos + 1, 10);
			IF after LIKE '::regclass%' THEN
				ident := parse_ident(replace(substr(piece, 2, length(piece) - 2), '''''', ''''), false);
				IF cardinality(ident) = 2 AND ident[1] = ANY (schemas) THEN
					piece := quote_literal(quote_ident(shadow) || '.' || quote_ident(ident[2]));
				END IF;
			END IF;
		ELSE
			FOREACH s IN ARRAY schemas LOOP
				piece := regexp_replace(piece, '(^|[^A-Za-z0-9_$".])' || regexp_replace(quote_ident(s), '([^A-Za-z0-9_])', '\\\1', 'g') || '\.',
										'\1' || replace(quote_ident(shadow), '\', '\\') || '.', 'g');
			END LOOP;
		END IF;
		out := out || piece;
	END LOOP;
	RETURN out;
END
$$;

-- A production type as the shadow schema names it: built-in types as they
-- are, types of the source's schemas in the shadow schema, types of
-- extensions (or other schemas) as they exist here.
CREATE FUNCTION tdgen.shadow_type(snap jsonb, typid oid, typmod integer, schemas name[], shadow name)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	t record;
	local_name text;
BEGIN
	SELECT ty.typname, n.nspname, ty.typelem, ty.typcategory,
		   snap #> ARRAY['ext_member', typid::text] IS NOT NULL AS from_extension
	INTO t
	FROM jsonb_to_record(snap #> ARRAY['type_by_oid', typid::text]) AS ty(typname name, typnamespace oid, typelem oid, typcategory "char")
	JOIN jsonb_to_recordset(snap -> 'namespace') AS n(oid oid, nspname name) ON n.oid = ty.typnamespace;
	IF t.nspname = 'pg_catalog' THEN
		RETURN format_type(to_regtype('pg_catalog.' || quote_ident(t.typname)), typmod);
	ELSIF t.typcategory = 'A' AND t.typelem <> 0 THEN
		RETURN tdgen.shadow_type(snap, t.typelem, typmod, schemas, shadow) || '[]';
	ELSIF t.nspname = ANY (schemas) AND NOT t.from_extension THEN
		RETURN quote_ident(shadow) || '.' || quote_ident(t.typname);
	END IF;
	local_name := quote_ident(t.nspname) || '.' || quote_ident(t.typname);
	IF to_regtype(local_name) IS NULL THEN
		RAISE EXCEPTION 'production type % does not exist in the staging database', local_name
			USING ERRCODE = 'undefined_object',
				  HINT = 'Create the extension or schema that defines it in the staging database.';
	END IF;
	-- staging's type of that name is used: only an extension's, or one
	-- of a trusted schema, whose checks and I/O nobody else planted
	IF NOT (t.nspname IN (SELECT jsonb_array_elements_text(snap -> 'trusted'))
			OR EXISTS (SELECT FROM pg_depend AS d
					   WHERE d.classid = 'pg_type'::regclass AND d.objid = to_regtype(local_name) AND d.deptype = 'e')) THEN
		RAISE EXCEPTION 'type % of the staging database belongs to no extension and no trusted schema', local_name
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'A refresh uses staging''s type of production''s name: install it from an extension, or have a superuser trust its schema (tdgen_source(..., trusted_schemas => ...)).';
	END IF;
	RETURN format_type(to_regtype(local_name), typmod);
END
$$;

-- The statements that build the shadow schema from a snapshot of
-- production (tdgen.remote_schema), in order.  phase 'create': types,
-- sequences, tables and partitions with their checks (but NOT VALID
-- ones), before the load; phase 'finish': sequence values, once the
-- tables are loaded.  Each table's keys, indexes and statistics
-- (tdgen.shadow_table_work) and the foreign keys (tdgen.shadow_foreign_keys)
-- come between.  Tables in skip mode are left out.
CREATE FUNCTION tdgen.shadow_ddl(snap jsonb, schemas name[], shadow name, phase text, skipped text[] DEFAULT '{}')
RETURNS SETOF text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	sh text := quote_ident(shadow);
	r record;
BEGIN
	IF phase = 'create' THEN
		-- enums
		FOR r IN
			SELECT ty.typname, string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) AS labels
			FROM jsonb_to_recordset(snap -> 'type') AS ty(oid oid, typname name, typnamespace oid, typtype "char")
			JOIN jsonb_to_recordset(snap -> 'namespace') AS n(oid oid, nspname name) ON n.oid = ty.typnamespace
			JOIN jsonb_to_recordset(snap -> 'enum') AS e(enumtypid oid, enumsortorder float4, enumlabel name) ON e.enumtypid = ty.oid
			WHERE ty.typtype = 'e' AND n.nspname = ANY (schemas)
			  AND snap #> ARRAY['ext_member', ty.oid::text] IS NULL
			GROUP BY ty.oid, ty.typname ORDER BY ty.oid
		LOOP
			RETURN NEXT format('CREATE TYPE %s.%I AS ENUM (%s)', sh, r.typname, r.labels);
		END LOOP;
		-- domains, with their defaults, NOT NULL and checks
		FOR r IN
			SELECT ty.oid, ty.typname, ty.typbasetype, ty.typtypmod, ty.typnotnull, ty.typdefault, n.nspname
			FROM jsonb_to_recordset(snap -> 'type') AS ty(oid oid, typname name, typnamespace oid, typtype "char",
														  typbasetype oid, typtypmod int4, typnotnull boolean, typdefault text)
			JOIN jsonb_to_recordset(snap -> 'namespace') AS n(oid oid, nspname name) ON n.oid = ty.typnamespace
			WHERE ty.typtype = 'd' AND n.nspname = ANY (schemas)
			ORDER BY ty.oid
		LOOP
			RETURN NEXT format('CREATE DOMAIN %s.%I AS %s%s%s%s', sh, r.typname,
							   tdgen.shadow_type(snap, r.typbasetype, r.typtypmod, schemas, shadow),
							   CASE WHEN r.typdefault IS NOT NULL THEN ' DEFAULT ' || tdgen.retarget(r.typdefault, schemas, shadow) ELSE '' END,
							   CASE WHEN r.typnotnull THEN ' NOT NULL' ELSE '' END,
							   (SELECT coalesce(string_agg(format(' CONSTRAINT %I CHECK %s', k.conname,
																  tdgen.retarget(tdgen.check_clause(snap, k.oid, r.nspname, k.conname), schemas, shadow)),
														   '' ORDER BY k.conname), '')
								FROM jsonb_to_recordset(snap -> 'constraint') AS k(oid oid, conname name, contype "char", contypid oid)
								WHERE k.contypid = r.oid AND k.contype = 'c'));
		END LOOP;
		-- sequences, but those of identity columns, which the columns create
		FOR r IN
			SELECT c.relname, q.*
			FROM tdgen.shadow_relations(snap, schemas) AS c
			JOIN jsonb_to_recordset(snap -> 'sequence') AS q(seqrelid oid, seqtypid oid, seqstart int8, seqincrement int8,
															 seqmax int8, seqmin int8, seqcache int8, seqcycle boolean)
			  ON q.seqrelid = c.oid
			WHERE c.relkind = 'S' AND c.identity_of IS NULL
			ORDER BY c.oid
		LOOP
			RETURN NEXT format('CREATE SEQUENCE %s.%I AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s',
							   sh, r.relname, format_type(r.seqtypid, NULL), r.seqincrement, r.seqmin, r.seqmax,
							   r.seqstart, r.seqcache, CASE WHEN r.seqcycle THEN ' CYCLE' ELSE '' END);
		END LOOP;
		-- tables, parents before their partitions
		FOR r IN
			SELECT c.* FROM tdgen.shadow_relations(snap, schemas) AS c
			WHERE c.relkind IN ('r', 'p') AND NOT (c.relname = ANY (skipped)) AND NOT (coalesce(c.parent_name, '') = ANY (skipped))
			ORDER BY c.depth, c.oid
		LOOP
			IF r.parent_oid IS NULL THEN
				RETURN NEXT format('CREATE TABLE %s.%I (%s)%s', sh, r.relname,
								   tdgen.shadow_columns(snap, r.oid, r.nspname, r.relname, schemas, shadow),
								   tdgen.shadow_partition_by(snap, r.oid));
			ELSE
				RETURN NEXT format('CREATE TABLE %s.%I PARTITION OF %s.%I %s%s', sh, r.relname, sh, r.parent_name,
								   tdgen.partition_bound_sql(r.relpartbound), tdgen.shadow_partition_by(snap, r.oid));
			END IF;
		END LOOP;
		-- the checks, which the loader enforces row by row
		RETURN QUERY SELECT c.statement FROM tdgen.shadow_constraints(snap, schemas, shadow, skipped, 'checks') AS c;
		-- sequences that belong to a column
		FOR r IN
			SELECT c.relname, t.relname AS table_name, a.attname
			FROM tdgen.shadow_relations(snap, schemas) AS c
			JOIN jsonb_to_recordset(snap -> 'depend') AS d(classid oid, objid oid, refobjid oid, refobjsubid int4, deptype "char")
			  ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a' AND d.refobjsubid > 0
			JOIN tdgen.shadow_relations(snap, schemas) AS t ON t.oid = d.refobjid
			JOIN jsonb_to_recordset(snap -> 'attribute') AS a(attrelid oid, attnum int2, attname name)
			  ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
			WHERE c.relkind = 'S' AND NOT (t.relname = ANY (skipped))
		LOOP
			RETURN NEXT format('ALTER SEQUENCE %s.%I OWNED BY %s.%I.%I', sh, r.relname, sh, r.table_name, r.attname);
		END LOOP;
	ELSIF phase = 'finish' THEN
		-- sequences past the values loaded (those of columns), or where
		-- production has them (the others)
		FOR r IN
			SELECT c.relname, t.relname AS table_name, a.attname, q.last_value
			FROM tdgen.shadow_relations(snap, schemas) AS c
			LEFT JOIN jsonb_to_recordset(snap -> 'depend') AS d(classid oid, objid oid, refobjid oid, refobjsubid int4, deptype "char")
			  ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
			LEFT JOIN tdgen.shadow_relations(snap, schemas) AS t ON t.oid = d.refobjid
			LEFT JOIN jsonb_to_recordset(snap -> 'attribute') AS a(attrelid oid, attnum int2, attname name)
			  ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
			LEFT JOIN jsonb_to_recordset(snap -> 'sequences') AS q(schemaname name, sequencename name, last_value int8)
			  ON q.schemaname = c.nspname AND q.sequencename = c.relname
			WHERE c.relkind = 'S' AND NOT (coalesce(t.relname, '') = ANY (skipped))
			ORDER BY c.oid
		LOOP
			IF r.table_name IS NOT NULL THEN
				RETURN NEXT format('SELECT setval(%L, m, true) FROM (SELECT max(%I) AS m FROM %s.%I) AS x WHERE m IS NOT NULL',
								   sh || '.' || quote_ident(r.relname), r.attname, sh, r.table_name);
			ELSIF r.last_value IS NOT NULL THEN
				RETURN NEXT format('SELECT setval(%L, %s, true)', sh || '.' || quote_ident(r.relname), r.last_value);
			END IF;
		END LOOP;
	END IF;
	RETURN;
END
$$;

-- Tables, partitions and sequences of the source's schemas: for partitions
-- their parent and bound, for sequences the table of the identity column
-- they serve, and each relation's depth below its root.
-- This and the other set-returning functions of a snapshot are never
-- inlined (their SET does that): inlined into a caller that has the
-- snapshot as a constant, each reference to it in their bodies would
-- copy the whole document into the caller's plan, some hundred copies of
-- the demo's 1 MB in all.  They join catalog arrays the planner guesses
-- at 100 rows each, where a schema has thousands: no nested loops, which
-- would make them grow with the square of the tables.
CREATE FUNCTION tdgen.shadow_relations(snap jsonb, schemas name[])
RETURNS TABLE (oid oid, relname name, nspname name, relkind "char", parent_oid oid, parent_name name,
			   relpartbound text, depth integer, identity_of oid)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH RECURSIVE rel AS (
		SELECT c.oid, c.relname, n.nspname, c.relkind, c.relispartition
		FROM jsonb_to_recordset(snap -> 'class') AS c(oid oid, relname name, relnamespace oid, relkind "char", relispartition boolean)
		JOIN jsonb_to_recordset(snap -> 'namespace') AS n(oid oid, nspname name) ON n.oid = c.relnamespace
		WHERE n.nspname = ANY (schemas)
	), parent AS (
		SELECT r.oid, i.inhparent, p.relname AS parent_name, b.relpartbound
		FROM rel AS r
		JOIN jsonb_to_recordset(snap -> 'inherits') AS i(inhrelid oid, inhparent oid) ON i.inhrelid = r.oid
		JOIN rel AS p ON p.oid = i.inhparent
		LEFT JOIN jsonb_to_recordset(snap -> 'partition') AS b(oid oid, relpartbound text) ON b.oid = r.oid
		WHERE r.relispartition
	), depth AS (
		SELECT r.oid, 0 AS depth FROM rel AS r WHERE NOT r.relispartition
		UNION ALL
		SELECT p.oid, d.depth + 1 FROM parent AS p JOIN depth AS d ON d.oid = p.inhparent
	), deepest AS (
		SELECT d.oid, max(d.depth) AS depth FROM depth AS d GROUP BY d.oid
	), internal AS (
		-- the table a relation belongs to (an identity column's sequence)
		SELECT DISTINCT ON (d.objid) d.objid, d.refobjid
		FROM jsonb_to_recordset(snap -> 'depend') AS d(classid oid, objid oid, refobjid oid, deptype "char")
		WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'i'
		ORDER BY d.objid, d.refobjid
	)
	SELECT r.oid, r.relname, r.nspname, r.relkind, p.inhparent, p.parent_name, p.relpartbound,
		   coalesce(x.depth, 0), i.refobjid
	FROM rel AS r
	LEFT JOIN parent AS p ON p.oid = r.oid
	LEFT JOIN deepest AS x ON x.oid = r.oid
	LEFT JOIN internal AS i ON i.objid = r.oid;
END;

-- The column list of a table: types, identity, generated expressions,
-- defaults and NOT NULL, as production has them.
CREATE FUNCTION tdgen.shadow_columns(snap jsonb, relid oid, nspname name, relname name, schemas name[], shadow name)
RETURNS text
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT string_agg(
		format('%I %s', a.attname, tdgen.shadow_type(snap, a.atttypid, a.atttypmod, schemas, shadow))
		|| CASE WHEN a.attgenerated = 's'
				THEN format(' GENERATED ALWAYS AS (%s) STORED', tdgen.retarget(ic.generation_expression, schemas, shadow))
				WHEN a.attidentity IN ('a', 'd')
				THEN format(' GENERATED %s AS IDENTITY (SEQUENCE NAME %I.%I START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s%s)',
							CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END, shadow,
							snap #>> ARRAY['identity_seq', concat(relid, ':', a.attnum)],
							ic.identity_start, ic.identity_increment, ic.identity_minimum, ic.identity_maximum,
							CASE WHEN ic.identity_cycle = 'YES' THEN ' CYCLE' ELSE '' END)
				WHEN ic.column_default IS NOT NULL
				THEN ' DEFAULT ' || tdgen.retarget(ic.column_default, schemas, shadow)
				ELSE '' END
		|| CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
		', ' ORDER BY a.attnum)
	FROM jsonb_to_recordset(snap #> ARRAY['attribute_by_rel', relid::text])
		 AS a(attname name, attnum int2, atttypid oid, atttypmod int4, attnotnull boolean, attgenerated "char", attidentity "char")
	LEFT JOIN jsonb_to_recordset(snap #> ARRAY['columns_by_rel', nspname, relname])
		 AS ic(column_name name, column_default text, identity_start text, identity_increment text, identity_maximum text,
			   identity_minimum text, identity_cycle text, generation_expression text)
	  ON ic.column_name = a.attname;
END;

-- ' PARTITION BY ...' for a partitioned table, '' otherwise.
CREATE FUNCTION tdgen.shadow_partition_by(snap jsonb, relid oid)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	p record;
BEGIN
	SELECT pt.partstrat, pt.partattrs::int2[] AS attrs, pt.partexprs INTO p
	FROM jsonb_to_recordset(snap -> 'partitioned_table') AS pt(partrelid oid, partstrat "char", partattrs int2vector, partexprs text)
	WHERE pt.partrelid = relid;
	IF NOT FOUND THEN
		RETURN '';
	END IF;
	IF p.partexprs IS NOT NULL OR 0 = ANY (p.attrs) THEN
		RAISE EXCEPTION 'a partition key with expressions cannot be reproduced'
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'Skip the table with tdgen_table_mode(..., ''skip'').';
	END IF;
	RETURN format(' PARTITION BY %s (%s)', CASE p.partstrat WHEN 'r' THEN 'RANGE' WHEN 'l' THEN 'LIST' ELSE 'HASH' END,
				  (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.i)
				   FROM unnest(p.attrs) WITH ORDINALITY AS k(attnum, i)
				   JOIN jsonb_to_recordset(snap #> ARRAY['attribute_by_rel', relid::text]) AS a(attnum int2, attname name)
					 ON a.attnum = k.attnum));
END
$$;

-- Column names of attnums, in their order.
CREATE FUNCTION tdgen.attribute_names(snap jsonb, relid oid, attnums int2[])
RETURNS name[]
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT array_agg(a.attname ORDER BY k.i)
	FROM unnest(attnums) WITH ORDINALITY AS k(attnum, i)
	JOIN jsonb_to_recordset(snap #> ARRAY['attribute_by_rel', relid::text]) AS a(attnum int2, attname name)
	  ON a.attnum = k.attnum;
END;

-- Column names of attnums, quoted and comma-separated.
CREATE FUNCTION tdgen.column_names(snap jsonb, relid oid, attnums int2[])
RETURNS text
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT string_agg(quote_ident(n), ', ' ORDER BY i)
	FROM unnest(tdgen.attribute_names(snap, relid, attnums)) WITH ORDINALITY AS x(n, i);
END;

-- The CHECK clause production deparsed for a constraint: the one read by
-- its OID when its name is shared (tdgen.remote_schema), else the one of
-- its schema and name.
CREATE FUNCTION tdgen.check_clause(snap jsonb, conoid oid, nspname name, conname name)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	clauses text[];
BEGIN
	IF snap -> 'check_by_oid' ? conoid::text THEN
		clauses := ARRAY[snap -> 'check_by_oid' ->> conoid::text];
	ELSE
		SELECT array_agg(c) INTO clauses
		FROM jsonb_array_elements_text(snap #> ARRAY['checks_by_name', nspname, conname]) AS c;
	END IF;
	IF cardinality(clauses) IS DISTINCT FROM 1 OR clauses[1] IS NULL THEN
		RAISE EXCEPTION 'cannot read CHECK constraint %.% of production', quote_ident(nspname), quote_ident(conname)
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = CASE WHEN clauses IS NULL
							  THEN 'information_schema shows a CHECK only to its table''s owner: map tdgen''s user to the tables'' owner (or a superuser) on production.'
							  ELSE 'Production changed the constraint while it was read: refresh again.' END;
	END IF;
	RETURN clauses[1];
END
$$;

CREATE FUNCTION tdgen.fk_action(code "char")
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE code WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
				 WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END;

-- The constraints of the shadow schema's tables, as ALTER TABLE statements
-- with the table each is on (and the table a foreign key references), of
-- one kind: 'checks', the CHECK constraints the loader enforces (made with
-- the tables); 'keys', primary keys, unique constraints and NOT VALID
-- checks (made once the rows are in); 'foreign keys' (which need the keys
-- they reference).  A partition's constraints that come from its parent
-- are its parent's.
CREATE FUNCTION tdgen.shadow_constraints(snap jsonb, schemas name[], shadow name, skipped text[], kind text)
RETURNS TABLE (table_oid oid, referenced_oid oid, statement text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	SELECT c.table_oid, c.confrelid, CASE WHEN c.contype = 'f'
				THEN format('SELECT tdgen.add_foreign_key(%L, %L, %L)', format('%I.%I', shadow, c.relname),
							format('%I.%I', shadow, c.referenced_name), c.statement)
				ELSE c.statement END
	FROM (
	SELECT format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s%s%s', shadow, t.relname, k.conname,
		CASE k.contype
			WHEN 'p' THEN format('PRIMARY KEY (%s)', tdgen.column_names(snap, k.conrelid, k.conkey))
			WHEN 'u' THEN format('UNIQUE (%s)', tdgen.column_names(snap, k.conrelid, k.conkey))
			WHEN 'c' THEN 'CHECK ' || tdgen.retarget(tdgen.check_clause(snap, k.oid, t.nspname, k.conname), schemas, shadow)
			ELSE format('FOREIGN KEY (%s) REFERENCES %I.%I (%s)%s ON UPDATE %s ON DELETE %s',
						tdgen.column_names(snap, k.conrelid, k.conkey), shadow, rt.relname,
						tdgen.column_names(snap, k.confrelid, k.confkey),
						CASE k.confmatchtype WHEN 'f' THEN ' MATCH FULL' ELSE '' END,
						tdgen.fk_action(k.confupdtype), tdgen.fk_action(k.confdeltype)) END,
		CASE WHEN k.condeferrable THEN ' DEFERRABLE' || CASE WHEN k.condeferred THEN ' INITIALLY DEFERRED' ELSE '' END
			 ELSE '' END,
		-- as production has it, but on a partitioned table, where a foreign
		-- key cannot be NOT VALID
		CASE WHEN NOT coalesce(k.convalidated, true) AND (k.contype = 'c' OR (k.contype = 'f' AND t.relkind <> 'p'))
			 THEN ' NOT VALID' ELSE '' END) AS statement,
		k.contype, t.relname, rt.relname AS referenced_name, k.confrelid, k.conname, t.depth, t.oid AS table_oid
	FROM jsonb_to_recordset(snap -> 'constraint') AS k(oid oid, conname name, contype "char", conrelid oid, conkey int2[],
													   confrelid oid, confkey int2[], confupdtype "char", confdeltype "char",
													   confmatchtype "char", condeferrable boolean, condeferred boolean,
													   conislocal boolean, convalidated boolean)
	JOIN tdgen.shadow_relations(snap, schemas) AS t ON t.oid = k.conrelid AND t.relkind IN ('r', 'p')
	LEFT JOIN tdgen.shadow_relations(snap, schemas) AS rt ON rt.oid = k.confrelid
	WHERE k.conislocal AND NOT (t.relname = ANY (skipped))
	  AND CASE kind WHEN 'foreign keys' THEN k.contype = 'f' AND rt.oid IS NOT NULL AND NOT (rt.relname = ANY (skipped))
					WHEN 'checks' THEN k.contype = 'c' AND coalesce(k.convalidated, true)
					ELSE k.contype IN ('p', 'u') OR (k.contype = 'c' AND NOT coalesce(k.convalidated, true)) END
	) AS c
	ORDER BY CASE c.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'c' THEN 2 ELSE 3 END, c.depth, c.table_oid, c.conname;
END;

-- A table, or a partitioned table's partitions at every level, that hold
-- rows.
CREATE FUNCTION tdgen.leaf_tables(tbl regclass)
RETURNS SETOF pg_class
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT c.* FROM pg_class AS c
	WHERE c.relkind = 'r' AND (c.oid = tbl OR c.oid IN (SELECT p.relid FROM pg_partition_tree(tbl) AS p));
END;

-- How the check of a foreign key added to a loaded table reads its rows,
-- as planner settings for that one statement.  The planner prefers hashing
-- the referenced table, which costs several times more once the hash
-- outgrows the CPU's caches, and is rebuilt for each partition checked.
-- So past 100,000 referenced rows, no hash: a check of few rows against
-- many probes the referenced key's index, and one of more rows (a tenth of
-- the referenced ones, or more) merges both sides in key order.
CREATE FUNCTION tdgen.foreign_key_settings(tbl regclass, referenced regclass)
RETURNS TABLE (name text, setting text)
LANGUAGE sql STABLE
BEGIN ATOMIC
	WITH size AS (
		SELECT (SELECT max(c.reltuples) FROM tdgen.leaf_tables(tbl) AS c) AS checked,
			   (SELECT sum(greatest(c.reltuples, 0)) FROM tdgen.leaf_tables(referenced) AS c) AS target
	)
	SELECT x.name, 'off' FROM size AS s,
		LATERAL (VALUES ('enable_hashjoin', true), ('enable_nestloop', s.checked >= s.target / 10)) AS x(name, wanted)
	WHERE s.target > 100000 AND x.wanted
	ORDER BY 1;
END;

-- Add a foreign key to a loaded shadow table, which checks every row, with
-- the planner settings tdgen.foreign_key_settings gives; the caller's are
-- back after it.
CREATE FUNCTION tdgen.add_foreign_key(tbl regclass, referenced regclass, statement text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s record;
	saved jsonb := '{}';
BEGIN
	FOR s IN SELECT * FROM tdgen.foreign_key_settings(tbl, referenced) LOOP
		saved := saved || jsonb_build_object(s.name, current_setting(s.name));
		PERFORM set_config(s.name, s.setting, true);
	END LOOP;
	EXECUTE statement;
	PERFORM set_config(x.key, x.value, true) FROM jsonb_each_text(saved) AS x;
END
$$;

-- The secondary indexes of the shadow schema's tables (not those of
-- constraints, not a partition's copies of its parent's), as CREATE INDEX
-- statements; a partitioned table's index is made whole, its partitions
-- get theirs.
CREATE FUNCTION tdgen.shadow_indexes(snap jsonb, schemas name[], shadow name, skipped text[])
RETURNS TABLE (table_oid oid, statement text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH rel AS MATERIALIZED (
		SELECT * FROM tdgen.shadow_relations(snap, schemas)
	), key AS MATERIALIZED (
		-- the indexes of primary keys and unique constraints, made with them
		SELECT k.conrelid, k.conname
		FROM jsonb_to_recordset(snap -> 'constraint') AS k(conname name, conrelid oid, contype "char")
		WHERE k.contype IN ('p', 'u')
	), inherited AS MATERIALIZED (
		SELECT h.inhrelid FROM jsonb_to_recordset(snap -> 'inherits') AS h(inhrelid oid)
	), on_table AS MATERIALIZED (
		-- each index with its table (apart, so that the index's own
		-- relation is not joined to the tables by schema alone)
		SELECT x.*, t.oid AS table_oid, t.depth
		FROM jsonb_to_recordset(snap -> 'indexes') AS x(schemaname name, tablename name, indexname name, indexdef text)
		JOIN rel AS t ON t.nspname = x.schemaname AND t.relname = x.tablename
		WHERE NOT (t.relname = ANY (skipped))
	)
	SELECT x.table_oid, regexp_replace(tdgen.retarget(x.indexdef, schemas, shadow), ' ON ONLY ', ' ON ')
	FROM on_table AS x
	JOIN rel AS i ON i.nspname = x.schemaname AND i.relname = x.indexname AND i.relkind IN ('i', 'I')
	WHERE NOT EXISTS (SELECT FROM key AS k WHERE k.conrelid = x.table_oid AND k.conname = x.indexname)
	  AND NOT EXISTS (SELECT FROM inherited AS h WHERE h.inhrelid = i.oid)
	ORDER BY x.depth, x.table_oid, x.indexname;
END;

-- Each table of the shadow schema (partitions included, skipped tables
-- not) with the table at the top of its partition tree, which a job on
-- the tree names.
CREATE FUNCTION tdgen.shadow_roots(snap jsonb, schemas name[], skipped text[])
RETURNS TABLE (oid oid, root_oid oid, root_name name, root_qualified text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH RECURSIVE rel AS MATERIALIZED (
		SELECT * FROM tdgen.shadow_relations(snap, schemas)
	), root AS (
		SELECT r.oid, r.oid AS root_oid, r.relname AS root_name, tdgen.qualified(r.nspname, r.relname) AS root_qualified
		FROM rel AS r
		WHERE r.relkind IN ('r', 'p') AND r.parent_oid IS NULL AND NOT (r.relname = ANY (skipped))
		UNION ALL
		SELECT r.oid, t.root_oid, t.root_name, t.root_qualified FROM rel AS r JOIN root AS t ON r.parent_oid = t.oid
	)
	SELECT * FROM root;
END;

-- What each loaded table needs before the foreign keys, as one job per
-- table (its partitions' included): primary key, unique and NOT VALID
-- check constraints, indexes, then ANALYZE (the foreign keys' checks are
-- planned with its statistics, and staging's queries have them from the
-- first).
-- Jobs of different tables take no lock in common and run side by side.
CREATE FUNCTION tdgen.shadow_table_work(snap jsonb, schemas name[], shadow name, skipped text[])
RETURNS TABLE (table_name name, qualified text, statements text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH root AS MATERIALIZED (
		SELECT * FROM tdgen.shadow_roots(snap, schemas, skipped)
	), work AS (
		SELECT c.table_oid, c.statement, 1 AS step, row_number() OVER () AS n
		FROM tdgen.shadow_constraints(snap, schemas, shadow, skipped, 'keys') AS c
		UNION ALL
		SELECT i.table_oid, i.statement, 2, row_number() OVER ()
		FROM tdgen.shadow_indexes(snap, schemas, shadow, skipped) AS i
		UNION ALL
		SELECT t.root_oid, format('ANALYZE %I.%I', shadow, t.root_name), 3, 1
		FROM root AS t WHERE t.oid = t.root_oid
	)
	SELECT t.root_name, t.root_qualified, string_agg(w.statement, '; ' ORDER BY w.step, w.n)
	FROM work AS w JOIN root AS t ON t.oid = w.table_oid
	GROUP BY t.root_oid, t.root_name, t.root_qualified
	ORDER BY t.root_oid;
END;

-- The foreign keys, one statement each, with the tables (at the top of
-- their partition trees) each one is on and references.  A key is added
-- once both tables have their keys and indexes.  Adding it takes a SHARE
-- ROW EXCLUSIVE lock on both, so two keys that share a table are added
-- one after the other.
CREATE FUNCTION tdgen.shadow_foreign_keys(snap jsonb, schemas name[], shadow name, skipped text[])
RETURNS TABLE (table_name name, qualified text, referenced name, statement text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH root AS MATERIALIZED (
		SELECT * FROM tdgen.shadow_roots(snap, schemas, skipped)
	)
	SELECT t.root_name, t.root_qualified, r.root_name, c.statement
	FROM tdgen.shadow_constraints(snap, schemas, shadow, skipped, 'foreign keys') WITH ORDINALITY AS c
	JOIN root AS t ON t.oid = c.table_oid
	JOIN root AS r ON r.oid = c.referenced_oid
	ORDER BY c.ordinality;
END;

COMMENT ON FUNCTION tdgen.index_snapshot(jsonb) IS
	'production''s catalog document with its lookups keyed once: attributes by relation, columns by table, types by OID, extension types, CHECK clauses by name, identity sequences';

REVOKE ALL ON FUNCTION tdgen.remote_schema(text), tdgen.remote_check_clauses(tdgen.source, oid[]),
	tdgen.add_foreign_key(regclass, regclass, text) FROM PUBLIC;

COMMENT ON FUNCTION tdgen.remote_schema(text) IS
	'production''s catalog as one jsonb document: what the shadow schema is built from';
COMMENT ON FUNCTION tdgen.retarget(text, name[], name) IS
	'an expression production deparsed, with the source''s schema names pointed at the shadow schema';
COMMENT ON FUNCTION tdgen.shadow_type(jsonb, oid, integer, name[], name) IS
	'a production type as the shadow schema names it';
COMMENT ON FUNCTION tdgen.shadow_ddl(jsonb, name[], name, text, text[]) IS
	'the statements that build the shadow schema: phase create (types, sequences, tables, partitions, checks) or finish (sequence values)';
COMMENT ON FUNCTION tdgen.shadow_constraints(jsonb, name[], name, text[], text) IS
	'ALTER TABLE statements adding the shadow tables'' constraints of one kind (checks the loader enforces; keys and NOT VALID checks; foreign keys), with the table each is on and references';
COMMENT ON FUNCTION tdgen.shadow_indexes(jsonb, name[], name, text[]) IS
	'CREATE INDEX statements for the shadow tables'' secondary indexes, with the table each is on';
COMMENT ON FUNCTION tdgen.shadow_roots(jsonb, name[], text[]) IS
	'each shadow table and partition with the table at the top of its partition tree';
COMMENT ON FUNCTION tdgen.shadow_table_work(jsonb, name[], name, text[]) IS
	'per loaded table, the statements it needs before the foreign keys: keys, NOT VALID checks, indexes, ANALYZE';
COMMENT ON FUNCTION tdgen.shadow_foreign_keys(jsonb, name[], name, text[]) IS
	'per foreign key, the statement adding it, with the tables it is on and references';
COMMENT ON FUNCTION tdgen.add_foreign_key(regclass, regclass, text) IS
	'runs an ALTER TABLE adding a foreign key to a loaded shadow table, its check planned with tdgen.foreign_key_settings';
COMMENT ON FUNCTION tdgen.leaf_tables(regclass) IS
	'the table itself, or a partitioned table''s partitions that hold rows (at every level)';
COMMENT ON FUNCTION tdgen.foreign_key_settings(regclass, regclass) IS
	'the planner settings for checking a foreign key from a loaded table to another: no hash join past 100,000 referenced rows, no nested loop either when the checked table has a tenth as many rows or more';
COMMENT ON FUNCTION tdgen.shadow_relations(jsonb, name[]) IS
	'tables, partitions, sequences and indexes of the source''s schemas, with parents, bounds, depth and identity owner';
COMMENT ON FUNCTION tdgen.shadow_columns(jsonb, oid, name, name, name[], name) IS
	'the column list of a table: types, identity, generated expressions, defaults, NOT NULL';
COMMENT ON FUNCTION tdgen.shadow_partition_by(jsonb, oid) IS
	'the PARTITION BY clause of a partitioned table, or an empty string';
COMMENT ON FUNCTION tdgen.attribute_names(jsonb, oid, int2[]) IS
	'column names of attnums, in their order';
COMMENT ON FUNCTION tdgen.column_names(jsonb, oid, int2[]) IS
	'quoted column names of attnums, comma-separated';
COMMENT ON FUNCTION tdgen.check_clause(jsonb, oid, name, name) IS
	'the CHECK clause production deparsed for a constraint, by OID when its name is shared, else by schema and name; 55000 when it cannot be read';
COMMENT ON FUNCTION tdgen.remote_check_clauses(tdgen.source, oid[]) IS
	'CHECK clauses of constraints by OID, deparsed by production, read over tdgen''s connection';
COMMENT ON FUNCTION tdgen.fk_action("char") IS
	'ON UPDATE/ON DELETE action of a pg_constraint code';
