-- ===========================================================================
-- schema/rules.sql
--     The SQL API that migrations call: column rules, keeps, table modes,
--     categories, and an export of them all as a script.
--
-- Each function validates at once and raises 22023 (bad transform or
-- parameter), 42602 (malformed identifier) or 42622 (identifier too long)
-- with a hint; none commits, so a migration's transaction stays whole, and
-- each is idempotent.  Identifiers are parsed as SQL does (parse_ident:
-- unquoted parts fold to lower case, quoted ones are kept) and only ever
-- reach SQL text through format('%I').
-- ===========================================================================

-- 'schema.table.column' (parts = 3) or 'schema.table' (parts = 2) as names.
CREATE FUNCTION tdgen.parse_name(qualified text, parts integer)
RETURNS name[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	ident text[];
	shape text := CASE parts WHEN 3 THEN 'schema.table.column' ELSE 'schema.table' END;
BEGIN
	BEGIN
		ident := parse_ident(qualified, true);
	EXCEPTION WHEN invalid_parameter_value OR null_value_not_allowed THEN
		ident := NULL;
	END;
	IF ident IS NULL OR cardinality(ident) <> parts OR '' = ANY (ident) THEN
		RAISE EXCEPTION '% is not a % name', coalesce(quote_literal(qualified), 'NULL'), shape
			USING ERRCODE = 'invalid_name',
				  HINT = format('Write %s, each part an SQL identifier; double-quote parts with upper case, spaces, dots or quotes, as in ''public."Order Items"%s''.',
								shape, CASE parts WHEN 3 THEN '."Unit Price"' ELSE '' END);
	END IF;
	FOR i IN 1 .. parts LOOP
		IF octet_length(ident[i]) >= 64 THEN
			RAISE EXCEPTION 'identifier % is longer than 63 bytes', quote_ident(left(ident[i], 63)) || '...'
				USING ERRCODE = 'name_too_long',
					  HINT = 'PostgreSQL names are at most 63 bytes: give the name as production has it.';
		END IF;
	END LOOP;
	RETURN ident::name[];
END
$$;

-- The three parts as one string, quoted only where SQL needs it.
CREATE FUNCTION tdgen.qualified(VARIADIC parts name[])
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT string_agg(quote_ident(p), '.' ORDER BY i) FROM unnest(parts) WITH ORDINALITY AS u(p, i));

CREATE FUNCTION tdgen.check_environment(environment text)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF environment IS NOT NULL THEN
		PERFORM tdgen.resolve_environment(environment);
	END IF;
END
$$;

-- Raise 22023 unless params suit the transform's parameters in the registry.
CREATE FUNCTION tdgen.validate_transform(transform text, params jsonb)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	t tdgen.transform;
	p record;
	v jsonb;
	want text;
	ok boolean;
