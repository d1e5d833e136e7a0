-- ===========================================================================
-- schema/shadow.sql
--     Reproducing production's schemas in shadow schemas, from its catalog
--     as read once (schema/production.sql).
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- Production's names, pointed at the shadow schemas
-- ---------------------------------------------------------------------------

-- Remote schema names in an expression production deparsed (defaults,
-- generated columns, checks, index definitions) pointed at the schemas
-- map gives them ({production schema: shadow schema}): outside string
-- literals, and inside the literal of a ::regclass.  Names of extensions'
-- objects (map's key "", tdgen.extension_names) are pointed at staging's
-- schema of their extension first, and kept from the schema mapping.
CREATE FUNCTION tdgen.retarget(expr text, map jsonb)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	piece text;
	out text := '';
	pos integer := 0;
	after text;
	ident text[];
	s record;
	-- outside identifiers and operators
	boundary CONSTANT text := '(?![A-Za-z0-9_$"+*<>=~!@#%^&|`?/-])';
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
				IF cardinality(ident) = 2 AND map ? ident[1] THEN
					piece := quote_literal(quote_ident(map ->> ident[1]) || '.' || quote_ident(ident[2]));
				END IF;
			END IF;
		ELSE
			-- an extension's name, marked (\x01 \x02) so the schemas' mapping passes it by
			FOR s IN SELECT x.key, x.value FROM jsonb_each_text(map -> '') AS x ORDER BY length(x.key) DESC LOOP
				piece := regexp_replace(piece, '(^|[^A-Za-z0-9_$".])' || regexp_replace(s.key, '([^A-Za-z0-9_])', '\\\1', 'g') || boundary,
										'\1' || replace(E'\x01' || s.value || E'\x02', '\', '\\'), 'g');
			END LOOP;
			FOR s IN SELECT x.key, x.value FROM jsonb_each_text(map) AS x WHERE x.key <> '' LOOP
				piece := regexp_replace(piece, '(^|[^A-Za-z0-9_$".])' || regexp_replace(quote_ident(s.key), '([^A-Za-z0-9_])', '\\\1', 'g') || '\.',
										'\1' || replace(quote_ident(s.value), '\', '\\') || '.', 'g');
			END LOOP;
			piece := translate(piece, E'\x01\x02', '');
		END IF;
		out := out || piece;
	END LOOP;
	RETURN out;
END
$$;

-- The names of extensions' objects that production's own objects use, as
-- production's deparsed definitions write them, with the name each has in
-- the staging database (its extension's schema there), as
-- {"schema.name": "staging_schema.name"}: the map's key "" for
-- tdgen.retarget.  Those of extensions staging lacks are left out (the gate
-- reports them).
CREATE FUNCTION tdgen.extension_names(snap jsonb)
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT coalesce(jsonb_object_agg(u.member, quote_ident(n.nspname) || '.' || substring(u.member FROM '^(?:"(?:[^"]|"")*"|[^."]+)\.(.*)$')), '{}')
	FROM (SELECT DISTINCT x.member, x.extname
		  FROM jsonb_to_recordset(snap -> 'ext_uses') AS x(member text, extname name)
		  WHERE x.member IS NOT NULL) AS u
	JOIN pg_extension AS e ON e.extname = u.extname
	JOIN pg_namespace AS n ON n.oid = e.extnamespace;
END;

-- A production type as the shadow schemas name it: built-in types as they
-- are, types of the schemas a refresh builds in their shadow schema, types
-- of extensions (or other schemas) as they exist here.
CREATE FUNCTION tdgen.shadow_type(snap jsonb, typid oid, typmod integer, map jsonb)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	t record;
	local_name text;
BEGIN
	SELECT ty.typname, n.nspname, ty.typelem, ty.typcategory,
		   snap #> ARRAY['ext_member', typid::text] IS NOT NULL AS from_extension,
		   snap #>> ARRAY['ext_member', typid::text] AS extname
	INTO t
	FROM jsonb_to_record(snap #> ARRAY['type_by_oid', typid::text]) AS ty(typname name, typnamespace oid, typelem oid, typcategory "char")
	JOIN jsonb_to_recordset(snap -> 'namespace') AS n(oid oid, nspname name) ON n.oid = ty.typnamespace;
	IF t.nspname = 'pg_catalog' THEN
		RETURN format_type(to_regtype('pg_catalog.' || quote_ident(t.typname)), typmod);
	ELSIF t.typcategory = 'A' AND t.typelem <> 0 THEN
		RETURN tdgen.shadow_type(snap, t.typelem, typmod, map) || '[]';
	ELSIF map ? t.nspname AND NOT t.from_extension THEN
		RETURN quote_ident(map ->> t.nspname) || '.' || quote_ident(t.typname);
	ELSIF t.from_extension THEN
		-- the type of that name of staging's extension, wherever it lives
		RETURN (SELECT format_type(ty.oid, typmod)
				FROM pg_type AS ty
				JOIN pg_depend AS d ON d.classid = 'pg_type'::regclass AND d.objid = ty.oid AND d.deptype = 'e'
				JOIN pg_extension AS x ON x.oid = d.refobjid AND x.extname = t.extname
				WHERE ty.typname = t.typname);
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

-- The statements that build the shadow schemas from a snapshot of
-- production (tdgen.remote_schema), in order; map names the shadow schema
-- of each production schema.  phase 'create': what the tables need
-- (tdgen.shadow_objects), the tables and partitions with their checks
-- (but NOT VALID ones), views, before the load; phase 'finish': sequence
-- values, then what reads or acts on the loaded rows
-- (tdgen.shadow_finish; triggers only when triggers is true).  Each
-- table's keys, indexes and statistics (tdgen.shadow_table_work) and the
-- foreign keys (tdgen.shadow_foreign_keys) come between.  Tables in skip
-- mode (skipped, qualified production names) are left out.
CREATE FUNCTION tdgen.shadow_ddl(snap jsonb, map jsonb, phase text, skipped text[] DEFAULT '{}', triggers boolean DEFAULT true)
RETURNS SETOF text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r record;
BEGIN
	IF phase = 'create' THEN
		-- every object the tables need, and the tables, each after what
		-- it uses
		RETURN QUERY
		SELECT o.statement
		FROM tdgen.shadow_objects(snap, map, skipped) AS o
		LEFT JOIN tdgen.create_levels(snap) AS l ON l.classid = o.classid AND l.objid = o.objid
		ORDER BY coalesce(l.level, 0), o.rank, o.objid;
		-- the checks, which the loader enforces row by row
		RETURN QUERY SELECT c.statement FROM tdgen.shadow_constraints(snap, map, skipped, 'checks') AS c;
		-- sequences that belong to a column
		FOR r IN
			SELECT c.shadow_table AS sequence_name, t.shadow_table AS table_name, a.attname
			FROM tdgen.shadow_relations(snap, map) AS c
			JOIN jsonb_to_recordset(snap -> 'depend') AS d(classid oid, objid oid, refobjid oid, refobjsubid int4, deptype "char")
			  ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a' AND d.refobjsubid > 0
			JOIN tdgen.shadow_relations(snap, map) AS t ON t.oid = d.refobjid
			JOIN jsonb_to_recordset(snap -> 'attribute') AS a(attrelid oid, attnum int2, attname name)
			  ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
			WHERE c.relkind = 'S' AND NOT (t.qualified = ANY (skipped))
		LOOP
			RETURN NEXT format('ALTER SEQUENCE %s OWNED BY %s.%I', r.sequence_name, r.table_name, r.attname);
		END LOOP;
	ELSIF phase = 'finish' THEN
		-- sequences past the values loaded (those of columns), or where
		-- production has them (the others)
		FOR r IN
			SELECT c.shadow_table AS sequence_name, t.shadow_table AS table_name, a.attname, q.last_value
			FROM tdgen.shadow_relations(snap, map) AS c
			LEFT JOIN jsonb_to_recordset(snap -> 'depend') AS d(classid oid, objid oid, refobjid oid, refobjsubid int4, deptype "char")
			  ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
			LEFT JOIN tdgen.shadow_relations(snap, map) AS t ON t.oid = d.refobjid
			LEFT JOIN jsonb_to_recordset(snap -> 'attribute') AS a(attrelid oid, attnum int2, attname name)
			  ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
			LEFT JOIN jsonb_to_recordset(snap -> 'sequences') AS q(schemaname name, sequencename name, last_value int8)
			  ON q.schemaname = c.nspname AND q.sequencename = c.relname
			WHERE c.relkind = 'S' AND NOT (coalesce(t.qualified, '') = ANY (skipped))
			ORDER BY c.oid
		LOOP
			IF r.table_name IS NOT NULL THEN
				RETURN NEXT format('SELECT setval(%L, m, true) FROM (SELECT max(%I) AS m FROM %s) AS x WHERE m IS NOT NULL',
								   r.sequence_name, r.attname, r.table_name);
			ELSIF r.last_value IS NOT NULL THEN
				RETURN NEXT format('SELECT setval(%L, %s, true)', r.sequence_name, r.last_value);
			END IF;
		END LOOP;
		RETURN QUERY SELECT f.statement FROM tdgen.shadow_finish(snap, map, skipped, triggers) AS f;
	END IF;
	RETURN;
END
$$;

-- A production relation's name in the shadow schemas (map: production
-- schema to shadow schema), qualified and quoted.
CREATE FUNCTION tdgen.shadow_table(map jsonb, schema_name name, relname name)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN format('%I.%I', map ->> schema_name, relname);

-- Tables, partitions, sequences and indexes of the schemas a refresh
-- builds (map's), each with its production name (qualified) and its name
-- in the shadow schemas: for partitions their parent and bound, for
-- sequences the table of the identity column they serve, and each
-- relation's depth below its root.
-- This and the other set-returning functions of a snapshot are never
-- inlined (their SET does that): inlined into a caller that has the
-- snapshot as a constant, each reference to it in their bodies would
-- copy the whole document into the caller's plan, some hundred copies of
-- the demo's 1 MB in all.  They join catalog arrays the planner guesses
-- at 100 rows each, where a schema has thousands: no nested loops, which
-- would make them grow with the square of the tables.
CREATE FUNCTION tdgen.shadow_relations(snap jsonb, map jsonb)
RETURNS TABLE (oid oid, relname name, nspname name, relkind "char", reloptions text[], qualified text, shadow_table text,
			   parent_oid oid, parent_qualified text, parent_shadow_table text,
			   relpartbound text, depth integer, identity_of oid)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH RECURSIVE rel AS (
		SELECT c.oid, c.relname, n.nspname, c.relkind, c.reloptions, c.relispartition, tdgen.qualified(n.nspname, c.relname) AS qualified,
			   tdgen.shadow_table(map, n.nspname, c.relname) AS shadow_table
		FROM jsonb_to_recordset(snap -> 'class') AS c(oid oid, relname name, relnamespace oid, relkind "char", reloptions text[],
													  relispartition boolean)
		JOIN jsonb_to_recordset(snap -> 'namespace') AS n(oid oid, nspname name) ON n.oid = c.relnamespace
		WHERE snap -> 'listed' ? n.nspname OR (c.relkind = 'S' AND tdgen.reproduced(snap, n.nspname, 'pg_class', c.oid))
	), parent AS (
		SELECT r.oid, i.inhparent, p.qualified AS parent_qualified, p.shadow_table AS parent_shadow_table, b.relpartbound
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
	SELECT r.oid, r.relname, r.nspname, r.relkind, r.reloptions, r.qualified, r.shadow_table,
		   p.inhparent, p.parent_qualified, p.parent_shadow_table, p.relpartbound,
		   coalesce(x.depth, 0), i.refobjid
	FROM rel AS r
	LEFT JOIN parent AS p ON p.oid = r.oid
	LEFT JOIN deepest AS x ON x.oid = r.oid
	LEFT JOIN internal AS i ON i.objid = r.oid;
END;

-- The column list of a table: types, collations, identity, generated
-- expressions, defaults and NOT NULL, as production has them.
CREATE FUNCTION tdgen.shadow_columns(snap jsonb, relid oid, nspname name, relname name, map jsonb)
RETURNS text
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT string_agg(
		format('%I %s', a.attname, tdgen.shadow_type(snap, a.atttypid, a.atttypmod, map))
		|| coalesce(' COLLATE ' || tdgen.retarget(a."collation", map), '')
		|| CASE WHEN a.attgenerated = 's'
				THEN format(' GENERATED ALWAYS AS (%s) STORED', tdgen.retarget(ic.generation_expression, map))
				WHEN a.attidentity IN ('a', 'd')
				THEN format(' GENERATED %s AS IDENTITY (SEQUENCE NAME %I.%I START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s%s)',
							CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END, map ->> nspname,
							snap #>> ARRAY['identity_seq', concat(relid, ':', a.attnum)],
							ic.identity_start, ic.identity_increment, ic.identity_minimum, ic.identity_maximum,
							CASE WHEN ic.identity_cycle = 'YES' THEN ' CYCLE' ELSE '' END)
				WHEN ic.column_default IS NOT NULL
				THEN ' DEFAULT ' || tdgen.retarget(ic.column_default, map)
				ELSE '' END
		|| CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
		', ' ORDER BY a.attnum)
	FROM jsonb_to_recordset(snap #> ARRAY['attribute_by_rel', relid::text])
		 AS a(attname name, attnum int2, atttypid oid, atttypmod int4, attnotnull boolean, attgenerated "char", attidentity "char",
			  "collation" text)
	LEFT JOIN jsonb_to_recordset(snap #> ARRAY['columns_by_rel', nspname, relname])
		 AS ic(column_name name, column_default text, identity_start text, identity_increment text, identity_maximum text,
			   identity_minimum text, identity_cycle text, generation_expression text)
	  ON ic.column_name = a.attname;
END;

-- ' PARTITION BY ...' for a partitioned table, '' otherwise.
CREATE FUNCTION tdgen.shadow_partition_by(snap jsonb, relid oid, map jsonb)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT coalesce((SELECT ' PARTITION BY ' || tdgen.retarget(pt.partkey, map)
					 FROM jsonb_to_recordset(snap -> 'partitioned_table') AS pt(partrelid oid, partkey text)
					 WHERE pt.partrelid = relid), '');
END;

-- An operator as regoperator names it (schema.op(left,right)), as an
-- operator clause names one: OPERATOR(schema.op).
CREATE FUNCTION tdgen.operator_name(regoperator_text text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 'OPERATOR(' || regexp_replace(regoperator_text, '\(.*$', '') || ')';

-- The order in which production's objects are made: each one's level is
-- one more than the highest level of what it uses (tdgen.catalog_query's
-- uses, and a partition its parent), so that it comes after them.  A
-- cycle of uses, which production can only have through objects made
-- later (checks, indexes), is cut at level 64.
CREATE FUNCTION tdgen.create_levels(snap jsonb)
RETURNS TABLE (classid oid, objid oid, level integer)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH RECURSIVE edge AS MATERIALIZED (
		SELECT DISTINCT u.classid, u.objid, u.refclassid, u.refobjid
		FROM jsonb_to_recordset(snap -> 'uses') AS u(classid oid, objid oid, refclassid oid, refobjid oid)
		UNION
		SELECT 'pg_class'::regclass, i.inhrelid, 'pg_class'::regclass, i.inhparent
		FROM jsonb_to_recordset(snap -> 'inherits') AS i(inhrelid oid, inhparent oid)
	), walk (classid, objid, level) AS (
		SELECT DISTINCT e.refclassid, e.refobjid, 0 FROM edge AS e
		UNION
		SELECT e.classid, e.objid, w.level + 1
		FROM walk AS w JOIN edge AS e ON e.refclassid = w.classid AND e.refobjid = w.objid
		WHERE w.level < 64
	)
	SELECT w.classid, w.objid, max(w.level) FROM walk AS w GROUP BY w.classid, w.objid;
END;

-- A function production deparsed (pg_get_functiondef), its schema names
-- pointed where map says, in its text and in the search_path it sets.
-- Made as SECURITY INVOKER: a copy that ran as the environment's owner
-- would run with the owner's rights, production access through its user
-- mapping among them, for any reader of the target; and without
-- LEAKPROOF and SUPPORT, which only superusers may declare.
CREATE FUNCTION tdgen.retarget_function(definition text, map jsonb)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	setting text := substring(definition FROM '\n SET search_path TO ([^\n]*)\n');
	body_at integer := coalesce(nullif(least(nullif(strpos(definition, E'\nAS '), 0), nullif(strpos(definition, E'\nRETURN '), 0),
												nullif(strpos(definition, E'\nBEGIN ATOMIC'), 0)), 0), length(definition) + 1);
	header text := left(definition, body_at - 1);
BEGIN
	header := regexp_replace(header, ' (SECURITY DEFINER|LEAKPROOF|SUPPORT [^ \n]+)(?=[ \n]|$)', '', 'g');
	definition := header || substr(definition, body_at);
	definition := tdgen.retarget(definition, map);
	IF setting IS NOT NULL THEN
		definition := replace(definition, E'\n SET search_path TO ' || setting || E'\n',
							  E'\n SET search_path TO ' || (
								SELECT string_agg(quote_literal(coalesce(map ->> x.nsp, x.nsp)), ', ' ORDER BY x.i)
								FROM unnest(string_to_array(setting, ', ')) WITH ORDINALITY AS x0(item, i),
									 LATERAL (SELECT btrim(x0.item, '''') AS nsp, x0.i) AS x)
							  || E'\n');
	END IF;
	RETURN definition;
END
$$;

-- What the 'create' phase makes of production's objects, one statement
-- each with its catalog and OID (for tdgen.create_levels) and a rank that
-- orders kinds within a level: collations, enums, domains and composite
-- types, functions and procedures, aggregates, operators, sequences,
-- tables and partitions, views, materialized views (WITH NO DATA: filled
-- once the tables are loaded).  Statements name production's objects as
-- map says.
CREATE FUNCTION tdgen.shadow_objects(snap jsonb, map jsonb, skipped text[])
RETURNS TABLE (classid oid, objid oid, rank integer, statement text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH nsp AS MATERIALIZED (
		SELECT * FROM jsonb_to_recordset(snap -> 'namespace') AS n(oid oid, nspname name)
	), rel AS MATERIALIZED (
		SELECT * FROM tdgen.shadow_relations(snap, map)
	)
	-- collations
	SELECT 'pg_collation'::regclass::oid, c.oid, 0,
		   format('CREATE COLLATION %I.%I (provider = %s, %s%s)', map ->> n.nspname, c.collname,
				  CASE c.collprovider WHEN 'i' THEN 'icu' ELSE 'libc' END,
				  CASE WHEN c.collprovider = 'i' THEN format('locale = %L', coalesce(c.colliculocale, c.collcollate))
					   ELSE format('lc_collate = %L, lc_ctype = %L', c.collcollate, c.collctype) END,
				  CASE WHEN NOT c.collisdeterministic THEN ', deterministic = false' ELSE '' END)
	FROM jsonb_to_recordset(snap -> 'collation') AS c(oid oid, collname name, collnamespace oid, collprovider "char",
													 collisdeterministic boolean, collcollate text, collctype text, colliculocale text)
	JOIN nsp AS n ON n.oid = c.collnamespace
	WHERE tdgen.reproduced(snap, n.nspname, 'pg_collation', c.oid)
	UNION ALL
	-- enums
	SELECT 'pg_type'::regclass, ty.oid, 1,
		   format('CREATE TYPE %I.%I AS ENUM (%s)', map ->> n.nspname, ty.typname,
				  (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
				   FROM jsonb_to_recordset(snap -> 'enum') AS e(enumtypid oid, enumsortorder float4, enumlabel name)
				   WHERE e.enumtypid = ty.oid))
	FROM jsonb_to_recordset(snap -> 'type') AS ty(oid oid, typname name, typnamespace oid, typtype "char")
	JOIN nsp AS n ON n.oid = ty.typnamespace
	WHERE ty.typtype = 'e' AND tdgen.reproduced(snap, n.nspname, 'pg_type', ty.oid)
	UNION ALL
	-- domains, with their defaults, NOT NULL and checks
	SELECT 'pg_type'::regclass, ty.oid, 2,
		   format('CREATE DOMAIN %I.%I AS %s%s%s%s', map ->> n.nspname, ty.typname,
				  tdgen.shadow_type(snap, ty.typbasetype, ty.typtypmod, map),
				  CASE WHEN ty.typdefault IS NOT NULL THEN ' DEFAULT ' || tdgen.retarget(ty.typdefault, map) ELSE '' END,
				  CASE WHEN ty.typnotnull THEN ' NOT NULL' ELSE '' END,
				  (SELECT coalesce(string_agg(format(' CONSTRAINT %I CHECK %s', k.conname, tdgen.retarget(k.clause, map)),
											  '' ORDER BY k.conname), '')
				   FROM jsonb_to_recordset(snap -> 'constraint') AS k(conname name, contype "char", contypid oid, clause text)
				   WHERE k.contypid = ty.oid AND k.contype = 'c'))
	FROM jsonb_to_recordset(snap -> 'type') AS ty(oid oid, typname name, typnamespace oid, typtype "char", typbasetype oid,
												  typtypmod int4, typnotnull boolean, typdefault text)
	JOIN nsp AS n ON n.oid = ty.typnamespace
	WHERE ty.typtype = 'd' AND tdgen.reproduced(snap, n.nspname, 'pg_type', ty.oid)
	  AND snap #> ARRAY['ext_member', ty.oid::text] IS NULL
	UNION ALL
	-- composite types
	SELECT 'pg_type'::regclass, ty.oid, 2,
		   format('CREATE TYPE %I.%I AS (%s)', map ->> n.nspname, ty.typname,
				  (SELECT string_agg(format('%I %s%s', a.attname, tdgen.shadow_type(snap, a.atttypid, a.atttypmod, map),
											coalesce(' COLLATE ' || tdgen.retarget(a."collation", map), '')), ', ' ORDER BY a.attnum)
				   FROM jsonb_to_recordset(snap #> ARRAY['attribute_by_rel', ty.typrelid::text])
						AS a(attname name, attnum int2, atttypid oid, atttypmod int4, "collation" text)))
	FROM jsonb_to_recordset(snap -> 'type') AS ty(oid oid, typname name, typnamespace oid, typtype "char", typrelid oid)
	JOIN nsp AS n ON n.oid = ty.typnamespace
	JOIN rel AS c ON c.oid = ty.typrelid AND c.relkind = 'c'
	WHERE ty.typtype = 'c' AND tdgen.reproduced(snap, n.nspname, 'pg_type', ty.oid)
	  AND snap #> ARRAY['ext_member', ty.oid::text] IS NULL
	UNION ALL
	-- functions and procedures; aggregates
	SELECT 'pg_proc'::regclass, p.oid, CASE WHEN p.prokind = 'a' THEN 4 ELSE 3 END,
		   CASE WHEN p.prokind = 'a'
				THEN tdgen.retarget(format('CREATE AGGREGATE %I.%I(%s) (SFUNC = %s, STYPE = %s%s%s%s%s%s%s%s%s%s%s)',
										   n.nspname, p.proname, p.aggregate ->> 'arguments', p.aggregate ->> 'sfunc', p.aggregate ->> 'stype',
										   CASE WHEN (p.aggregate ->> 'sspace')::int > 0 THEN ', SSPACE = ' || (p.aggregate ->> 'sspace') ELSE '' END,
										   ', FINALFUNC = ' || (p.aggregate ->> 'finalfunc'),
										   CASE WHEN (p.aggregate ->> 'finalfunc_extra')::boolean THEN ', FINALFUNC_EXTRA' ELSE '' END,
										   ', COMBINEFUNC = ' || (p.aggregate ->> 'combinefunc'),
										   ', SERIALFUNC = ' || (p.aggregate ->> 'serialfunc'),
										   ', DESERIALFUNC = ' || (p.aggregate ->> 'deserialfunc'),
										   ', INITCOND = ' || quote_literal(p.aggregate ->> 'initcond'),
										   ', SORTOP = ' || (p.aggregate ->> 'sortop'),
										   CASE p.aggregate ->> 'parallel' WHEN 's' THEN ', PARALLEL = SAFE'
																		   WHEN 'r' THEN ', PARALLEL = RESTRICTED' ELSE '' END,
										   CASE WHEN p.aggregate ->> 'kind' = 'h' THEN ', HYPOTHETICAL' ELSE '' END), map)
				ELSE tdgen.retarget_function(p.definition, map) END
	FROM jsonb_to_recordset(snap -> 'proc') AS p(oid oid, proname name, pronamespace oid, prokind "char", definition text,
												 aggregate jsonb)
	JOIN nsp AS n ON n.oid = p.pronamespace
	WHERE tdgen.reproduced(snap, n.nspname, 'pg_proc', p.oid)
	UNION ALL
	-- operators
	SELECT 'pg_operator'::regclass, o.oid, 5,
		   tdgen.retarget(format('CREATE OPERATOR %I.%s (FUNCTION = %s%s%s%s%s%s%s%s%s)', n.nspname, o.oprname,
								 regexp_replace(o.function, '\(.*$', ''),
								 ', LEFTARG = ' || o.leftarg, ', RIGHTARG = ' || o.rightarg,
								 ', COMMUTATOR = ' || tdgen.operator_name(o.commutator),
								 ', NEGATOR = ' || tdgen.operator_name(o.negator),
								 ', RESTRICT = ' || o.restrict, ', JOIN = ' || o."join",
								 CASE WHEN o.hashes THEN ', HASHES' ELSE '' END, CASE WHEN o.merges THEN ', MERGES' ELSE '' END), map)
	FROM jsonb_to_recordset(snap -> 'operator') AS o(oid oid, oprname name, oprnamespace oid, leftarg text, rightarg text,
													 function text, commutator text, negator text, restrict text, "join" text,
													 hashes boolean, merges boolean)
	JOIN nsp AS n ON n.oid = o.oprnamespace
	WHERE tdgen.reproduced(snap, n.nspname, 'pg_operator', o.oid)
	UNION ALL
	-- sequences, but those of identity columns, which the columns create
	SELECT 'pg_class'::regclass, c.oid, 6,
		   format('CREATE SEQUENCE %s AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s',
				  c.shadow_table, format_type(q.seqtypid, NULL), q.seqincrement, q.seqmin, q.seqmax,
				  q.seqstart, q.seqcache, CASE WHEN q.seqcycle THEN ' CYCLE' ELSE '' END)
	FROM rel AS c
	JOIN jsonb_to_recordset(snap -> 'sequence') AS q(seqrelid oid, seqtypid oid, seqstart int8, seqincrement int8,
													 seqmax int8, seqmin int8, seqcache int8, seqcycle boolean)
	  ON q.seqrelid = c.oid
	WHERE c.relkind = 'S' AND c.identity_of IS NULL
	UNION ALL
	-- tables, parents before their partitions
	SELECT 'pg_class'::regclass, c.oid, 7,
		   CASE WHEN c.parent_oid IS NULL
				THEN format('CREATE TABLE %s (%s)%s', c.shadow_table,
							tdgen.shadow_columns(snap, c.oid, c.nspname, c.relname, map), tdgen.shadow_partition_by(snap, c.oid, map))
				ELSE format('CREATE TABLE %s PARTITION OF %s %s%s', c.shadow_table, c.parent_shadow_table,
							c.relpartbound, tdgen.shadow_partition_by(snap, c.oid, map)) END
	FROM rel AS c
	WHERE c.relkind IN ('r', 'p') AND NOT (c.qualified = ANY (skipped)) AND NOT (coalesce(c.parent_qualified, '') = ANY (skipped))
	UNION ALL
	-- views and materialized views
	SELECT 'pg_class'::regclass, c.oid, CASE c.relkind WHEN 'v' THEN 8 ELSE 9 END,
		   format('CREATE %s %s%s AS %s%s', CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END, c.shadow_table,
				  coalesce(' WITH (' || array_to_string(c.reloptions, ', ') || ')', ''),
				  tdgen.retarget(rtrim(v.definition, '; '), map),
				  CASE c.relkind WHEN 'm' THEN ' WITH NO DATA' ELSE '' END)
	FROM rel AS c
	JOIN jsonb_to_recordset(snap -> 'view') AS v(oid oid, definition text) ON v.oid = c.oid;
END;

-- What the 'finish' phase adds once the tables are loaded and keyed, in
-- order: materialized views filled (each after those it reads) with their
-- indexes; CLUSTER ON; statistics objects; triggers (when triggers is
-- true), enabled as production has them; row-level security policies and
-- switches; comments.  A policy's roles that the staging database lacks
-- are replaced by the environment's owner (the current user when these
-- run): a policy never reaches more roles than production's does.
CREATE FUNCTION tdgen.shadow_finish(snap jsonb, map jsonb, skipped text[], triggers boolean)
RETURNS TABLE (statement text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH rel AS MATERIALIZED (
		SELECT * FROM tdgen.shadow_relations(snap, map) AS c
		WHERE NOT (c.qualified = ANY (skipped)) AND NOT (coalesce(c.parent_qualified, '') = ANY (skipped))
	), idx AS MATERIALIZED (
		SELECT x.*, t.oid AS table_oid, t.relkind, t.shadow_table
		FROM jsonb_to_recordset(snap -> 'indexes') AS x(schemaname name, tablename name, indexname name, indexdef text,
														 indisclustered boolean, comment text)
		JOIN rel AS t ON t.nspname = x.schemaname AND t.relname = x.tablename
	), levels AS MATERIALIZED (
		SELECT * FROM tdgen.create_levels(snap)
	), named AS MATERIALIZED (
		-- the name, as COMMENT ON takes it, of every object that has a comment
		SELECT 1 AS step, CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END
						  || ' ' || r.shadow_table AS target, c.comment
		FROM jsonb_to_recordset(snap -> 'class') AS c(oid oid, relkind "char", comment text)
		JOIN rel AS r ON r.oid = c.oid
		WHERE c.comment IS NOT NULL AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
		UNION ALL
		SELECT 2, format('COLUMN %s.%I', r.shadow_table, a.attname), a.comment
		FROM jsonb_to_recordset(snap -> 'attribute') AS a(attrelid oid, attname name, comment text)
		JOIN rel AS r ON r.oid = a.attrelid AND r.relkind IN ('r', 'p', 'v', 'm')
		WHERE a.comment IS NOT NULL
		UNION ALL
		SELECT 3, format('INDEX %I.%I', map ->> i.schemaname, i.indexname), i.comment
		FROM idx AS i WHERE i.comment IS NOT NULL
		  AND NOT EXISTS (SELECT FROM jsonb_to_recordset(snap -> 'constraint') AS k(conname name, conrelid oid)
						  WHERE k.conrelid = i.table_oid AND k.conname = i.indexname)
		UNION ALL
		SELECT 4, format('CONSTRAINT %I ON %s', k.conname, r.shadow_table), k.comment
		FROM jsonb_to_recordset(snap -> 'constraint') AS k(conname name, conrelid oid, conislocal boolean, comment text)
		JOIN rel AS r ON r.oid = k.conrelid
		WHERE k.comment IS NOT NULL AND k.conislocal
		UNION ALL
		SELECT 5, format('%s %I.%I(%s)', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
						 map ->> n.nspname, p.proname, p.identity), p.comment
		FROM jsonb_to_recordset(snap -> 'proc') AS p(oid oid, proname name, pronamespace oid, prokind "char", identity text, comment text)
		JOIN jsonb_to_recordset(snap -> 'namespace') AS n(oid oid, nspname name) ON n.oid = p.pronamespace
		WHERE p.comment IS NOT NULL AND tdgen.reproduced(snap, n.nspname, 'pg_proc', p.oid)
		UNION ALL
		SELECT 6, format('%s %I.%I', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, map ->> n.nspname, t.typname), t.comment
		FROM jsonb_to_recordset(snap -> 'type') AS t(oid oid, typname name, typnamespace oid, typtype "char", comment text)
		JOIN jsonb_to_recordset(snap -> 'namespace') AS n(oid oid, nspname name) ON n.oid = t.typnamespace
		WHERE t.comment IS NOT NULL AND t.typtype IN ('e', 'd', 'c') AND tdgen.reproduced(snap, n.nspname, 'pg_type', t.oid)
		UNION ALL
		SELECT 7, format('TRIGGER %I ON %s', g.tgname, r.shadow_table), g.comment
		FROM jsonb_to_recordset(snap -> 'trigger') AS g(tgrelid oid, tgname name, comment text)
		JOIN rel AS r ON r.oid = g.tgrelid
		WHERE g.comment IS NOT NULL AND triggers
		UNION ALL
		SELECT 8, format('POLICY %I ON %s', y.polname, r.shadow_table), y.comment
		FROM jsonb_to_recordset(snap -> 'policy') AS y(polrelid oid, polname name, comment text)
		JOIN rel AS r ON r.oid = y.polrelid
		WHERE y.comment IS NOT NULL
	)
	SELECT x.statement FROM (
		-- materialized views, filled, each after those it reads
		SELECT 1 AS step, coalesce(l.level, 0) AS n, c.oid::bigint AS k, 'REFRESH MATERIALIZED VIEW ' || c.shadow_table AS statement
		FROM rel AS c LEFT JOIN levels AS l ON l.classid = 'pg_class'::regclass AND l.objid = c.oid
		WHERE c.relkind = 'm'
		UNION ALL
		SELECT 2, 0, i.table_oid, tdgen.retarget(i.indexdef, map)
		FROM idx AS i WHERE i.relkind = 'm'
		UNION ALL
		SELECT 3, 0, i.table_oid, format('ALTER %s %s CLUSTER ON %I', CASE i.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
										 i.shadow_table, i.indexname)
		FROM idx AS i WHERE i.indisclustered
		UNION ALL
		SELECT 4, 0, x.oid, tdgen.retarget(x.definition, map)
		FROM jsonb_to_recordset(snap -> 'statistic') AS x(oid oid, stxrelid oid, definition text)
		JOIN rel AS r ON r.oid = x.stxrelid
		UNION ALL
		SELECT 5, 0, g.oid, tdgen.retarget(g.definition, map)
			|| CASE g.tgenabled WHEN 'D' THEN format('; ALTER TABLE %s DISABLE TRIGGER %I', r.shadow_table, g.tgname)
								WHEN 'R' THEN format('; ALTER TABLE %s ENABLE REPLICA TRIGGER %I', r.shadow_table, g.tgname)
								WHEN 'A' THEN format('; ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', r.shadow_table, g.tgname)
								ELSE '' END
		FROM jsonb_to_recordset(snap -> 'trigger') AS g(oid oid, tgrelid oid, tgname name, tgenabled "char", definition text)
		JOIN rel AS r ON r.oid = g.tgrelid
		WHERE triggers
		UNION ALL
		SELECT 6, 0, y.oid,
			   format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', y.polname, r.shadow_table,
					  CASE WHEN y.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
					  CASE y.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
					  (SELECT string_agg(DISTINCT CASE WHEN x.role = 'public' THEN 'PUBLIC'
													   WHEN to_regrole(x.role) IS NOT NULL THEN x.role
													   ELSE 'CURRENT_USER' END, ', ')
					   FROM jsonb_array_elements_text(y.roles) AS x(role)),
					  ' USING (' || tdgen.retarget(y.qual, map) || ')', ' WITH CHECK (' || tdgen.retarget(y.with_check, map) || ')')
		FROM jsonb_to_recordset(snap -> 'policy') AS y(oid oid, polrelid oid, polname name, polcmd "char", polpermissive boolean,
													   roles jsonb, qual text, with_check text)
		JOIN rel AS r ON r.oid = y.polrelid
		UNION ALL
		SELECT 7, 0, c.oid, format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', r.shadow_table)
			|| CASE WHEN c.relforcerowsecurity THEN format('; ALTER TABLE %s FORCE ROW LEVEL SECURITY', r.shadow_table) ELSE '' END
		FROM jsonb_to_recordset(snap -> 'class') AS c(oid oid, relrowsecurity boolean, relforcerowsecurity boolean)
		JOIN rel AS r ON r.oid = c.oid
		WHERE c.relrowsecurity
		UNION ALL
		SELECT 8, m.step, 0, format('COMMENT ON %s IS %L', m.target, m.comment)
		FROM named AS m
	) AS x
	ORDER BY x.step, x.n, x.k, x.statement;
END;

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
CREATE FUNCTION tdgen.shadow_constraints(snap jsonb, map jsonb, skipped text[], kind text)
RETURNS TABLE (table_oid oid, referenced_oid oid, statement text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	SELECT c.table_oid, c.confrelid, CASE WHEN c.contype = 'f'
				THEN format('SELECT tdgen.add_foreign_key(%L, %L, %L, %L, %L)', c.shadow_table, c.referenced_table, c.statement,
							tdgen.attribute_names(snap, c.table_oid, c.conkey), tdgen.attribute_names(snap, c.confrelid, c.confkey))
				WHEN c.contype IN ('p', 'u')
				THEN format('SELECT tdgen.add_key(%L, %L, %L)', c.shadow_table, c.statement, tdgen.attribute_names(snap, c.table_oid, c.conkey))
				ELSE c.statement END
	FROM (
	SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s%s%s', t.shadow_table, k.conname,
		CASE k.contype
			-- keys and exclusion constraints as production deparses them
			-- (NULLS NOT DISTINCT, INCLUDE, WITH, DEFERRABLE...)
			WHEN 'p' THEN tdgen.retarget(k.definition, map)
			WHEN 'u' THEN tdgen.retarget(k.definition, map)
			WHEN 'x' THEN tdgen.retarget(k.definition, map)
			WHEN 'c' THEN 'CHECK ' || tdgen.retarget(k.clause, map)
			ELSE format('FOREIGN KEY (%s) REFERENCES %s (%s)%s ON UPDATE %s ON DELETE %s',
						tdgen.column_names(snap, k.conrelid, k.conkey), rt.shadow_table,
						tdgen.column_names(snap, k.confrelid, k.confkey),
						CASE k.confmatchtype WHEN 'f' THEN ' MATCH FULL' ELSE '' END,
						tdgen.fk_action(k.confupdtype), tdgen.fk_action(k.confdeltype)) END,
		CASE WHEN k.condeferrable AND k.contype IN ('f', 'c')
			 THEN ' DEFERRABLE' || CASE WHEN k.condeferred THEN ' INITIALLY DEFERRED' ELSE '' END
			 ELSE '' END,
		-- as production has it, but on a partitioned table, where a foreign
		-- key cannot be NOT VALID
		CASE WHEN NOT coalesce(k.convalidated, true) AND (k.contype = 'c' OR (k.contype = 'f' AND t.relkind <> 'p'))
			 THEN ' NOT VALID' ELSE '' END) AS statement,
		k.contype, t.shadow_table, rt.shadow_table AS referenced_table, k.confrelid, k.conname, t.depth, t.oid AS table_oid,
		k.conkey, k.confkey
	FROM jsonb_to_recordset(snap -> 'constraint') AS k(oid oid, conname name, contype "char", conrelid oid, conkey int2[],
													   confrelid oid, confkey int2[], confupdtype "char", confdeltype "char",
													   confmatchtype "char", condeferrable boolean, condeferred boolean,
													   conislocal boolean, convalidated boolean, clause text, definition text)
	JOIN tdgen.shadow_relations(snap, map) AS t ON t.oid = k.conrelid AND t.relkind IN ('r', 'p')
	LEFT JOIN tdgen.shadow_relations(snap, map) AS rt ON rt.oid = k.confrelid
	WHERE k.conislocal AND NOT (t.qualified = ANY (skipped))
	  AND CASE kind WHEN 'foreign keys' THEN k.contype = 'f' AND rt.oid IS NOT NULL AND NOT (rt.qualified = ANY (skipped))
					WHEN 'checks' THEN k.contype = 'c' AND coalesce(k.convalidated, true)
					ELSE k.contype IN ('p', 'u', 'x') OR (k.contype = 'c' AND NOT coalesce(k.convalidated, true)) END
	) AS c
	ORDER BY CASE c.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'x' THEN 2 WHEN 'c' THEN 3 ELSE 4 END, c.depth, c.table_oid, c.conname;
END;

-- A table, or a partitioned table's partitions at every level, that hold
-- rows (looked up by OID: a scan of pg_class per foreign key would grow
-- with the square of the tables; pg_partition_tree has no row for a
-- table that is not partitioned).
CREATE FUNCTION tdgen.leaf_tables(tbl regclass)
RETURNS SETOF pg_class
LANGUAGE sql STABLE
BEGIN ATOMIC
	SELECT c.* FROM pg_class AS c
	WHERE c.oid = ANY (ARRAY(SELECT p.relid FROM pg_partition_tree(tbl) AS p) || tbl::oid) AND c.relkind = 'r';
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

-- The condition that a row of a table (aliased tdgen_c) references no row
-- of parent: its columns all set (and "when" holding, for a relation)
-- and no row of parent with parent_columns equal to them.
CREATE FUNCTION tdgen.dangling(columns name[], parent text, parent_columns name[], "when" text DEFAULT NULL)
RETURNS text
LANGUAGE sql IMMUTABLE
RETURN format('%s AND %s AND NOT EXISTS (SELECT FROM %s AS tdgen_p WHERE %s)', coalesce('(' || "when" || E'\n)', 'true'),
			  (SELECT string_agg(format('tdgen_c.%I IS NOT NULL', x), ' AND ') FROM unnest(columns) AS x), parent,
			  (SELECT string_agg(format('tdgen_p.%I = tdgen_c.%I', r, x), ' AND ')
			   FROM unnest(columns, parent_columns) AS k(x, r)));

-- Add a foreign key to a loaded shadow table, which checks every row, with
-- the planner settings tdgen.foreign_key_settings gives; the caller's are
-- back after it.  When rows break it, the error says how many, never which
-- (PostgreSQL's own quotes the first one's key): columns reference
-- referenced_columns.
CREATE FUNCTION tdgen.add_foreign_key(tbl regclass, referenced regclass, statement text, columns name[],
									  referenced_columns name[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s record;
	saved jsonb := '{}';
	broken bigint;
	constraint_name text;
BEGIN
	FOR s IN SELECT * FROM tdgen.foreign_key_settings(tbl, referenced) LOOP
		saved := saved || jsonb_build_object(s.name, current_setting(s.name));
		PERFORM set_config(s.name, s.setting, true);
	END LOOP;
	BEGIN
		EXECUTE statement;
	EXCEPTION WHEN foreign_key_violation THEN
		GET STACKED DIAGNOSTICS constraint_name = CONSTRAINT_NAME;
		EXECUTE format('SELECT count(*) FROM %s AS tdgen_c WHERE %s', tbl, tdgen.dangling(columns, referenced::text, referenced_columns))
		INTO broken;
		RAISE EXCEPTION 'foreign key % of table % does not hold in the masked rows', quote_ident(constraint_name), tbl
			USING ERRCODE = 'foreign_key_violation',
				  DETAIL = format('%s row(s) of %s reference no row of %s (their keys are withheld: they are production''s).',
								  broken, tbl, referenced),
				  HINT = 'Mask a key and the columns that reference it with the same rule (tdgen_check reports rules that differ), or look on production for rows that break the key behind a NOT VALID constraint.';
	END;
	PERFORM set_config(x.key, x.value, true) FROM jsonb_each_text(saved) AS x;
END
$$;

-- Add a primary key or unique constraint to a loaded shadow table.  When
-- rows break it, the error says how many key values repeat, never which
-- (PostgreSQL's own quotes one): columns are the key's.
CREATE FUNCTION tdgen.add_key(tbl regclass, statement text, columns name[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	repeated bigint;
	constraint_name text;
BEGIN
	EXECUTE statement;
EXCEPTION WHEN unique_violation THEN
	GET STACKED DIAGNOSTICS constraint_name = CONSTRAINT_NAME;
	EXECUTE format('SELECT count(*) FROM (SELECT FROM %s WHERE %s GROUP BY %s HAVING count(*) > 1) AS x', tbl,
				   (SELECT string_agg(format('%I IS NOT NULL', c), ' AND ') FROM unnest(columns) AS c),
				   (SELECT string_agg(quote_ident(c), ', ') FROM unnest(columns) AS c))
	INTO repeated;
	RAISE EXCEPTION 'key % of table % does not hold in the masked rows', quote_ident(coalesce(nullif(constraint_name, ''), '?')), tbl
		USING ERRCODE = 'unique_violation',
			  DETAIL = format('%s value(s) of (%s) appear more than once (the values are withheld: they are production''s).',
							  repeated, array_to_string(columns, ', ')),
			  HINT = 'Mask a key column with an injective rule (tdgen_check reports rules that are not), or see whether production holds the duplicates behind a constraint it added later.';
END
$$;

-- The secondary indexes of the shadow schema's tables (not those of
-- constraints, not a partition's copies of its parent's), as CREATE INDEX
-- statements; a partitioned table's index is made whole, its partitions
-- get theirs.
CREATE FUNCTION tdgen.shadow_indexes(snap jsonb, map jsonb, skipped text[])
RETURNS TABLE (table_oid oid, statement text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH rel AS MATERIALIZED (
		SELECT * FROM tdgen.shadow_relations(snap, map)
	), key AS MATERIALIZED (
		-- the indexes of primary keys, unique and exclusion constraints,
		-- made with them
		SELECT k.conrelid, k.conname
		FROM jsonb_to_recordset(snap -> 'constraint') AS k(conname name, conrelid oid, contype "char")
		WHERE k.contype IN ('p', 'u', 'x')
	), inherited AS MATERIALIZED (
		SELECT h.inhrelid FROM jsonb_to_recordset(snap -> 'inherits') AS h(inhrelid oid)
	), on_table AS MATERIALIZED (
		-- each index with its table (apart, so that the index's own
		-- relation is not joined to the tables by schema alone)
		SELECT x.*, t.oid AS table_oid, t.depth
		FROM jsonb_to_recordset(snap -> 'indexes') AS x(schemaname name, tablename name, indexname name, indexdef text)
		JOIN rel AS t ON t.nspname = x.schemaname AND t.relname = x.tablename
		WHERE NOT (t.qualified = ANY (skipped))
	)
	SELECT x.table_oid, regexp_replace(tdgen.retarget(x.indexdef, map), ' ON ONLY ', ' ON ')
	FROM on_table AS x
	JOIN rel AS i ON i.nspname = x.schemaname AND i.relname = x.indexname AND i.relkind IN ('i', 'I')
	WHERE NOT EXISTS (SELECT FROM key AS k WHERE k.conrelid = x.table_oid AND k.conname = x.indexname)
	  AND NOT EXISTS (SELECT FROM inherited AS h WHERE h.inhrelid = i.oid)
	ORDER BY x.depth, x.table_oid, x.indexname;
END;

-- Each table of the shadow schemas (partitions included, skipped tables
-- not) with the table at the top of its partition tree, which a job on
-- the tree names: its shadow name, and its production name.
CREATE FUNCTION tdgen.shadow_roots(snap jsonb, map jsonb, skipped text[])
RETURNS TABLE (oid oid, root_oid oid, root_table text, root_qualified text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH RECURSIVE rel AS MATERIALIZED (
		SELECT * FROM tdgen.shadow_relations(snap, map)
	), root AS (
		SELECT r.oid, r.oid AS root_oid, r.shadow_table AS root_table, r.qualified AS root_qualified
		FROM rel AS r
		WHERE r.relkind IN ('r', 'p') AND r.parent_oid IS NULL AND NOT (r.qualified = ANY (skipped))
		UNION ALL
		SELECT r.oid, t.root_oid, t.root_table, t.root_qualified FROM rel AS r JOIN root AS t ON r.parent_oid = t.oid
	)
	SELECT * FROM root;
END;

-- What each loaded table needs before the foreign keys, as one job per
-- table (its partitions' included): primary key, unique and NOT VALID
-- check constraints, indexes, then ANALYZE (the foreign keys' checks are
-- planned with its statistics, and staging's queries have them from the
-- first).
-- Jobs of different tables take no lock in common and run side by side.
CREATE FUNCTION tdgen.shadow_table_work(snap jsonb, map jsonb, skipped text[])
RETURNS TABLE (shadow_table text, qualified text, statements text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH root AS MATERIALIZED (
		SELECT * FROM tdgen.shadow_roots(snap, map, skipped)
	), work AS (
		SELECT c.table_oid, c.statement, 1 AS step, row_number() OVER () AS n
		FROM tdgen.shadow_constraints(snap, map, skipped, 'keys') AS c
		UNION ALL
		SELECT i.table_oid, i.statement, 2, row_number() OVER ()
		FROM tdgen.shadow_indexes(snap, map, skipped) AS i
		UNION ALL
		SELECT t.root_oid, 'ANALYZE ' || t.root_table, 3, 1
		FROM root AS t WHERE t.oid = t.root_oid
	)
	SELECT t.root_table, t.root_qualified, string_agg(w.statement, '; ' ORDER BY w.step, w.n)
	FROM work AS w JOIN root AS t ON t.oid = w.table_oid
	GROUP BY t.root_oid, t.root_table, t.root_qualified
	ORDER BY t.root_oid;
END;

-- The foreign keys, one statement each, with the tables (at the top of
-- their partition trees) each one is on and references.  A key is added
-- once both tables have their keys and indexes.  Adding it takes a SHARE
-- ROW EXCLUSIVE lock on both, so two keys that share a table are added
-- one after the other.
CREATE FUNCTION tdgen.shadow_foreign_keys(snap jsonb, map jsonb, skipped text[])
RETURNS TABLE (shadow_table text, qualified text, referenced text, statement text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH root AS MATERIALIZED (
		SELECT * FROM tdgen.shadow_roots(snap, map, skipped)
	)
	SELECT t.root_table, t.root_qualified, r.root_table, c.statement
	FROM tdgen.shadow_constraints(snap, map, skipped, 'foreign keys') WITH ORDINALITY AS c
	JOIN root AS t ON t.oid = c.table_oid
	JOIN root AS r ON r.oid = c.referenced_oid
	ORDER BY c.ordinality;
END;


REVOKE ALL ON FUNCTION tdgen.add_key(regclass, text, name[]),
	tdgen.add_foreign_key(regclass, regclass, text, name[], name[]) FROM PUBLIC;

COMMENT ON FUNCTION tdgen.shadow_table(jsonb, name, name) IS
	'a production relation''s qualified name in the shadow schemas';
COMMENT ON FUNCTION tdgen.extension_names(jsonb) IS
	'the names of extensions'' objects production''s objects use, with their names in the staging database';
COMMENT ON FUNCTION tdgen.create_levels(jsonb) IS
	'the level of each production object in the order objects are made: one more than the highest of what it uses';
COMMENT ON FUNCTION tdgen.retarget_function(text, jsonb) IS
	'a function production deparsed, with schema names pointed where a map says, in its text and its search_path';
COMMENT ON FUNCTION tdgen.shadow_objects(jsonb, jsonb, text[]) IS
	'the CREATE statements of the phase create: collations, types, functions, aggregates, operators, sequences, tables, views, materialized views';
COMMENT ON FUNCTION tdgen.operator_name(text) IS
	'an operator named by regoperator text, as OPERATOR(schema.op)';
COMMENT ON FUNCTION tdgen.shadow_finish(jsonb, jsonb, text[], boolean) IS
	'the statements of the phase finish after sequences: materialized views filled and indexed, CLUSTER ON, statistics objects, triggers, policies and row-level security, comments';
COMMENT ON FUNCTION tdgen.retarget(text, jsonb) IS
	'an expression production deparsed, with the source''s schema names pointed at the shadow schema';
COMMENT ON FUNCTION tdgen.shadow_type(jsonb, oid, integer, jsonb) IS
	'a production type as the shadow schema names it';
COMMENT ON FUNCTION tdgen.shadow_ddl(jsonb, jsonb, text, text[], boolean) IS
	'the statements that build the shadow schema: phase create (types, sequences, tables, partitions, checks) or finish (sequence values)';
COMMENT ON FUNCTION tdgen.shadow_constraints(jsonb, jsonb, text[], text) IS
	'ALTER TABLE statements adding the shadow tables'' constraints of one kind (checks the loader enforces; keys and NOT VALID checks; foreign keys), with the table each is on and references';
COMMENT ON FUNCTION tdgen.shadow_indexes(jsonb, jsonb, text[]) IS
	'CREATE INDEX statements for the shadow tables'' secondary indexes, with the table each is on';
COMMENT ON FUNCTION tdgen.shadow_roots(jsonb, jsonb, text[]) IS
	'each shadow table and partition with the table at the top of its partition tree';
COMMENT ON FUNCTION tdgen.shadow_table_work(jsonb, jsonb, text[]) IS
	'per loaded table, the statements it needs before the foreign keys: keys, NOT VALID checks, indexes, ANALYZE';
COMMENT ON FUNCTION tdgen.shadow_foreign_keys(jsonb, jsonb, text[]) IS
	'per foreign key, the statement adding it, with the tables it is on and references';
COMMENT ON FUNCTION tdgen.dangling(name[], text, name[], text) IS
	'the SQL condition that a row (aliased tdgen_c) references no row of a parent: its key columns set and no parent row with equal values';
COMMENT ON FUNCTION tdgen.add_foreign_key(regclass, regclass, text, name[], name[]) IS
	'runs an ALTER TABLE adding a foreign key to a loaded shadow table, its check planned with tdgen.foreign_key_settings; when rows break it, says how many, never which';
COMMENT ON FUNCTION tdgen.add_key(regclass, text, name[]) IS
	'runs an ALTER TABLE adding a primary key or unique constraint to a loaded shadow table; when rows break it, says how many values repeat, never which';
COMMENT ON FUNCTION tdgen.leaf_tables(regclass) IS
	'the table itself, or a partitioned table''s partitions that hold rows (at every level)';
COMMENT ON FUNCTION tdgen.foreign_key_settings(regclass, regclass) IS
	'the planner settings for checking a foreign key from a loaded table to another: no hash join past 100,000 referenced rows, no nested loop either when the checked table has a tenth as many rows or more';
COMMENT ON FUNCTION tdgen.shadow_relations(jsonb, jsonb) IS
	'tables, partitions, sequences and indexes of the source''s schemas, with parents, bounds, depth and identity owner';
COMMENT ON FUNCTION tdgen.shadow_columns(jsonb, oid, name, name, jsonb) IS
	'the column list of a table: types, identity, generated expressions, defaults, NOT NULL';
COMMENT ON FUNCTION tdgen.shadow_partition_by(jsonb, oid, jsonb) IS
	'the PARTITION BY clause of a partitioned table, or an empty string';
COMMENT ON FUNCTION tdgen.attribute_names(jsonb, oid, int2[]) IS
	'column names of attnums, in their order';
COMMENT ON FUNCTION tdgen.column_names(jsonb, oid, int2[]) IS
	'quoted column names of attnums, comma-separated';
COMMENT ON FUNCTION tdgen.fk_action("char") IS
	'ON UPDATE/ON DELETE action of a pg_constraint code';
