-- ===========================================================================
-- schema/gate.sql
--     The fail-closed gate: tdgen_check lists every problem that must stop
--     a refresh, tdgen_gate refuses (SQLSTATE TG001) while there is one,
--     and both raise alerts.
-- ===========================================================================

-- Record an alert and send it as NOTIFY tdgen_alert (JSON; the column list
-- is cut to fit NOTIFY's 8000-byte payload).
CREATE FUNCTION tdgen.raise_alert(kind text, source text, environment text, message text, detail jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	a tdgen.alert;
	payload text;
BEGIN
	INSERT INTO tdgen.alert AS al (kind, source, environment, message, detail)
	VALUES (kind, source, environment, message, coalesce(detail, '{}'))
	RETURNING * INTO a;
	payload := jsonb_build_object('id', a.id, 'kind', a.kind, 'source', a.source, 'environment', a.environment,
								  'raised_at', a.raised_at, 'message', a.message, 'detail', a.detail)::text;
	IF octet_length(payload) > 7900 THEN
		payload := jsonb_build_object('id', a.id, 'kind', a.kind, 'source', a.source, 'environment', a.environment,
									  'raised_at', a.raised_at, 'message', left(a.message, 2000),
									  'detail_truncated', true)::text;
	END IF;
	PERFORM pg_notify('tdgen_alert', payload);
	RETURN a.id;
END
$$;

-- The mode of a production table in an environment: its own row, else the
-- general one, else copy.
CREATE FUNCTION tdgen.table_mode_of(environment text, schema_name name, table_name name)
RETURNS text
LANGUAGE sql STABLE
RETURN coalesce((SELECT m.mode FROM tdgen.table_mode AS m
				 WHERE m.schema_name = table_mode_of.schema_name AND m.table_name = table_mode_of.table_name
				   AND (m.environment IS NULL OR m.environment = table_mode_of.environment)
				 ORDER BY m.environment NULLS LAST LIMIT 1), 'copy');

-- Every production column (cols: tdgen.remote_columns as jsonb; fks:
-- tdgen.remote_foreign_keys) with its table's mode and the rule that holds
-- for it in the environment: its own (the environment's over the general
-- one), else that of the column it references by foreign key (ref), or
-- through foreign keys without rules of their own, of the first with one.
-- Never inlined, like tdgen.shadow_relations, so cols is not copied into
-- the caller's plan for each reference; no nested loops over its arrays,
-- which the planner guesses at 100 rows where a schema has thousands.
CREATE FUNCTION tdgen.effective_columns(environment text, cols jsonb, fks jsonb)
RETURNS TABLE (schema_name name, table_name name, column_name name, attnum int, type_name text, local_type text,
			   base_type regtype, type_class text, not_null boolean, generated boolean, in_unique boolean,
			   mode text, action text, transform text, params jsonb, own boolean, reviewed_type text,
			   ref text, ref_action text, ref_transform text, ref_params jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH col AS (
		SELECT * FROM jsonb_to_recordset(cols) AS x(schema_name name, table_name name, column_name name, attnum int,
													type_name text, local_type text, base_type regtype, type_class text,
													not_null boolean, generated boolean, in_unique boolean)
	), fk AS (
		SELECT * FROM jsonb_to_recordset(fks) AS x(schema_name name, table_name name, column_name name,
												   ref_schema name, ref_table name, ref_column name)
	), rule AS (
		SELECT DISTINCT ON (r.schema_name, r.table_name, r.column_name) r.*
		FROM tdgen.column_rule AS r
		WHERE r.environment IS NULL OR r.environment = effective_columns.environment
		ORDER BY r.schema_name, r.table_name, r.column_name, r.environment NULLS LAST
	), chain AS (
		-- through foreign keys that reference foreign keys without a rule
		-- of their own, down to the column with the rule
		WITH RECURSIVE link(schema_name, table_name, column_name, action, transform, params, ref) AS (
			SELECT f.schema_name, f.table_name, f.column_name, r.action, r.transform, r.params,
				   tdgen.qualified(f.ref_schema, f.ref_table, f.ref_column)
			FROM fk AS f
			JOIN rule AS r ON r.schema_name = f.ref_schema AND r.table_name = f.ref_table AND r.column_name = f.ref_column
			UNION
			SELECT f.schema_name, f.table_name, f.column_name, l.action, l.transform, l.params, l.ref
			FROM fk AS f
			JOIN link AS l ON l.schema_name = f.ref_schema AND l.table_name = f.ref_table AND l.column_name = f.ref_column
			WHERE NOT EXISTS (SELECT FROM rule AS r WHERE r.schema_name = f.ref_schema AND r.table_name = f.ref_table
														AND r.column_name = f.ref_column)
		)
		SELECT * FROM link
	), inherited AS (
		SELECT DISTINCT ON (c.schema_name, c.table_name, c.column_name) c.*
		FROM chain AS c
		ORDER BY c.schema_name, c.table_name, c.column_name, c.ref
	)
	SELECT c.schema_name, c.table_name, c.column_name, c.attnum, c.type_name, c.local_type, c.base_type, c.type_class,
		   c.not_null, c.generated, c.in_unique,
		   tdgen.table_mode_of(effective_columns.environment, c.schema_name, c.table_name),
		   coalesce(r.action, i.action), coalesce(r.transform, i.transform),
		   CASE WHEN r.action IS NOT NULL THEN r.params ELSE i.params END,
		   r.action IS NOT NULL, r.column_type, i.ref, i.action, i.transform, i.params
	FROM col AS c
	LEFT JOIN rule AS r ON r.schema_name = c.schema_name AND r.table_name = c.table_name AND r.column_name = c.column_name
	LEFT JOIN inherited AS i ON i.schema_name = c.schema_name AND i.table_name = c.table_name AND i.column_name = c.column_name;
END;

-- What a refresh of production's schema needs in staging and cannot
-- make, as problems of tdgen.check_problems, from production's catalog
-- (snap: tdgen.remote_schema).  The objects: the source's tables (skipped ones
-- aside) with their columns, constraints, defaults, indexes and triggers;
-- its views; and every function, type, operator and collation a refresh
-- makes (those of the source's schemas and those they use from others).
--   untrusted_code     a function a refresh would make that it cannot:
--                      written in C (or internal) outside an extension, or
--                      in a language the staging database lacks or lets
--                      only superusers use
--   outside_relation   an object that uses a table or view of a schema the
--                      source does not read (a refresh copies no rows of
--                      it, and would never read staging's of that name)
--   missing_extension  an extension whose types, functions, operators,
--                      operator classes or collations they use and that
--                      the staging database does not have (name and
--                      version), found before any work
--   extension_access   such an extension staging has, in a schema the
--                      environment's owner may not use
-- One row per table and thing used, never a value.
CREATE FUNCTION tdgen.code_problems(environment text, snap jsonb)
RETURNS TABLE (problem text, table_name text, detail text, suggestion text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_nestloop = off AS $$
DECLARE
	s tdgen.source := tdgen.resolve_source((tdgen.resolve_environment(environment)).source);
BEGIN
	RETURN QUERY
	WITH nsp AS MATERIALIZED (
		SELECT * FROM jsonb_to_recordset(snap -> 'namespace') AS x(oid oid, nspname name)
	), rel AS MATERIALIZED (
		SELECT c.oid, c.relkind, n.nspname, c.relname, tdgen.qualified(n.nspname, c.relname) AS qualified,
			   snap -> 'listed' ? n.nspname AS listed
		FROM jsonb_to_recordset(snap -> 'class') AS c(oid oid, relname name, relnamespace oid, relkind "char")
		JOIN nsp AS n ON n.oid = c.relnamespace
	), copied AS MATERIALIZED (
		-- the relations a refresh makes: tables not skipped, views
		SELECT r.* FROM rel AS r
		WHERE r.listed AND (r.relkind IN ('v', 'm') OR (r.relkind IN ('r', 'p') AND tdgen.table_mode_of(environment, r.nspname, r.relname) <> 'skip'))
	), made AS MATERIALIZED (
		-- every object a refresh makes, with the table it is part of
		SELECT 'pg_class'::regclass::oid AS classid, c.oid AS objid, c.oid AS table_oid FROM copied AS c
		UNION ALL
		SELECT k.classid, k.objid, NULL
		FROM (SELECT 'pg_proc'::regclass::oid AS classid, p.oid AS objid, p.pronamespace AS nsp
			  FROM jsonb_to_recordset(snap -> 'proc') AS p(oid oid, pronamespace oid)
			  UNION ALL
			  SELECT 'pg_type'::regclass, t.oid, t.typnamespace FROM jsonb_to_recordset(snap -> 'type') AS t(oid oid, typnamespace oid)
			  WHERE snap #> ARRAY['ext_member', t.oid::text] IS NULL
			  UNION ALL
			  SELECT 'pg_operator'::regclass, o.oid, o.oprnamespace FROM jsonb_to_recordset(snap -> 'operator') AS o(oid oid, oprnamespace oid)
			  UNION ALL
			  SELECT 'pg_collation'::regclass, o.oid, o.collnamespace FROM jsonb_to_recordset(snap -> 'collation') AS o(oid oid, collnamespace oid)
			 ) AS k
		JOIN nsp AS n ON n.oid = k.nsp
		WHERE tdgen.reproduced(snap, n.nspname, k.classid::regclass, k.objid)
	)
	-- functions that cannot be made
	SELECT 'untrusted_code', '',
		   format('function %s is written in %s, which %s', tdgen.qualified(n.nspname, p.proname), p.language,
				  CASE WHEN p.language IN ('c', 'internal') THEN 'a refresh cannot make outside an extension'
					   WHEN l.lanname IS NULL THEN 'the staging database does not have'
					   ELSE 'only superusers may use in the staging database' END),
		   CASE WHEN p.language IN ('c', 'internal')
				THEN format('-- make it part of an extension installed on both servers, or have a superuser trust its schema: SELECT tdgen_source(%L, %L, %L, trusted_schemas => %L);',
							s.name, s.server, s.schemas, s.trusted_schemas || n.nspname)
				WHEN l.lanname IS NULL THEN format('CREATE EXTENSION %I;', p.language)
				ELSE format('-- a superuser may make it trusted: ALTER LANGUAGE %I ...; or trust its schema', p.language) END
	FROM jsonb_to_recordset(snap -> 'proc') AS p(oid oid, proname name, pronamespace oid, prokind "char", language name)
	JOIN made AS m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
	JOIN nsp AS n ON n.oid = p.pronamespace
	LEFT JOIN pg_language AS l ON l.lanname = p.language
	WHERE p.prokind <> 'a' AND p.language NOT IN ('sql', 'plpgsql')
	  AND (p.language IN ('c', 'internal') OR l.lanname IS NULL OR NOT l.lanpltrusted)
	UNION ALL
	-- relations of schemas the source does not read
	SELECT DISTINCT 'outside_relation', coalesce(t.qualified, ''),
		   format('%s uses %s, which is in schema %s that source %s does not read',
				  coalesce(t.qualified, 'an object'), r.qualified, quote_ident(r.nspname), s.name),
		   format('-- add its schema to the source: SELECT tdgen_source(%L, %L, %L);', s.name, s.server, s.schemas || r.nspname)
	FROM jsonb_to_recordset(snap -> 'uses') AS u(classid oid, objid oid, refclassid oid, refobjid oid)
	JOIN made AS m ON m.classid = u.classid AND m.objid = u.objid
	JOIN rel AS r ON u.refclassid = 'pg_class'::regclass AND r.oid = u.refobjid AND NOT r.listed AND r.relkind IN ('r', 'p', 'v', 'm')
	LEFT JOIN rel AS t ON t.oid = m.table_oid
	UNION ALL
	-- extensions staging lacks
	SELECT DISTINCT 'missing_extension', coalesce(t.qualified, ''),
		   format('%s uses extension %s %s, which the staging database does not have', x.what, x.extname, x.extversion),
		   CASE WHEN EXISTS (SELECT FROM pg_available_extensions AS a WHERE a.name = x.extname)
				THEN format('CREATE EXTENSION %I;', x.extname)
				ELSE format('-- install the package that provides extension %s on the staging server, then: CREATE EXTENSION %I;',
							x.extname, x.extname) END
	FROM jsonb_to_recordset(snap -> 'ext_uses') AS x(what text, classid oid, objid oid, table_oid oid, extname name, extversion text)
	LEFT JOIN copied AS t ON t.oid = x.table_oid
	WHERE (t.oid IS NOT NULL OR EXISTS (SELECT FROM made AS m WHERE m.classid = x.classid AND m.objid = x.objid AND m.table_oid IS NULL))
	  AND NOT EXISTS (SELECT FROM pg_extension AS e WHERE e.extname = x.extname)
	UNION ALL
	-- extensions in a schema the environment's owner may not use
	SELECT DISTINCT 'extension_access', '',
		   format('extension %s is in schema %s, which the owner %s of environment %s may not use',
				  x.extname, quote_ident(n.nspname), quote_ident(e.owner), e.name),
		   format('GRANT USAGE ON SCHEMA %I TO %I;', n.nspname, e.owner)
	FROM jsonb_to_recordset(snap -> 'ext_uses') AS x(extname name)
	JOIN pg_extension AS px ON px.extname = x.extname
	JOIN pg_namespace AS n ON n.oid = px.extnamespace
	JOIN tdgen.environment AS e ON e.name = environment
	WHERE to_regrole(quote_ident(e.owner)) IS NOT NULL AND NOT has_schema_privilege(e.owner, n.oid, 'USAGE')
	ORDER BY 2, 3;
END
$$;

-- Every problem with the rules of an environment against production now:
--   unreviewed        a column of a copied table with neither rule nor keep,
--                     or a foreign key whose name says it is personal and
--                     that would take a keep from the key it references
--   column_gone       a rule whose table or column no longer exists, or
--                     that reads another column its table lacks
--   subset_gone       a subset target, edge or relation naming a table,
--                     foreign key or column production no longer has
--   type_changed      a ruled column whose type changed since the review
--   not_injective     a non-injective rule on a PRIMARY KEY/UNIQUE column
--   type_mismatch     a transform that cannot take the column's type
--   not_null          nullify on a NOT NULL column
--   foreign_key       a rule on a foreign-key column that differs from the
--                     rule of the column it references (joins would break)
--   untrusted_code    a function a refresh would make and cannot (C
--                     outside an extension, a language staging lacks or
--                     keeps for superusers) (tdgen.code_problems)
--   outside_relation  a copied object using a table or view of a schema
--                     the source does not read (tdgen.code_problems);
--                     column_name is the table
--   missing_extension an extension production's copied objects use that
--                     staging lacks (tdgen.code_problems); column_name is
--                     the table
-- A column referencing another by foreign key takes that column's rule.
-- New production columns raise an alert each (not on a source's first
-- check, which records what is there).
CREATE FUNCTION tdgen.check_problems(environment text, production jsonb DEFAULT NULL)
RETURNS TABLE (problem text, column_name text, detail text, suggestion text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_nestloop = off SET jit = off AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
	s tdgen.source := tdgen.resolve_source(e.source);
	cols jsonb;
	fks jsonb;
BEGIN
	-- production as it is now, read once
	production := coalesce(production, tdgen.read_production(s.name));
	cols := production -> 'cols';
	fks := production -> 'fks';
	PERFORM tdgen.sync_source(s.name, cols);

	RETURN QUERY
	WITH effective AS (
		SELECT * FROM tdgen.effective_columns(e.name, cols, fks) AS ec WHERE ec.mode IN ('copy', 'lookup') AND NOT ec.generated
	), kept_reference AS MATERIALIZED (
		SELECT x.*, row_number() OVER ()::integer AS k FROM effective AS x WHERE NOT x.own AND x.action = 'keep'
	)
	SELECT 'unreviewed', tdgen.qualified(x.schema_name, x.table_name, x.column_name),
		   format('%s column %s has neither a rule nor a keep', x.type_name, tdgen.qualified(x.schema_name, x.table_name, x.column_name)),
		   NULL::text
	FROM effective AS x WHERE x.action IS NULL
	UNION ALL
	-- a foreign key whose own name says it holds personal data takes no
	-- keep from the key it references (race_concept_id, the key of a
	-- lookup table): a person decides
	SELECT 'unreviewed', tdgen.qualified(x.schema_name, x.table_name, x.column_name),
		   format('%s column %s takes the keep of %s, which it references, but its name says %s', x.type_name,
				  tdgen.qualified(x.schema_name, x.table_name, x.column_name), x.ref, min(m.category)),
		   NULL::text
	FROM kept_reference AS x
	JOIN tdgen.name_matches(ARRAY(SELECT r.table_name::text FROM kept_reference AS r ORDER BY r.k),
							ARRAY(SELECT r.column_name::text FROM kept_reference AS r ORDER BY r.k),
							ARRAY(SELECT r.type_class FROM kept_reference AS r ORDER BY r.k)) AS m
		 ON m.idx = x.k AND tdgen.name_says_personal(m.context, m.confidence)
	GROUP BY x.schema_name, x.table_name, x.column_name, x.type_name, x.ref
	UNION ALL
	SELECT 'column_gone', tdgen.qualified(r.schema_name, r.table_name, r.column_name),
		   format('rule on %s, which production no longer has', tdgen.qualified(r.schema_name, r.table_name, r.column_name)),
		   format('SELECT tdgen_drop_rule(%L%s);', tdgen.qualified(r.schema_name, r.table_name, r.column_name),
				  CASE WHEN r.environment IS NOT NULL THEN format(', %L', r.environment) ELSE '' END)
	FROM tdgen.column_rule AS r
	WHERE (r.environment IS NULL OR r.environment = e.name) AND r.schema_name = ANY (s.schemas)
	  AND NOT EXISTS (SELECT FROM jsonb_to_recordset(cols) AS c(schema_name name, table_name name, column_name name)
					  WHERE c.schema_name = r.schema_name AND c.table_name = r.table_name AND c.column_name = r.column_name)
	  -- a general rule may be another source's, whose production has the column
	  AND (r.environment IS NOT NULL
		   OR NOT EXISTS (SELECT FROM tdgen.seen_column AS sc
						  WHERE sc.source <> s.name AND sc.schema_name = r.schema_name AND sc.table_name = r.table_name
							AND sc.column_name = r.column_name))
	UNION ALL
	-- a rule of this environment on a schema its source does not read, or
	-- a general one on a schema no environment's source reads
	SELECT 'column_gone', tdgen.qualified(r.schema_name, r.table_name, r.column_name),
		   format('rule on %s, whose schema %s %s', tdgen.qualified(r.schema_name, r.table_name, r.column_name),
				  quote_ident(r.schema_name),
				  CASE WHEN r.environment IS NOT NULL THEN format('source %s does not read', s.name)
					   ELSE 'no environment''s source reads' END),
		   format('SELECT tdgen_drop_rule(%L%s);', tdgen.qualified(r.schema_name, r.table_name, r.column_name),
				  CASE WHEN r.environment IS NOT NULL THEN format(', %L', r.environment) ELSE '' END)
	FROM tdgen.column_rule AS r
	WHERE NOT r.schema_name = ANY (s.schemas)
	  AND (r.environment = e.name
		   OR (r.environment IS NULL
			   AND NOT EXISTS (SELECT FROM tdgen.environment AS oe JOIN tdgen.source AS os ON os.name = oe.source
							   WHERE r.schema_name = ANY (os.schemas))))
	UNION ALL
	SELECT 'type_changed', tdgen.qualified(x.schema_name, x.table_name, x.column_name),
		   format('reviewed as %s, now %s', x.reviewed_type, x.type_name),
		   format('-- review, then write the rule again: SELECT tdgen_rule(%L, %L, %L);',
				  tdgen.qualified(x.schema_name, x.table_name, x.column_name), x.transform, x.params)
	FROM effective AS x WHERE x.own AND x.reviewed_type IS NOT NULL AND x.reviewed_type <> x.type_name
	UNION ALL
	SELECT 'not_injective', tdgen.qualified(x.schema_name, x.table_name, x.column_name),
		   format('%s is not injective, and the column is part of a PRIMARY KEY or UNIQUE constraint%s', x.transform,
				  CASE WHEN x.own THEN '' ELSE ' (rule taken from ' || x.ref || ')' END),
		   coalesce((SELECT format('SELECT tdgen_rule(%L, %L, %L);', coalesce(x.ref, tdgen.qualified(x.schema_name, x.table_name, x.column_name)),
								   x.transform, coalesce(x.params, '{}') || t.injective_with)
					 FROM tdgen.transform AS t WHERE t.name = x.transform AND t.injective_with IS NOT NULL),
					format('-- choose an injective transform: SELECT name FROM tdgen.transform WHERE injective')) 
	FROM effective AS x
	WHERE x.in_unique AND x.action = 'mask' AND NOT tdgen.rule_injective(x.transform, x.params)
	UNION ALL
	SELECT 'type_mismatch', tdgen.qualified(x.schema_name, x.table_name, x.column_name),
		   format('%s does not take %s values', x.transform, x.type_name),
		   '-- choose a transform whose input_types include the column''s type: SELECT name, input_types FROM tdgen.transform'
	FROM effective AS x
	WHERE x.action = 'mask' AND NOT tdgen.transform_fits(x.transform, x.base_type, x.type_class)
	UNION ALL
	-- a rule that reads another column of its row, which the table lacks
	SELECT 'column_gone', tdgen.qualified(x.schema_name, x.table_name, x.column_name),
		   format('parameter %s of its %s rule names column %s, which table %s does not have', p.key, x.transform,
				  quote_ident(p.value #>> '{}'), tdgen.qualified(x.schema_name, x.table_name)),
		   '-- write the rule again naming a column of the same table'
	FROM effective AS x
	JOIN tdgen.transform AS t ON t.name = x.transform
	CROSS JOIN LATERAL jsonb_each(x.params) AS p
	WHERE x.own AND x.action = 'mask' AND t.parameters -> p.key ->> 'type' = 'column'
	  AND NOT EXISTS (SELECT FROM effective AS y
					  WHERE y.schema_name = x.schema_name AND y.table_name = x.table_name
						AND y.column_name = p.value #>> '{}')
	UNION ALL
	SELECT 'not_null', tdgen.qualified(x.schema_name, x.table_name, x.column_name),
		   'nullify on a NOT NULL column would fail the copy',
		   NULL
	FROM effective AS x WHERE x.action = 'mask' AND x.transform = 'nullify' AND x.not_null
	UNION ALL
	SELECT 'foreign_key', tdgen.qualified(x.schema_name, x.table_name, x.column_name),
		   format('its rule differs from that of %s, which it references: masked keys would no longer match', x.ref),
		   format('SELECT tdgen_drop_rule(%L);', tdgen.qualified(x.schema_name, x.table_name, x.column_name))
	FROM effective AS x
	WHERE x.own AND x.ref IS NOT NULL
	  AND (x.action, coalesce(x.transform, ''), x.params) IS DISTINCT FROM
		  (x.ref_action, coalesce(x.ref_transform, ''), x.ref_params)
	UNION ALL
	-- a subset's target, edge or relation naming what production no
	-- longer has
	SELECT 'subset_gone', tdgen.qualified(t.schema_name, t.table_name),
		   format('subset target on %s, which production no longer has', tdgen.qualified(t.schema_name, t.table_name)),
		   format('SELECT tdgen_drop_subset_target(%L, %L);', t.environment, tdgen.qualified(t.schema_name, t.table_name))
	FROM tdgen.subset_target AS t
	WHERE t.environment = e.name
	  AND NOT EXISTS (SELECT FROM jsonb_to_recordset(cols) AS c(schema_name name, table_name name)
					  WHERE (c.schema_name, c.table_name) = (t.schema_name, t.table_name))
	UNION ALL
	SELECT 'subset_gone', tdgen.qualified(g.schema_name, g.name),
		   format('subset edge on %s, which production no longer has: no foreign key or relation of that name',
				  tdgen.qualified(g.schema_name, g.name)),
		   format('SELECT tdgen_drop_subset_edge(%L, %L);', g.environment, tdgen.qualified(g.schema_name, g.name))
	FROM tdgen.subset_edge AS g
	WHERE g.environment = e.name
	  AND NOT EXISTS (SELECT FROM jsonb_to_recordset(production #> '{snap,constraint}') AS k(conname name, connamespace oid, contype "char")
					  JOIN jsonb_to_recordset(production #> '{snap,namespace}') AS n(oid oid, nspname name) ON n.oid = k.connamespace
					  WHERE k.contype = 'f' AND n.nspname = g.schema_name AND k.conname = g.name)
	  AND NOT EXISTS (SELECT FROM tdgen.relation AS v WHERE (v.schema_name, v.name) = (g.schema_name, g.name)
					  AND (v.environment IS NULL OR v.environment = e.name))
	UNION ALL
	SELECT 'subset_gone', tdgen.qualified(v.schema_name, v.name),
		   format('relation %s is between %s (%s) and %s (%s), which production no longer has', tdgen.qualified(v.schema_name, v.name),
				  tdgen.qualified(v.schema_name, v.table_name), array_to_string(v.columns, ', '),
				  tdgen.qualified(v.ref_schema, v.ref_table), array_to_string(v.ref_columns, ', ')),
		   format('SELECT tdgen_drop_relation(%L%s);', tdgen.qualified(v.schema_name, v.name),
				  CASE WHEN v.environment IS NOT NULL THEN format(', %L', v.environment) ELSE '' END)
	FROM tdgen.relation AS v
	WHERE (v.environment IS NULL OR v.environment = e.name) AND v.schema_name = ANY (s.schemas)
	  AND ((SELECT count(*) FROM jsonb_to_recordset(cols) AS c(schema_name name, table_name name, column_name name)
			WHERE (c.schema_name, c.table_name) = (v.schema_name, v.table_name) AND c.column_name = ANY (v.columns))
		   < cardinality(v.columns)
		   OR (SELECT count(*) FROM jsonb_to_recordset(cols) AS c(schema_name name, table_name name, column_name name)
			   WHERE (c.schema_name, c.table_name) = (v.ref_schema, v.ref_table) AND c.column_name = ANY (v.ref_columns))
		   < cardinality(v.ref_columns))
	UNION ALL
	SELECT c.problem, c.table_name, c.detail, c.suggestion FROM tdgen.code_problems(e.name, production -> 'snap') AS c
	ORDER BY 2, 1;
	PERFORM tdgen.record_columns(e.name, cols);
END
$$;

-- Record production's columns (cols: tdgen.production_columns) as seen:
-- an alert for each column seen for the first time (not on a source's
-- first check, which records what is there), and its type for the rules
-- written before it was seen.
CREATE FUNCTION tdgen.record_columns(environment text, cols jsonb)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET enable_nestloop = off AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
	s tdgen.source := tdgen.resolve_source(e.source);
	first_check boolean;
	n record;
BEGIN
	first_check := NOT EXISTS (SELECT FROM tdgen.seen_column AS sc WHERE sc.source = s.name);
	FOR n IN
		INSERT INTO tdgen.seen_column AS sc (source, schema_name, table_name, column_name, column_type)
		SELECT s.name, c.schema_name, c.table_name, c.column_name, c.type_name
		FROM jsonb_to_recordset(cols) AS c(schema_name name, table_name name, column_name name, type_name text)
		ON CONFLICT ON CONSTRAINT seen_column_pkey DO UPDATE SET column_type = excluded.column_type
		RETURNING sc.schema_name, sc.table_name, sc.column_name, sc.column_type, xmax = 0 AS inserted
	LOOP
		CONTINUE WHEN first_check OR NOT n.inserted;
		PERFORM tdgen.raise_alert('new_column', s.name, e.name,
								  format('new production column %s (%s)', tdgen.qualified(n.schema_name, n.table_name, n.column_name), n.column_type),
								  jsonb_build_object('column', tdgen.qualified(n.schema_name, n.table_name, n.column_name),
													 'type', n.column_type));
	END LOOP;

	-- rules written before their column was seen take its type now
	UPDATE tdgen.column_rule AS r SET column_type = c.type_name
	FROM jsonb_to_recordset(cols) AS c(schema_name name, table_name name, column_name name, type_name text)
	WHERE r.column_type IS NULL AND r.schema_name = c.schema_name AND r.table_name = c.table_name
	  AND r.column_name = c.column_name;
END
$$;

-- The problems, each unreviewed column with the rule the scan suggests for
-- it (its values sampled, one remote pass per table), or a keep to fill in.
CREATE FUNCTION tdgen_check(environment text)
RETURNS TABLE (problem text, column_name text, detail text, suggestion text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
	problems jsonb;
	sugs jsonb := '{}';
BEGIN
	SELECT coalesce(jsonb_agg(to_jsonb(p)), '[]') INTO problems FROM tdgen.check_problems(e.name) AS p;
	IF EXISTS (SELECT FROM jsonb_array_elements(problems) AS x WHERE x ->> 'problem' = 'unreviewed') THEN
		SELECT coalesce(jsonb_object_agg(tdgen.qualified(x.schema_name, x.table_name, x.column_name),
										 jsonb_build_object('category', x.category, 'transform', x.transform,
															'params', x.params, 'reason', x.reason)), '{}')
		INTO sugs
		FROM tdgen.scan_columns(e.name, ARRAY(SELECT x ->> 'column_name' FROM jsonb_array_elements(problems) AS x
											  WHERE x ->> 'problem' = 'unreviewed'), 100, 0.5) AS x
		WHERE x.category IS NOT NULL;
	END IF;

	RETURN QUERY
	SELECT x.problem, x.column_name,
		   x.detail || CASE WHEN sugs ? x.column_name
							THEN format('; looks like %s (%s)', sugs -> x.column_name ->> 'category',
										sugs -> x.column_name ->> 'reason')
							ELSE '' END,
		   CASE WHEN x.problem <> 'unreviewed' THEN x.suggestion
				WHEN sugs -> x.column_name ->> 'transform' IS NOT NULL
				THEN format('SELECT tdgen_rule(%L, %L%s);', x.column_name, sugs -> x.column_name ->> 'transform',
							CASE WHEN sugs -> x.column_name -> 'params' <> '{}'
								 THEN format(', %L', sugs -> x.column_name -> 'params') ELSE '' END)
				WHEN sugs ? x.column_name
				THEN format('-- personal, and no mask fits it as it is: SELECT tdgen_rule(%L, ...) or tdgen_keep(%L, ...);',
							x.column_name, x.column_name)
				ELSE format('SELECT tdgen_keep(%L, %L);', x.column_name, 'why it holds nothing personal') END
	FROM jsonb_to_recordset(problems) AS x(problem text, column_name text, detail text, suggestion text);
END
$$;

-- Refuse (TG001) while the check finds a problem: an alert row and a
-- NOTIFY, committed before the error when outside a transaction block.
-- tdgen_refresh calls it first; CI can call it on its own.
CREATE PROCEDURE tdgen_gate(environment text)
LANGUAGE plpgsql AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
	problems jsonb;
BEGIN
	SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(c)) INTO problems FROM @extschema@.tdgen_check(environment) AS c;
	IF problems IS NULL THEN
		RETURN;
	END IF;
	PERFORM tdgen.gate_alert(e.name, problems);
	IF NOT tdgen.in_transaction_block() THEN
		COMMIT;
	END IF;
	PERFORM tdgen.gate_refusal(e.name, problems);
END
$$;

-- The gate's refusal, for tdgen_gate and the refresh alike: TG001 naming
-- the environment, each problem a line of DETAIL, the suggested calls in
-- HINT.  problems: tdgen_check rows as jsonb.
CREATE FUNCTION tdgen.gate_refusal(environment text, problems jsonb)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n integer;
	lines text;
	hints text;
BEGIN
	SELECT count(*), string_agg(c.problem || ': ' || c.detail, E'\n' ORDER BY c.column_name, c.problem),
		   string_agg(DISTINCT c.suggestion, E'\n')
	INTO n, lines, hints
	FROM jsonb_to_recordset(problems) AS c(problem text, column_name text, detail text, suggestion text);
	RAISE EXCEPTION 'tdgen: % problem(s) with the rules of environment %', n, quote_literal(environment)
		USING ERRCODE = 'TG001', DETAIL = lines,
			  HINT = 'Write a rule or a keep for each column, for example:' || E'\n' || coalesce(hints, '');
END
$$;

-- The alert of the gate's refusal: a row of tdgen.alert and a NOTIFY, with
-- the problems (tdgen_check rows, or the lines of the refusal's DETAIL)
-- and the run refused, if any.
CREATE FUNCTION tdgen.gate_alert(environment text, problems jsonb, run_id bigint DEFAULT NULL)
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT tdgen.raise_alert('gate_refused', e.source, e.name,
							 format('refresh of %s refused: %s problem(s) in the rules', e.name, jsonb_array_length(problems)),
							 jsonb_strip_nulls(jsonb_build_object('run_id', run_id, 'problems', problems)))
	FROM tdgen.environment AS e WHERE e.name = gate_alert.environment;
END;

REVOKE ALL ON FUNCTION tdgen.raise_alert(text, text, text, text, jsonb), tdgen_check(text), tdgen.code_problems(text, jsonb),
	tdgen.check_problems(text, jsonb), tdgen.record_columns(text, jsonb), tdgen.gate_refusal(text, jsonb),
	tdgen.gate_alert(text, jsonb, bigint) FROM PUBLIC;
REVOKE ALL ON PROCEDURE tdgen_gate(text) FROM PUBLIC;
-- tdgen_gate runs as its caller (a procedure that commits cannot be
-- SECURITY DEFINER): tdgen_admin raises the refusal and its alert.
GRANT EXECUTE ON FUNCTION tdgen_check(text), tdgen.raise_alert(text, text, text, text, jsonb),
	tdgen.gate_refusal(text, jsonb), tdgen.gate_alert(text, jsonb, bigint) TO tdgen_admin;
GRANT EXECUTE ON PROCEDURE tdgen_gate(text) TO tdgen_admin;

COMMENT ON FUNCTION tdgen.record_columns(text, jsonb) IS
	'records production''s columns as seen: an alert per new column, its type for rules written before it was seen';
COMMENT ON FUNCTION tdgen.code_problems(text, jsonb) IS
	'what a refresh of production''s schema needs in staging and cannot make: functions it cannot make (untrusted_code), relations of schemas the source does not read (outside_relation), extensions staging lacks (missing_extension)';
COMMENT ON FUNCTION tdgen.raise_alert(text, text, text, text, jsonb) IS
	'records an alert and sends it as NOTIFY tdgen_alert with a JSON payload';
COMMENT ON FUNCTION tdgen.table_mode_of(text, name, name) IS
	'the mode of a production table in an environment: copy, empty or skip';
COMMENT ON FUNCTION tdgen.effective_columns(text, jsonb, jsonb) IS
	'every production column with its table''s mode and the rule that holds for it in the environment, own or by foreign key';
COMMENT ON FUNCTION tdgen.check_problems(text, jsonb) IS
	'every problem that stops a refresh of the environment: unreviewed, column_gone, type_changed, not_injective, type_mismatch, not_null, foreign_key, subset_gone';
COMMENT ON FUNCTION tdgen_check(text) IS
	'every problem that stops a refresh of the environment, with a suggested call: the scan''s rule for an unreviewed column, or a keep to fill in';
COMMENT ON FUNCTION tdgen.gate_refusal(text, jsonb) IS
	'raises the gate''s refusal (TG001) for problems of tdgen_check: a DETAIL line each, the suggested calls in HINT';
COMMENT ON FUNCTION tdgen.gate_alert(text, jsonb, bigint) IS
	'the alert of the gate''s refusal of an environment, with its problems and the run refused';
COMMENT ON PROCEDURE tdgen_gate(text) IS
	'raises TG001 (with the problems in DETAIL and suggested rules in HINT) and an alert while tdgen_check finds problems';