BEGIN
	-- the inverse of fpe_encrypt turns pseudonyms back into production
	-- values: no rule may name it, at any depth
	IF transform = 'fpe_decrypt' THEN
		RAISE EXCEPTION 'transform "fpe_decrypt" cannot be used in a rule'
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'fpe_decrypt reverses fpe_encrypt; mask with fpe_encrypt, or another transform.';
	END IF;
	SELECT * INTO t FROM tdgen.transform AS tr WHERE tr.name = transform;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown transform %', coalesce(quote_literal(transform), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The transforms are listed by SELECT name FROM tdgen.transform.';
	END IF;
	IF params IS NULL OR jsonb_typeof(params) <> 'object' THEN
		RAISE EXCEPTION 'parameters of transform % must be a JSON object', quote_literal(transform)
			USING ERRCODE = 'invalid_parameter_value', HINT = 'For example ''{"keep_leading": 2}'', or ''{}''.';
	END IF;
	FOR p IN SELECT key FROM jsonb_object_keys(params) AS key
			 WHERE key <> 'scope' AND NOT t.parameters ? key
	LOOP
		RAISE EXCEPTION 'transform % has no parameter %', quote_literal(transform), quote_literal(p.key)
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = format('Its parameters: %s.', coalesce((SELECT string_agg(k, ', ') FROM jsonb_object_keys(t.parameters) AS k), 'none'));
	END LOOP;
	IF params ? 'scope' AND jsonb_typeof(params -> 'scope') <> 'string' THEN
		RAISE EXCEPTION 'parameter "scope" must be a string' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR p IN SELECT key, value FROM jsonb_each(t.parameters) LOOP
		v := params -> p.key;
		want := p.value ->> 'type';
		IF v IS NULL THEN
			IF p.value -> 'default' = 'null' THEN
				RAISE EXCEPTION 'transform % needs parameter %', quote_literal(transform), quote_literal(p.key)
					USING ERRCODE = 'invalid_parameter_value',
						  HINT = format('Give it in the parameters, e.g. ''{"%s": ...}''.', p.key);
			END IF;
			CONTINUE;
		END IF;
		ok := CASE want
				  WHEN 'integer' THEN jsonb_typeof(v) = 'number' AND (v::text)::numeric = trunc((v::text)::numeric)
									  AND (v::text)::numeric BETWEEN 0 AND 2147483647
				  WHEN 'boolean' THEN jsonb_typeof(v) = 'boolean'
				  WHEN 'text' THEN jsonb_typeof(v) = 'string'
				  WHEN 'column' THEN jsonb_typeof(v) = 'string' AND v #>> '{}' <> '' AND octet_length(v #>> '{}') < 64
				  WHEN 'double precision' THEN jsonb_typeof(v) = 'number'
				  WHEN 'numeric' THEN jsonb_typeof(v) = 'number'
				  ELSE true END;
		IF NOT ok THEN
			RAISE EXCEPTION 'parameter % of transform % must be %', quote_literal(p.key), quote_literal(transform),
				CASE want WHEN 'integer' THEN 'a non-negative integer' WHEN 'text' THEN 'a string'
						  WHEN 'column' THEN 'the name of a column of the same table'
						  WHEN 'boolean' THEN 'true or false' ELSE 'a number' END
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;

	IF transform = 'birth_part' AND params ->> 'part' NOT IN ('year', 'month', 'day') THEN
		RAISE EXCEPTION 'parameter "part" of transform "birth_part" must be "year", "month" or "day"'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example ''{"part": "month", "born": "birth_date"}''.';
	END IF;

	-- what nests transforms checks them the way it will run them
	IF transform = 'array_mask' THEN
		PERFORM tdgen.validate_transform(params ->> 'transform', coalesce(params -> 'params', '{}'));
		PERFORM tdgen.array_mask('{}'::text[], params ->> 'transform', coalesce(params -> 'params', '{}'));
	ELSIF transform = 'jsonb_mask' THEN
		FOR v IN SELECT value FROM jsonb_each(CASE jsonb_typeof(params -> 'spec') WHEN 'object' THEN params -> 'spec' END) LOOP
			IF jsonb_typeof(v) = 'string' THEN
				PERFORM tdgen.validate_transform(v #>> '{}', '{}');
			ELSIF jsonb_typeof(v) = 'object' THEN
				PERFORM tdgen.validate_transform(v ->> 'transform', v - 'transform');
			END IF;
		END LOOP;
		PERFORM tdgen.jsonb_mask('{}'::jsonb, params -> 'spec');
	END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- Column rules and table modes
-- ---------------------------------------------------------------------------

-- The production type tdgen last saw for a column, if any.
CREATE FUNCTION tdgen.seen_type(col name[])
RETURNS text
LANGUAGE sql STABLE
RETURN (SELECT min(s.column_type) FROM tdgen.seen_column AS s
		WHERE s.schema_name = col[1] AND s.table_name = col[2] AND s.column_name = col[3]);

CREATE FUNCTION tdgen.put_rule(col name[], environment text, action text, transform text, params jsonb, reason text)
RETURNS void
LANGUAGE sql
BEGIN ATOMIC
	INSERT INTO tdgen.column_rule AS r (schema_name, table_name, column_name, environment, action, transform,
										params, reason, column_type)
	VALUES (col[1], col[2], col[3], environment, action, transform, params, reason, tdgen.seen_type(col))
	ON CONFLICT ON CONSTRAINT column_rule_one DO UPDATE
	SET action = excluded.action, transform = excluded.transform, params = excluded.params,
		reason = excluded.reason, column_type = excluded.column_type,
		updated_at = now(), updated_by = session_user;
END;

CREATE FUNCTION tdgen_rule(column_name text, transform text, params jsonb DEFAULT '{}', environment text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	col name[] := tdgen.parse_name(column_name, 3);
BEGIN
	PERFORM tdgen.validate_transform(transform, coalesce(params, '{}'));
	PERFORM tdgen.check_environment(environment);
	PERFORM tdgen.put_rule(col, environment, 'mask', transform, coalesce(params, '{}'), NULL);
END
$$;

CREATE FUNCTION tdgen_keep(column_name text, reason text, environment text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	col name[] := tdgen.parse_name(column_name, 3);
BEGIN
	IF coalesce(btrim(reason), '') = '' THEN
		RAISE EXCEPTION 'keeping % unmasked needs a reason', tdgen.qualified(VARIADIC col)
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Say why the column holds nothing personal, e.g. tdgen_keep(''public.orders.status'', ''order state, not personal'').';
	END IF;
	PERFORM tdgen.check_environment(environment);
	PERFORM tdgen.put_rule(col, environment, 'keep', NULL, '{}', reason);
END
$$;

CREATE FUNCTION tdgen_drop_rule(column_name text, environment text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	col name[] := tdgen.parse_name(column_name, 3);
BEGIN
	DELETE FROM tdgen.column_rule AS r
	WHERE r.schema_name = col[1] AND r.table_name = col[2] AND r.column_name = col[3]
	  AND r.environment IS NOT DISTINCT FROM tdgen_drop_rule.environment;
	RETURN FOUND;
END
$$;

CREATE FUNCTION tdgen_table_mode(table_name text, mode text, environment text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	tbl name[] := tdgen.parse_name(table_name, 2);
BEGIN
	IF mode IS NULL OR mode NOT IN ('copy', 'empty', 'skip', 'lookup') THEN
		RAISE EXCEPTION 'unknown table mode %', coalesce(quote_literal(mode), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'A table is copied (copy, the default), created without rows (empty), left out (skip), or in a subset copied whole and never expanded from (lookup).';
	END IF;
	PERFORM tdgen.check_environment(environment);
	INSERT INTO tdgen.table_mode AS m (schema_name, table_name, environment, mode)
	VALUES (tbl[1], tbl[2], environment, mode)
	ON CONFLICT ON CONSTRAINT table_mode_one DO UPDATE
	SET mode = excluded.mode, updated_at = now(), updated_by = session_user;
END
$$;

CREATE FUNCTION tdgen_drop_table_mode(table_name text, environment text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	tbl name[] := tdgen.parse_name(table_name, 2);
BEGIN
	DELETE FROM tdgen.table_mode AS m
	WHERE m.schema_name = tbl[1] AND m.table_name = tbl[2]
	  AND m.environment IS NOT DISTINCT FROM tdgen_drop_table_mode.environment;
	RETURN FOUND;
END
$$;

-- ---------------------------------------------------------------------------
-- Categories
-- ---------------------------------------------------------------------------

CREATE FUNCTION tdgen.check_pattern(pattern text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM '' ~* pattern;
EXCEPTION WHEN invalid_regular_expression THEN
	RAISE EXCEPTION 'invalid regular expression %', quote_literal(pattern)
		USING ERRCODE = 'invalid_regular_expression', HINT = 'Patterns are POSIX regular expressions, matched case-insensitively.';
END
$$;

CREATE FUNCTION tdgen_category(name text, transform text, column_patterns text[],
							   value_patterns text[] DEFAULT '{}', params jsonb DEFAULT '{}',
							   type_classes text[] DEFAULT '{text}', confidence real DEFAULT 0.8,
							   description text DEFAULT NULL, table_patterns text[] DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF name IS NULL OR name !~ '^[a-z][a-z0-9_]{0,62}$' THEN
		RAISE EXCEPTION 'invalid category name %', coalesce(quote_literal(name), 'NULL')
			USING ERRCODE = 'invalid_name', HINT = 'Lower-case letters, digits and underscores, starting with a letter.';
	END IF;
	IF EXISTS (SELECT FROM tdgen.category AS c WHERE c.name = tdgen_category.name AND c.builtin) THEN
		RAISE EXCEPTION 'category % is built in', quote_literal(name)
			USING ERRCODE = 'duplicate_object',
				  HINT = 'Add patterns to it with tdgen_category_pattern(), or disable it and define one of another name.';
	END IF;
	PERFORM tdgen.validate_transform(transform, coalesce(params, '{}'));
	PERFORM tdgen.check_pattern(p) FROM unnest(column_patterns || value_patterns || table_patterns) AS p;
	IF cardinality(coalesce(column_patterns, '{}')) + cardinality(coalesce(value_patterns, '{}')) = 0 THEN
		RAISE EXCEPTION 'category % needs a column or value pattern', quote_literal(name)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF confidence IS NULL OR confidence <= 0 OR confidence > 1 THEN
		RAISE EXCEPTION 'confidence must be in (0, 1]' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT coalesce(type_classes <@ ARRAY['text', 'integer', 'numeric', 'date', 'timestamp', 'network', 'uuid', 'json',
										  'text_array', 'binary', 'enum', 'boolean', 'other'], false) THEN
		RAISE EXCEPTION 'unknown type class in %', coalesce(type_classes::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Type classes: text, integer, numeric, date, timestamp, network, uuid, json, text_array, binary, enum, boolean, other.';
	END IF;
	DELETE FROM tdgen.category AS c WHERE c.name = tdgen_category.name;
	INSERT INTO tdgen.category (name, description, type_classes, confidence, transform, params)
	VALUES (name, coalesce(description, name), type_classes, confidence, transform, coalesce(params, '{}'));
	INSERT INTO tdgen.category_pattern (category, kind, pattern)
	SELECT DISTINCT name, k.kind, k.pattern
	FROM (SELECT 'column', unnest(column_patterns) UNION ALL SELECT 'value', unnest(value_patterns)
		  UNION ALL SELECT 'table', unnest(table_patterns)) AS k(kind, pattern);
END
$$;

CREATE FUNCTION tdgen_category_pattern(category text, kind text, pattern text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NOT EXISTS (SELECT FROM tdgen.category AS c WHERE c.name = category) THEN
		RAISE EXCEPTION 'no category named %', coalesce(quote_literal(category), 'NULL')
			USING ERRCODE = 'undefined_object', HINT = 'The categories are listed by SELECT name FROM tdgen.category.';
	END IF;
	IF kind IS NULL OR kind NOT IN ('column', 'value', 'table') THEN
		RAISE EXCEPTION 'pattern kind must be column, value or table' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM tdgen.check_pattern(pattern);
	INSERT INTO tdgen.category_pattern AS p (category, kind, pattern) VALUES (category, kind, pattern)
	ON CONFLICT ON CONSTRAINT category_pattern_pkey DO NOTHING;
END
$$;

CREATE FUNCTION tdgen_drop_category(name text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	DELETE FROM tdgen.category AS c WHERE c.name = tdgen_drop_category.name;
	RETURN FOUND;
END
$$;

CREATE FUNCTION tdgen_disable_category(name text, reason text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NOT EXISTS (SELECT FROM tdgen.category AS c WHERE c.name = tdgen_disable_category.name) THEN
		RAISE EXCEPTION 'no category named %', coalesce(quote_literal(name), 'NULL')
			USING ERRCODE = 'undefined_object', HINT = 'The categories are listed by SELECT name FROM tdgen.category.';
	END IF;
	IF coalesce(btrim(reason), '') = '' THEN
		RAISE EXCEPTION 'disabling a category needs a reason' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO tdgen.category_disabled AS d (category, reason) VALUES (name, reason)
	ON CONFLICT ON CONSTRAINT category_disabled_pkey DO UPDATE SET reason = excluded.reason;
END
$$;

CREATE FUNCTION tdgen_enable_category(name text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	DELETE FROM tdgen.category_disabled AS d WHERE d.category = tdgen_enable_category.name;
	RETURN FOUND;
END
$$;

-- ---------------------------------------------------------------------------
-- Export
-- ---------------------------------------------------------------------------

-- Every user setting as the calls that recreate it, sources and
-- environments first: for migration tools that keep only the schema.  The
-- foreign servers and user mappings they name are the user's own.
CREATE FUNCTION tdgen_export_rules()
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT '-- tdgen rules, exported ' || to_char(now(), 'YYYY-MM-DD HH24:MI:SSOF') || E'\n'
		   || coalesce(string_agg(stmt, E'\n' ORDER BY ord, k1, k2, k3, k4), '') || E'\n'
	FROM (
		SELECT 0 AS ord, '1' || src.name AS k1, '' AS k2, '' AS k3, '' AS k4,
			   format('SELECT tdgen_source(%L, %L, %L);', src.name, src.server, src.schemas) AS stmt
		FROM tdgen.source AS src
		UNION ALL
		SELECT 0, '2' || e.name, '', '', '',
			   format('SELECT tdgen_environment(%L, %L, %L, %L, %L);', e.name, e.source, e.target_schema, e.options, e.owner)
		FROM tdgen.environment AS e
		UNION ALL
		SELECT 0, '3' || g.environment, g.privilege, g.role, '',
			   format('SELECT tdgen_grant(%L, %L, %L);', g.environment, g.privilege, g.role)
		FROM tdgen.environment_grant AS g
		UNION ALL
		SELECT 1 AS ord, c.name AS k1, '' AS k2, '' AS k3, '' AS k4,
			   format('SELECT tdgen_category(%L, %L, %L, %L, %L, %L, %s, %L, %L);', c.name, c.transform,
					  (SELECT coalesce(array_agg(p.pattern ORDER BY p.pattern), '{}') FROM tdgen.category_pattern AS p
					   WHERE p.category = c.name AND p.kind = 'column'),
					  (SELECT coalesce(array_agg(p.pattern ORDER BY p.pattern), '{}') FROM tdgen.category_pattern AS p
					   WHERE p.category = c.name AND p.kind = 'value'),
					  c.params, c.type_classes, c.confidence, c.description,
					  (SELECT coalesce(array_agg(p.pattern ORDER BY p.pattern), '{}') FROM tdgen.category_pattern AS p
					   WHERE p.category = c.name AND p.kind = 'table')) AS stmt
		FROM tdgen.category AS c WHERE NOT c.builtin
		UNION ALL
		SELECT 2, p.category, p.kind, p.pattern, '',
			   format('SELECT tdgen_category_pattern(%L, %L, %L);', p.category, p.kind, p.pattern)
		FROM tdgen.category_pattern AS p JOIN tdgen.category AS c ON c.name = p.category
		WHERE c.builtin AND NOT p.builtin
		UNION ALL
		SELECT 3, d.category, '', '', '', format('SELECT tdgen_disable_category(%L, %L);', d.category, d.reason)
		FROM tdgen.category_disabled AS d
		UNION ALL
		SELECT 4, m.schema_name, m.table_name, coalesce(m.environment, ''), '',
			   format('SELECT tdgen_table_mode(%L, %L%s);', tdgen.qualified(m.schema_name, m.table_name), m.mode,
					  CASE WHEN m.environment IS NOT NULL THEN format(', %L', m.environment) ELSE '' END)
		FROM tdgen.table_mode AS m
		UNION ALL
		SELECT 5, r.schema_name, r.table_name, r.column_name, coalesce(r.environment, ''),
			   CASE r.action
				   WHEN 'mask' THEN format('SELECT tdgen_rule(%L, %L, %L%s);',
										   tdgen.qualified(r.schema_name, r.table_name, r.column_name),
										   r.transform, r.params,
										   CASE WHEN r.environment IS NOT NULL THEN format(', %L', r.environment) ELSE '' END)
				   ELSE format('SELECT tdgen_keep(%L, %L%s);',
							   tdgen.qualified(r.schema_name, r.table_name, r.column_name), r.reason,
							   CASE WHEN r.environment IS NOT NULL THEN format(', %L', r.environment) ELSE '' END) END
		FROM tdgen.column_rule AS r
		UNION ALL
		SELECT 6, t.environment, t.schema_name, t.table_name, '',
			   format('SELECT tdgen_subset_target(%L, %L, percent => %L, "where" => %L, "limit" => %L, order_by => %L);',
					  t.environment, tdgen.qualified(t.schema_name, t.table_name), t.percent, t."where", t."limit", t.order_by)
		FROM tdgen.subset_target AS t
		UNION ALL
		SELECT 7, v.schema_name, v.name, coalesce(v.environment, ''), '',
			   format('SELECT tdgen_relation(%L, %L, %L, %L, "when" => %L, name => %L, environment => %L);',
					  tdgen.qualified(v.schema_name, v.table_name), v.columns, tdgen.qualified(v.ref_schema, v.ref_table),
					  v.ref_columns, v."when", v.name, v.environment)
		FROM tdgen.relation AS v
		UNION ALL
		SELECT 8, g.environment, g.schema_name, g.name, '',
			   format('SELECT tdgen_subset_edge(%L, %L, downward => %L, "where" => %L, per_parent => %L, order_by => %L, max_depth => %L, on_absent => %L);',
					  g.environment, tdgen.qualified(g.schema_name, g.name), g.downward, g."where", g.per_parent, g.order_by,
					  g.max_depth, coalesce(g.on_absent, 'include'))
		FROM tdgen.subset_edge AS g
	) AS s;
END;

-- ---------------------------------------------------------------------------
-- Privileges and comments
-- ---------------------------------------------------------------------------

REVOKE ALL ON FUNCTION tdgen_rule(text, text, jsonb, text), tdgen_keep(text, text, text),
	tdgen_drop_rule(text, text), tdgen_table_mode(text, text, text), tdgen_drop_table_mode(text, text),
	tdgen_category(text, text, text[], text[], jsonb, text[], real, text, text[]),
	tdgen_category_pattern(text, text, text), tdgen_drop_category(text), tdgen_disable_category(text, text),
	tdgen_enable_category(text), tdgen_export_rules(), tdgen.put_rule(name[], text, text, text, jsonb, text)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tdgen_rule(text, text, jsonb, text), tdgen_keep(text, text, text),
	tdgen_drop_rule(text, text), tdgen_table_mode(text, text, text), tdgen_drop_table_mode(text, text),
	tdgen_category(text, text, text[], text[], jsonb, text[], real, text, text[]),
	tdgen_category_pattern(text, text, text), tdgen_drop_category(text), tdgen_disable_category(text, text),
	tdgen_enable_category(text), tdgen_export_rules() TO tdgen_admin;

COMMENT ON FUNCTION tdgen.parse_name(text, integer) IS
	'splits schema.table[.column] as SQL does (quoted parts kept, others folded); 42602 or 42622 when malformed';
COMMENT ON FUNCTION tdgen.qualified(name[]) IS
	'joins name parts with dots, double-quoting where SQL needs it';
COMMENT ON FUNCTION tdgen.check_environment(text) IS
	'raises 42704 unless the environment is NULL or exists';
COMMENT ON FUNCTION tdgen.validate_transform(text, jsonb) IS
	'raises 22023 unless the transform exists and the parameters suit it (names, types, required ones, nested transforms)';
COMMENT ON FUNCTION tdgen.seen_type(name[]) IS
	'the production type last seen for a column, or NULL';
COMMENT ON FUNCTION tdgen.put_rule(name[], text, text, text, jsonb, text) IS
	'writes one column rule (insert or replace)';
COMMENT ON FUNCTION tdgen_rule(text, text, jsonb, text) IS
	'masks a production column (schema.table.column) with a transform and jsonb parameters, for every environment or one';
COMMENT ON FUNCTION tdgen_keep(text, text, text) IS
	'marks a production column as reviewed and safe to copy unmasked, with the reason';
COMMENT ON FUNCTION tdgen_drop_rule(text, text) IS
	'removes the rule (or keep) of a column, general or for one environment; true when there was one';
COMMENT ON FUNCTION tdgen_table_mode(text, text, text) IS
	'sets a production table to copy, empty or skip, for every environment or one';
COMMENT ON FUNCTION tdgen_drop_table_mode(text, text) IS
	'removes a table mode, back to copy; true when there was one';
COMMENT ON FUNCTION tdgen.check_pattern(text) IS
	'raises 2201B unless the text is a valid regular expression';
COMMENT ON FUNCTION tdgen_category(text, text, text[], text[], jsonb, text[], real, text, text[]) IS
	'creates or replaces a user sensitivity category: transform, column/value/table patterns, type classes, confidence';
COMMENT ON FUNCTION tdgen_category_pattern(text, text, text) IS
	'adds a column, value or table pattern to a category, built-in ones included';
COMMENT ON FUNCTION tdgen_drop_category(text) IS
	'removes a user category; true when there was one';
COMMENT ON FUNCTION tdgen_disable_category(text, text) IS
	'switches a category off for the scan, with the reason';
COMMENT ON FUNCTION tdgen_enable_category(text) IS
	'switches a disabled category back on; true when it was off';
COMMENT ON FUNCTION tdgen_export_rules() IS
	'a SQL script of tdgen_* calls that recreates every source, environment, user category, pattern, table mode, rule and keep';
