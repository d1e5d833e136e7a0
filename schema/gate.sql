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
-- one), else that of the column it references by foreign key (ref).
-- Never inlined, like tdgen.shadow_relations, so cols is not copied into
-- the caller's plan for each reference.
CREATE FUNCTION tdgen.effective_columns(environment text, cols jsonb, fks jsonb)
RETURNS TABLE (schema_name name, table_name name, column_name name, attnum int, type_name text, local_type text,
			   base_type regtype, type_class text, not_null boolean, generated boolean, in_unique boolean,
			   mode text, action text, transform text, params jsonb, own boolean, reviewed_type text,
			   ref text, ref_action text, ref_transform text, ref_params jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
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
	), inherited AS (
		SELECT DISTINCT ON (f.schema_name, f.table_name, f.column_name)
			   f.schema_name, f.table_name, f.column_name, r.action, r.transform, r.params,
			   tdgen.qualified(f.ref_schema, f.ref_table, f.ref_column) AS ref
		FROM fk AS f
		JOIN rule AS r ON r.schema_name = f.ref_schema AND r.table_name = f.ref_table AND r.column_name = f.ref_column
		ORDER BY f.schema_name, f.table_name, f.column_name, f.ref_schema, f.ref_table, f.ref_column
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

-- What production's copied objects need in staging, as problems of
-- tdgen.check_problems.  The objects: CHECK and exclusion constraints,
-- defaults and generated expressions, indexes (expressions, predicates,
-- operator classes), partition keys and domain checks of the source's
-- tables (skipped ones aside), and their columns' types.
--   untrusted_code     a function or operator they call outside pg_catalog
--                      and the source's trusted schemas, or a column type
--                      from outside those and the source's schemas that no
--                      extension defines: a refresh would run staging's
--                      code of that name
--   missing_extension  an extension whose types, functions, operators,
--                      operator classes or collations they use and that
--                      the staging database does not have (name and
--                      version), found before any work
-- One row per table and thing used, never a value.
CREATE FUNCTION tdgen.code_problems(source text, environment text)
RETURNS TABLE (problem text, table_name text, detail text, suggestion text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s tdgen.source := tdgen.resolve_source(source);
	ls name := s.local_schema;
	cat jsonb[];
BEGIN
	-- each remote catalog read to its end before the next starts
	cat := ARRAY[tdgen.read_remote(ls, 'catalog_namespace', 'true'),
				 tdgen.read_remote(ls, 'catalog_class', 'relkind IN (''r'', ''p'', ''i'', ''I'')'),
				 tdgen.read_remote(ls, 'catalog_constraint', 'contype IN (''c'', ''x'')'),
				 tdgen.read_remote(ls, 'catalog_index', 'true'),
				 tdgen.read_remote(ls, 'catalog_attrdef', 'true'),
				 -- pg_class 1259, pg_attrdef 2604, pg_constraint 2606 use pg_type
				 -- 1247, pg_proc 1255, pg_opclass 2616, pg_operator 2617,
				 -- pg_collation 3456; extension members ('e') of any kind
				 tdgen.read_remote(ls, 'catalog_depend', '(deptype = ''n'' AND classid IN (1259, 2604, 2606)'
																|| ' AND refclassid IN (1247, 1255, 2616, 2617, 3456)) OR deptype = ''e'''),
				 tdgen.read_remote(ls, 'catalog_proc', 'pronamespace <> 11'),
				 tdgen.read_remote(ls, 'catalog_operator', 'oprnamespace <> 11'),
				 tdgen.read_remote(ls, 'catalog_attribute', 'attnum > 0 AND NOT attisdropped'),
				 tdgen.read_remote(ls, 'catalog_type', 'typnamespace <> 11'),
				 tdgen.read_remote(ls, 'catalog_extension', 'true')];
	RETURN QUERY
	WITH nsp AS MATERIALIZED (
		SELECT * FROM jsonb_to_recordset(cat[1]) AS x(oid oid, nspname name)
	), rel AS MATERIALIZED (
		SELECT c.oid, c.relname, c.relkind, n.nspname, tdgen.qualified(n.nspname, c.relname) AS qualified
		FROM jsonb_to_recordset(cat[2]) AS c(oid oid, relname name, relnamespace oid, relkind "char")
		JOIN nsp AS n ON n.oid = c.relnamespace
		WHERE n.nspname = ANY (s.schemas)
	), copied AS MATERIALIZED (
		SELECT * FROM rel AS r
		WHERE r.relkind IN ('r', 'p') AND tdgen.table_mode_of(environment, r.nspname, r.relname) <> 'skip'
	), dep AS MATERIALIZED (
		SELECT * FROM jsonb_to_recordset(cat[6]) AS x(classid oid, objid oid, objsubid int4, refclassid oid, refobjid oid,
													  deptype "char")
	), typ AS MATERIALIZED (
		SELECT * FROM jsonb_to_recordset(cat[10]) AS ty(oid oid, typname name, typnamespace oid, typelem oid)
	), member AS MATERIALIZED (
		-- extension members, array types of member types included
		SELECT d.classid, d.objid, x.extname, x.extversion
		FROM dep AS d JOIN jsonb_to_recordset(cat[11]) AS x(oid oid, extname name, extversion text) ON x.oid = d.refobjid
		WHERE d.deptype = 'e'
	), callee AS MATERIALIZED (
		-- functions and operators outside pg_catalog and the trusted schemas
		SELECT 1255::oid AS classid, p.oid, 'function' AS kind, tdgen.qualified(n.nspname, p.proname) AS name
		FROM jsonb_to_recordset(cat[7]) AS p(oid oid, proname name, pronamespace oid)
		JOIN nsp AS n ON n.oid = p.pronamespace
		WHERE NOT n.nspname = ANY (s.trusted_schemas)
		UNION ALL
		SELECT 2617, o.oid, 'operator', format('OPERATOR(%s.%s)', quote_ident(n.nspname), o.oprname)
		FROM jsonb_to_recordset(cat[8]) AS o(oid oid, oprname name, oprnamespace oid)
		JOIN nsp AS n ON n.oid = o.oprnamespace
		WHERE NOT n.nspname = ANY (s.trusted_schemas)
	), caller AS MATERIALIZED (
		-- each copied expression, as what it is and its table
		SELECT 2606::oid AS classid, k.oid, t.qualified,
			   format('%s constraint %I on table %s', CASE k.contype WHEN 'c' THEN 'CHECK' ELSE 'exclusion' END, k.conname, t.qualified) AS what
		FROM jsonb_to_recordset(cat[3]) AS k(oid oid, conname name, contype "char", conrelid oid, contypid oid)
		JOIN copied AS t ON t.oid = k.conrelid
		UNION ALL
		SELECT 2606, k.oid, NULL, format('constraint %I of domain %s', k.conname, tdgen.qualified(n.nspname, ty.typname))
		FROM jsonb_to_recordset(cat[3]) AS k(oid oid, conname name, contypid oid)
		JOIN jsonb_to_recordset(cat[10]) AS ty(oid oid, typname name, typnamespace oid) ON ty.oid = k.contypid
		JOIN nsp AS n ON n.oid = ty.typnamespace
		WHERE n.nspname = ANY (s.schemas)
		UNION ALL
		SELECT 2604, d.oid, t.qualified, format('the default or generated expression of column %I of table %s', a.attname, t.qualified)
		FROM jsonb_to_recordset(cat[5]) AS d(oid oid, adrelid oid, adnum int2)
		JOIN copied AS t ON t.oid = d.adrelid
		JOIN jsonb_to_recordset(cat[9]) AS a(attrelid oid, attnum int2, attname name) ON a.attrelid = d.adrelid AND a.attnum = d.adnum
		UNION ALL
		SELECT 1259, i.oid, t.qualified, format('index %I on table %s', i.relname, t.qualified)
		FROM rel AS i
		JOIN jsonb_to_recordset(cat[4]) AS x(indexrelid oid, indrelid oid) ON x.indexrelid = i.oid
		JOIN copied AS t ON t.oid = x.indrelid
		WHERE i.relkind IN ('i', 'I')
		UNION ALL
		SELECT 1259, t.oid, t.qualified, format('the partition key of table %s', t.qualified)
		FROM copied AS t WHERE t.relkind = 'p'
	), used AS (
		-- what each copied object uses: the expressions above, and the
		-- columns of copied tables (their types)
		SELECT c.qualified, c.what, d.refclassid, d.refobjid
		FROM caller AS c
		JOIN dep AS d ON d.classid = c.classid AND d.objid = c.oid AND d.deptype = 'n' AND (c.classid <> 1259 OR d.objsubid = 0)
		UNION ALL
		SELECT t.qualified, format('column %I of table %s', a.attname, t.qualified), d.refclassid, d.refobjid
		FROM copied AS t
		JOIN jsonb_to_recordset(cat[9]) AS a(attrelid oid, attnum int2, attname name) ON a.attrelid = t.oid
		JOIN dep AS d ON d.classid = 1259 AND d.objid = t.oid AND d.objsubid = a.attnum AND d.deptype = 'n'
	)
	SELECT DISTINCT 'untrusted_code', coalesce(u.qualified, ''),
		   format('%s calls %s %s, which is neither in pg_catalog nor in a trusted schema of source %s',
				  u.what, f.kind, f.name, s.name),
		   format('-- a superuser may trust what it calls: SELECT tdgen_source(%L, %L, %L, trusted_schemas => %L);',
				  s.name, s.server, s.schemas, s.trusted_schemas || ARRAY['schema_name']::name[])
	FROM used AS u
	JOIN callee AS f ON f.classid = u.refclassid AND f.oid = u.refobjid
	UNION
	-- column types from outside the source's and trusted schemas that no
	-- extension defines: staging's type of that name would be used
	SELECT 'untrusted_code', t.qualified,
		   format('column %I of table %s has type %s, which is neither in pg_catalog, a schema of source %s, a trusted schema nor an extension',
				  a.attname, t.qualified, tdgen.qualified(n.nspname, ty.typname), s.name),
		   format('-- a superuser may trust its schema: SELECT tdgen_source(%L, %L, %L, trusted_schemas => %L);',
				  s.name, s.server, s.schemas, s.trusted_schemas || n.nspname)
	FROM copied AS t
	JOIN jsonb_to_recordset(cat[9]) AS a(attrelid oid, attname name, atttypid oid) ON a.attrelid = t.oid
	JOIN typ AS ty ON ty.oid = a.atttypid
	JOIN nsp AS n ON n.oid = ty.typnamespace
	WHERE NOT n.nspname = ANY (s.schemas || s.trusted_schemas)
	  AND NOT EXISTS (SELECT FROM member AS m WHERE m.classid = 1247 AND m.objid IN (ty.oid, ty.typelem))
	UNION
	-- extensions staging lacks
	SELECT 'missing_extension', coalesce(u.qualified, ''),
		   format('%s uses extension %s %s, which the staging database does not have', u.what, m.extname, m.extversion),
		   CASE WHEN EXISTS (SELECT FROM pg_available_extensions AS a WHERE a.name = m.extname)
				THEN format('CREATE EXTENSION %I;', m.extname)
				ELSE format('-- install the package that provides extension %s on the staging server, then: CREATE EXTENSION %I;',
							m.extname, m.extname) END
	FROM used AS u
	JOIN (SELECT * FROM member
		  UNION ALL
		  SELECT 1247, ty.oid, m.extname, m.extversion FROM typ AS ty JOIN member AS m ON m.classid = 1247 AND m.objid = ty.typelem
		 ) AS m ON m.classid = u.refclassid AND m.objid = u.refobjid
	WHERE NOT EXISTS (SELECT FROM pg_extension AS x WHERE x.extname = m.extname)
	ORDER BY 2, 3;
END
$$;

-- Every problem with the rules of an environment against production now:
--   unreviewed        a column of a copied table with neither rule nor keep
--   column_gone       a rule whose table or column no longer exists
--   type_changed      a ruled column whose type changed since the review
--   not_injective     a non-injective rule on a PRIMARY KEY/UNIQUE column
--   type_mismatch     a transform that cannot take the column's type
--   not_null          nullify on a NOT NULL column
--   foreign_key       a rule on a foreign-key column that differs from the
--                     rule of the column it references (joins would break)
--   untrusted_code    a copied expression or column type that would run
--                     code outside pg_catalog and the trusted schemas
--                     (tdgen.code_problems); column_name is the table
--   missing_extension an extension production's copied objects use that
--                     staging lacks (tdgen.code_problems); column_name is
--                     the table
-- A column referencing another by foreign key takes that column's rule.
-- New production columns raise an alert each (not on a source's first
-- check, which records what is there).
CREATE FUNCTION tdgen.check_problems(environment text)
RETURNS TABLE (problem text, column_name text, detail text, suggestion text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
	s tdgen.source := tdgen.resolve_source(e.source);
	first_check boolean;
	cols jsonb;
	fks jsonb;
	n record;
BEGIN
	PERFORM tdgen.sync_source(s.name);
	-- production as it is now, read once
	SELECT pc.cols, pc.fks INTO cols, fks FROM tdgen.production_columns(s.name) AS pc;

	RETURN QUERY
	WITH effective AS (
		SELECT * FROM tdgen.effective_columns(e.name, cols, fks) AS ec WHERE ec.mode = 'copy' AND NOT ec.generated
	)
	SELECT 'unreviewed', tdgen.qualified(x.schema_name, x.table_name, x.column_name),
		   format('%s column %s has neither a rule nor a keep', x.type_name, tdgen.qualified(x.schema_name, x.table_name, x.column_name)),
		   NULL::text
	FROM effective AS x WHERE x.action IS NULL
	UNION ALL
	SELECT 'column_gone', tdgen.qualified(r.schema_name, r.table_name, r.column_name),
		   format('rule on %s, which production no longer has', tdgen.qualified(r.schema_name, r.table_name, r.column_name)),
		   format('SELECT tdgen_drop_rule(%L%s);', tdgen.qualified(r.schema_name, r.table_name, r.column_name),
				  CASE WHEN r.environment IS NOT NULL THEN format(', %L', r.environment) ELSE '' END)
	FROM tdgen.column_rule AS r
	WHERE (r.environment IS NULL OR r.environment = e.name) AND r.schema_name = ANY (s.schemas)
	  AND NOT EXISTS (SELECT FROM jsonb_to_recordset(cols) AS c(schema_name name, table_name name, column_name name)
					  WHERE c.schema_name = r.schema_name AND c.table_name = r.table_name AND c.column_name = r.column_name)
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
	SELECT c.problem, c.table_name, c.detail, c.suggestion FROM tdgen.code_problems(s.name, e.name) AS c
	ORDER BY 2, 1;

	-- columns seen for the first time: an alert each
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
	s tdgen.source := tdgen.resolve_source(e.source);
	problems jsonb;
	sugs jsonb := '{}';
	t record;
BEGIN
	SELECT coalesce(jsonb_agg(to_jsonb(p)), '[]') INTO problems FROM tdgen.check_problems(environment) AS p;
	FOR t IN
		SELECT (tdgen.parse_name(x ->> 'column_name', 3))[1] AS schema_name,
			   (tdgen.parse_name(x ->> 'column_name', 3))[2] AS table_name,
			   array_agg((tdgen.parse_name(x ->> 'column_name', 3))[3]) AS cols
		FROM jsonb_array_elements(problems) AS x
		WHERE x ->> 'problem' = 'unreviewed'
		GROUP BY 1, 2
	LOOP
		SELECT sugs || coalesce(jsonb_object_agg(tdgen.qualified(t.schema_name, t.table_name, x.column_name),
												 jsonb_build_object('category', x.category, 'transform', x.transform,
																	'params', x.params, 'reason', x.reason)), '{}')
		INTO sugs
		FROM tdgen.scan_table(s, t.schema_name, t.table_name, t.cols, 100, 0.5) AS x
		WHERE x.category IS NOT NULL;
	END LOOP;

	RETURN QUERY
	SELECT x.problem, x.column_name,
		   x.detail || CASE WHEN sugs ? x.column_name
							THEN format('; looks like %s (%s)', sugs -> x.column_name ->> 'category',
										sugs -> x.column_name ->> 'reason')
							ELSE '' END,
		   CASE WHEN x.problem <> 'unreviewed' THEN x.suggestion
				WHEN sugs ? x.column_name
				THEN format('SELECT tdgen_rule(%L, %L%s);', x.column_name, sugs -> x.column_name ->> 'transform',
							CASE WHEN sugs -> x.column_name -> 'params' <> '{}'
								 THEN format(', %L', sugs -> x.column_name -> 'params') ELSE '' END)
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
	n integer;
	lines text;
	hints text;
BEGIN
	SELECT pg_catalog.count(*), pg_catalog.jsonb_agg(pg_catalog.to_jsonb(c)),
		   pg_catalog.string_agg(c.problem || ': ' || c.detail, E'\n' ORDER BY c.column_name, c.problem),
		   pg_catalog.string_agg(DISTINCT c.suggestion, E'\n')
	INTO n, problems, lines, hints
	FROM @extschema@.tdgen_check(environment) AS c;
	IF n = 0 THEN
		RETURN;
	END IF;
	PERFORM tdgen.raise_alert('gate_refused', e.source, e.name,
							  pg_catalog.format('refresh of %s refused: %s problem(s) in the rules', e.name, n),
							  pg_catalog.jsonb_build_object('problems', problems));
	IF NOT tdgen.in_transaction_block() THEN
		COMMIT;
	END IF;
	RAISE EXCEPTION 'tdgen: % problem(s) with the rules of environment %', n, pg_catalog.quote_literal(e.name)
		USING ERRCODE = 'TG001', DETAIL = lines,
			  HINT = 'Write a rule or a keep for each column, for example:' || E'\n' || coalesce(hints, '');
END
$$;

REVOKE ALL ON FUNCTION tdgen.raise_alert(text, text, text, text, jsonb), tdgen_check(text), tdgen.code_problems(text, text),
	tdgen.check_problems(text) FROM PUBLIC;
REVOKE ALL ON PROCEDURE tdgen_gate(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tdgen_check(text),
	tdgen.raise_alert(text, text, text, text, jsonb) TO tdgen_admin;
GRANT EXECUTE ON PROCEDURE tdgen_gate(text) TO tdgen_admin;

COMMENT ON FUNCTION tdgen.code_problems(text, text) IS
	'what production''s copied objects need in staging: code outside pg_catalog and the trusted schemas (untrusted_code), extensions staging lacks (missing_extension), per table';
COMMENT ON FUNCTION tdgen.raise_alert(text, text, text, text, jsonb) IS
	'records an alert and sends it as NOTIFY tdgen_alert with a JSON payload';
COMMENT ON FUNCTION tdgen.table_mode_of(text, name, name) IS
	'the mode of a production table in an environment: copy, empty or skip';
COMMENT ON FUNCTION tdgen.effective_columns(text, jsonb, jsonb) IS
	'every production column with its table''s mode and the rule that holds for it in the environment, own or by foreign key';
COMMENT ON FUNCTION tdgen.check_problems(environment text) IS
	'every problem that stops a refresh of the environment: unreviewed, column_gone, type_changed, not_injective, type_mismatch, not_null, foreign_key';
COMMENT ON FUNCTION tdgen_check(text) IS
	'every problem that stops a refresh of the environment, with a suggested call: the scan''s rule for an unreviewed column, or a keep to fill in';
COMMENT ON PROCEDURE tdgen_gate(text) IS
	'raises TG001 (with the problems in DETAIL and suggested rules in HINT) and an alert while tdgen_check finds problems';
