-- ===========================================================================
-- schema/scan.sql
--     The sensitivity scan: classifies production columns by name, type and
--     a bounded sample of values read remotely, and suggests rules.
--
-- Sampled values live only in the memory of the scanning function: they
-- are matched against the categories' value patterns and validators and
-- dropped.  They are never stored, logged or returned, and the checks
-- below never raise an error that could quote one.
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- Validators: false on anything malformed, never an error
-- ---------------------------------------------------------------------------

CREATE FUNCTION tdgen.luhn_valid(value text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN value !~ '^[0-9 -]+$' THEN false ELSE (
	SELECT length(x.digits) BETWEEN 12 AND 19
		   AND sum(CASE WHEN (length(x.digits) - i) % 2 = 1
						THEN (ARRAY[0, 2, 4, 6, 8, 1, 3, 5, 7, 9])[substr(x.digits, i, 1)::int + 1]
						ELSE substr(x.digits, i, 1)::int END) % 10 = 0
	FROM (SELECT regexp_replace(value, '[^0-9]', '', 'g') AS digits) AS x,
		 generate_series(1, length(x.digits)) AS i
	GROUP BY x.digits) END;

CREATE FUNCTION tdgen.mod97_valid(value text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN upper(replace(value, ' ', '')) !~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$' THEN false ELSE (
	SELECT string_agg(CASE WHEN c ~ '[0-9]' THEN c ELSE (ascii(c) - 55)::text END, '' ORDER BY i)::numeric % 97 = 1
	FROM (SELECT upper(substr(r, 5) || substr(r, 1, 4)) AS s FROM (SELECT replace(value, ' ', '') AS r) AS x) AS y,
		 LATERAL (SELECT substr(y.s, i, 1) AS c, i FROM generate_series(1, length(y.s)) AS i) AS z) END;

CREATE FUNCTION tdgen.value_valid(validator text, value text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE validator
	WHEN 'luhn' THEN tdgen.luhn_valid(value)
	WHEN 'mod97' THEN tdgen.mod97_valid(value)
	WHEN 'email' THEN octet_length(value) <= 254 AND value !~ '\.\.|^\.|\.@|@.*@'
	WHEN 'ssn' THEN value ~ '^[0-9]{3}-?[0-9]{2}-?[0-9]{4}$' AND left(value, 3) NOT IN ('000', '666')
	WHEN 'ip' THEN value !~ '^[0-9.]+(/[0-9]+)?$'
				   OR NOT EXISTS (SELECT FROM unnest(string_to_array(split_part(value, '/', 1), '.')) AS o
								  WHERE o !~ '^[0-9]{1,3}$' OR o::int > 255)
	WHEN 'phone' THEN length(regexp_replace(value, '[^0-9]', '', 'g')) BETWEEN 7 AND 15
	ELSE true END;

-- ---------------------------------------------------------------------------
-- Matching
-- ---------------------------------------------------------------------------

-- The enabled categories.
CREATE VIEW tdgen.active_category AS
	SELECT c.* FROM tdgen.category AS c
	WHERE NOT EXISTS (SELECT FROM tdgen.category_disabled AS d WHERE d.category = c.name);

-- PostgreSQL keeps only a few dozen compiled regular expressions per
-- backend, fewer than the categories have patterns.  So every match below
-- takes one pattern at a time (the outer side of a LATERAL join) and
-- applies it to all the names or values at hand, instead of trying every
-- pattern on one name after another, which would compile each pattern
-- again for every name.

-- For names[i] (a column name) of class classes[i] in a table: each
-- enabled category whose column patterns match it, when the category's
-- table patterns (if it has any) match the table.
CREATE FUNCTION tdgen.name_matches(table_name text, names text[], classes text[])
RETURNS TABLE (idx integer, category text, confidence real)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	WITH in_table AS (
		SELECT c.name, c.confidence, c.type_classes
		FROM tdgen.active_category AS c
		WHERE NOT EXISTS (SELECT FROM tdgen.category_pattern AS p WHERE p.category = c.name AND p.kind = 'table')
		   OR EXISTS (SELECT FROM tdgen.category_pattern AS p
					  WHERE p.category = c.name AND p.kind = 'table' AND table_name ~* p.pattern)
	)
	SELECT DISTINCT x.i::integer, c.name, c.confidence
	FROM in_table AS c
	JOIN tdgen.category_pattern AS p ON p.category = c.name AND p.kind = 'column'
	CROSS JOIN LATERAL (SELECT u.i FROM unnest(names, classes) WITH ORDINALITY AS u(n, cls, i)
						WHERE u.cls = ANY (c.type_classes) AND u.n ~* p.pattern) AS x;
END;

-- Per enabled category with value patterns that takes the type class: the
-- share of the values that match one of its patterns and pass its
-- validator (0 when none does).
CREATE FUNCTION tdgen.value_matches(vals text[], type_class text)
RETURNS TABLE (category text, ratio real)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT c.name,
		   (count(DISTINCT x.i) FILTER (WHERE x.i IS NOT NULL AND tdgen.value_valid(c.validator, x.v)))::real
		   / greatest(cardinality(vals), 1)
	FROM tdgen.active_category AS c
	JOIN tdgen.category_pattern AS p ON p.category = c.name AND p.kind = 'value'
	LEFT JOIN LATERAL (SELECT u.v, u.i FROM unnest(vals) WITH ORDINALITY AS u(v, i) WHERE u.v ~* p.pattern) AS x ON true
	WHERE type_class = ANY (c.type_classes)
	GROUP BY c.name;
END;

-- Whether a transform can take a column of the given type.
CREATE FUNCTION tdgen.transform_fits(transform text, base_type regtype, type_class text)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN EXISTS (
	SELECT FROM tdgen.transform AS t, unnest(t.input_types) AS it
	WHERE t.name = transform
	  AND (it = 'any'
		   OR (it = 'text' AND type_class = 'text')
		   OR (it = 'text[]' AND type_class = 'text_array')
		   OR to_regtype(it) = base_type));

-- Whether a rule keeps distinct values distinct.
CREATE FUNCTION tdgen.rule_injective(transform text, params jsonb)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN EXISTS (SELECT FROM tdgen.transform AS t
			   WHERE t.name = transform AND (t.injective OR coalesce(params, '{}') @> t.injective_with));

-- The best category for one column and the rule to suggest.  names: the
-- categories its name matches ({category: confidence}, from name_matches);
-- vals: the sampled values (NULL when not sampled); json_spec: for a JSON
-- column, the jsonb_mask spec built from its personal fields.
CREATE FUNCTION tdgen.suggest(names jsonb, type_class text, base_type regtype, in_unique boolean,
							  vals text[], json_spec jsonb, min_confidence real,
							  OUT category text, OUT transform text, OUT params jsonb, OUT confidence real,
							  OUT reason text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	best record;
	n integer := coalesce(cardinality(vals), 0);
BEGIN
	SELECT m.category, m.score, m.why INTO best
	FROM (
		SELECT c.name AS category,
			   CASE WHEN nm.key IS NOT NULL AND vm.ratio >= 0.5 THEN least(1, c.confidence + 0.05)
					WHEN nm.key IS NOT NULL AND vm.ratio < 0.2 AND n >= 10 THEN c.confidence * 0.5
					WHEN nm.key IS NOT NULL THEN c.confidence
					WHEN vm.ratio >= 0.8 AND n >= 10 THEN c.confidence * 0.9 * vm.ratio
					ELSE 0 END::real AS score,
			   concat_ws('; ',
						 CASE WHEN nm.key IS NOT NULL THEN 'column name matches ' || c.name END,
						 CASE WHEN vm.ratio IS NOT NULL AND n > 0
							  THEN format('%s%% of %s sampled values match%s', round(vm.ratio * 100), n,
										  CASE WHEN c.validator IS NOT NULL THEN ' and pass the ' || c.validator || ' check' ELSE '' END) END)
				   AS why
		FROM tdgen.active_category AS c
		LEFT JOIN jsonb_each(coalesce(names, '{}')) AS nm ON nm.key = c.name
		LEFT JOIN tdgen.value_matches(vals, type_class) AS vm ON vm.category = c.name AND n > 0
		WHERE nm.key IS NOT NULL OR vm.ratio IS NOT NULL
	) AS m
	WHERE m.score > 0
	ORDER BY m.score DESC, m.category
	LIMIT 1;

	IF type_class = 'json' AND json_spec IS NOT NULL AND json_spec <> '{}' THEN
		category := 'personal_json';
		transform := 'jsonb_mask';
		params := jsonb_build_object('spec', json_spec);
		confidence := greatest(coalesce(best.score, 0), 0.85);
		reason := 'personal fields in the sampled documents: '
				  || (SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(json_spec) AS k);
		RETURN;
	END IF;
	IF best.category IS NULL OR best.score < min_confidence OR (type_class = 'json') THEN
		reason := coalesce(CASE WHEN best.category IS NOT NULL
								THEN format('weak match (%s, %s): %s', best.category, round(best.score::numeric, 2), best.why) END,
						   'no sensitive pattern in the name or the sampled values');
		RETURN;
	END IF;

	category := best.category;
	confidence := best.score;
	reason := best.why;
	SELECT c.transform, c.params INTO transform, params FROM tdgen.category AS c WHERE c.name = best.category;

	-- a text transform on an array of text: element by element
	IF type_class = 'text_array' AND tdgen.transform_fits(transform, NULL, 'text') THEN
		params := jsonb_build_object('transform', transform, 'params', params);
		transform := 'array_mask';
	END IF;
	-- the category's transform does not take this type: the nearest that does
	IF NOT tdgen.transform_fits(transform, base_type, type_class) THEN
		SELECT f.t, '{}'::jsonb INTO transform, params
		FROM (VALUES ('scramble'), ('pseudo_int'), ('noise'), ('date_shift'), ('ip'), ('uuid'), ('nullify')) AS f(t)
		WHERE tdgen.transform_fits(f.t, base_type, type_class)
		LIMIT 1;
		reason := reason || format('; %s takes no %s, so %s', (SELECT c.transform FROM tdgen.category AS c
																WHERE c.name = best.category),
								   coalesce(base_type::text, type_class), transform);
	END IF;
	-- a unique column needs distinct outputs
	IF in_unique AND NOT tdgen.rule_injective(transform, params) THEN
		IF EXISTS (SELECT FROM tdgen.transform AS t WHERE t.name = transform AND t.injective_with IS NOT NULL) THEN
			params := params || (SELECT t.injective_with FROM tdgen.transform AS t WHERE t.name = transform);
		ELSE
			SELECT f.t, '{}'::jsonb INTO transform, params
			FROM (VALUES ('hash'), ('pseudo_int'), ('uuid'), ('ip')) AS f(t)
			WHERE tdgen.transform_fits(f.t, base_type, type_class)
			LIMIT 1;
		END IF;
		reason := reason || '; unique column, so an injective transform';
	END IF;
END
$$;

-- The jsonb_mask spec for sampled JSON documents: each leaf path whose key
-- (alone, or joined with its parent's either way round) or values match a
-- category with a text transform.
CREATE FUNCTION tdgen.json_spec(docs jsonb[], table_name text, min_confidence real)
RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	leaves jsonb;
	spec jsonb := '{}';
	lf record;
	sug record;
BEGIN
	WITH RECURSIVE walk(path, key, parent, val, depth) AS (
		SELECT '$', NULL::text, NULL::text, d, 0 FROM unnest(docs) AS d
		UNION ALL
		SELECT w.path || CASE WHEN e.key IS NULL THEN '[*]'
							  WHEN e.key ~ '^[A-Za-z_][A-Za-z0-9_]*$' THEN '.' || e.key
							  ELSE '."' || e.key || '"' END,
			   coalesce(e.key, w.key), CASE WHEN e.key IS NULL THEN w.parent ELSE w.key END, e.value, w.depth + 1
		FROM walk AS w,
			 LATERAL (SELECT o.key, o.value FROM jsonb_each(CASE WHEN jsonb_typeof(w.val) = 'object' THEN w.val END) AS o
					  UNION ALL
					  SELECT NULL, a.value FROM jsonb_array_elements(CASE WHEN jsonb_typeof(w.val) = 'array' THEN w.val END) AS a) AS e
		WHERE w.depth < 16 AND (e.key IS NULL OR e.key !~ '"')
	), leaf AS (
		SELECT path, min(key) AS key, min(parent) AS parent, array_agg(left(val #>> '{}', 256)) AS vals
		FROM walk
		WHERE jsonb_typeof(val) IN ('string', 'number') AND key IS NOT NULL
		GROUP BY path
	), named AS (
		-- the three names of each leaf, matched in one pass
		SELECT l.path, l.vals, cand.name, row_number() OVER () AS i
		FROM leaf AS l,
			 LATERAL (VALUES (l.key), (l.parent || '_' || l.key), (l.key || '_' || l.parent)) AS cand(name)
		WHERE cand.name IS NOT NULL
	), matched AS (
		SELECT nm.idx, nm.category, nm.confidence
		FROM tdgen.name_matches(table_name, (SELECT array_agg(name ORDER BY i) FROM named),
								(SELECT array_agg('text'::text ORDER BY i) FROM named)) AS nm
	)
	SELECT coalesce(jsonb_agg(jsonb_build_object(
			   'path', l.path, 'vals', to_jsonb(l.vals),
			   'names', (SELECT coalesce(jsonb_object_agg(m.category, m.confidence), '{}')
						 FROM named AS nd JOIN matched AS m ON m.idx = nd.i WHERE nd.path = l.path))), '[]')
	INTO leaves
	FROM leaf AS l;

	FOR lf IN SELECT x ->> 'path' AS path, x -> 'names' AS names,
					   ARRAY(SELECT jsonb_array_elements_text(x -> 'vals')) AS vals
				FROM jsonb_array_elements(leaves) AS x
	LOOP
		sug := tdgen.suggest(lf.names, 'text', 'text'::regtype, false, lf.vals, NULL, min_confidence);
		IF sug.category IS NOT NULL AND tdgen.transform_fits(sug.transform, NULL, 'text') THEN
			spec := spec || jsonb_build_object(lf.path,
											   CASE WHEN sug.params = '{}' THEN to_jsonb(sug.transform)
													ELSE sug.params || jsonb_build_object('transform', sug.transform) END);
		END IF;
	END LOOP;
	leaves := NULL;
	RETURN spec;
END
$$;

-- Suggestions for columns of one table: the values of each column that a
-- value pattern could match are sampled remotely, LIMIT sample_size.
CREATE FUNCTION tdgen.scan_table(s tdgen.source, schema_name name, table_name name, column_names name[],
								 sample_size integer, min_confidence real)
RETURNS TABLE (column_name name, type_name text, category text, transform text, params jsonb,
			   confidence real, reason text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	c record;
	ft text;
	vals text[];
	docs jsonb[];
	sug record;
	cols jsonb;
	names jsonb;
BEGIN
	SELECT format('%I.%I', s.local_schema, r.local_name) INTO ft
	FROM tdgen.source_relation AS r
	WHERE r.source = s.name AND r.schema_name = scan_table.schema_name AND r.table_name = scan_table.table_name;

	SELECT coalesce(jsonb_agg(to_jsonb(rc) ORDER BY rc.attnum), '[]') INTO cols
	FROM tdgen.remote_columns(s.name) AS rc
	WHERE rc.schema_name = scan_table.schema_name AND rc.table_name = scan_table.table_name
	  AND rc.column_name = ANY (column_names);
	-- the names of all the columns, matched in one pass: {"column": {category: confidence}}
	SELECT coalesce(jsonb_object_agg(x.column_name, x.cats), '{}') INTO names
	FROM (SELECT (cols -> (nm.idx - 1)) ->> 'column_name' AS column_name, jsonb_object_agg(nm.category, nm.confidence) AS cats
		  FROM tdgen.name_matches(scan_table.table_name,
								  ARRAY(SELECT e ->> 'column_name' FROM jsonb_array_elements(cols) AS e),
								  ARRAY(SELECT e ->> 'type_class' FROM jsonb_array_elements(cols) AS e)) AS nm
		  GROUP BY 1) AS x;

	FOR c IN
		SELECT * FROM jsonb_to_recordset(cols) AS x(column_name name, table_name name, type_name text,
													base_type regtype, type_class text, in_unique boolean)
	LOOP
		vals := NULL;
		docs := NULL;
		IF sample_size > 0 AND ft IS NOT NULL THEN
			BEGIN
				IF c.type_class IN ('text', 'network') THEN
					EXECUTE format('SELECT array_agg(left(v::text, 256)) FROM (SELECT %1$I AS v FROM %2$s WHERE %1$I IS NOT NULL LIMIT %3$s) AS x',
								   c.column_name, ft, sample_size) INTO vals;
				ELSIF c.type_class = 'text_array' THEN
					EXECUTE format('SELECT array_agg(left(e, 256)) FROM (SELECT %1$I AS v FROM %2$s WHERE %1$I IS NOT NULL LIMIT %3$s) AS x, unnest(x.v) AS e WHERE e IS NOT NULL',
								   c.column_name, ft, sample_size) INTO vals;
				ELSIF c.type_class = 'json' THEN
					EXECUTE format('SELECT array_agg(v::jsonb) FROM (SELECT %1$I AS v FROM %2$s WHERE %1$I IS NOT NULL LIMIT %3$s) AS x',
								   c.column_name, ft, least(sample_size, 50)) INTO docs;
				END IF;
			EXCEPTION WHEN data_exception THEN
				-- a value that does not convert (json with \u0000, say): its
				-- error would quote it, so the column is judged by its name
				vals := NULL;
				docs := NULL;
			END;
		END IF;
		sug := tdgen.suggest(names -> c.column_name::text, c.type_class, c.base_type, c.in_unique, vals,
							 CASE WHEN docs IS NOT NULL THEN tdgen.json_spec(docs, c.table_name, min_confidence) END,
							 min_confidence);
		column_name := c.column_name;
		type_name := c.type_name;
		category := sug.category;
		transform := sug.transform;
		params := sug.params;
		confidence := round(sug.confidence::numeric, 2)::real;
		reason := sug.reason;
		RETURN NEXT;
	END LOOP;
	vals := NULL;
	docs := NULL;
END
$$;

-- The columns of a source (or of an environment's copied tables) that no
-- rule covers, optionally only some.
CREATE FUNCTION tdgen.unruled_columns(source_or_environment text)
RETURNS TABLE (schema_name name, table_name name, column_name name)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT c.schema_name, c.table_name, c.column_name
	FROM tdgen.remote_columns((tdgen.resolve_source(source_or_environment)).name) AS c
	WHERE NOT c.generated
	  AND NOT EXISTS (SELECT FROM tdgen.column_rule AS r
					  WHERE r.schema_name = c.schema_name AND r.table_name = c.table_name
						AND r.column_name = c.column_name
						AND (r.environment IS NULL OR r.environment = source_or_environment));
END;

CREATE FUNCTION tdgen_scan(source_or_environment text, sample_size integer DEFAULT 200,
						   min_confidence real DEFAULT 0.5)
RETURNS TABLE (column_name text, data_type text, category text, transform text, params jsonb,
			   confidence real, reason text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s tdgen.source := tdgen.resolve_source(source_or_environment);
	t record;
BEGIN
	IF sample_size IS NULL OR sample_size < 0 OR sample_size > 100000 THEN
		RAISE EXCEPTION 'sample_size must be between 0 and 100000' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM tdgen.sync_source(s.name);
	FOR t IN
		SELECT u.schema_name, u.table_name, array_agg(u.column_name) AS cols
		FROM tdgen.unruled_columns(source_or_environment) AS u
		GROUP BY 1, 2 ORDER BY 1, 2
	LOOP
		RETURN QUERY
		SELECT tdgen.qualified(t.schema_name, t.table_name, x.column_name), x.type_name, x.category,
			   x.transform, x.params, x.confidence, x.reason
		FROM tdgen.scan_table(s, t.schema_name, t.table_name, t.cols, sample_size, min_confidence) AS x;
	END LOOP;
END
$$;

-- Turns the scan's suggestions into rules: all of them, or those of the
-- given columns.  Returns the rules written.
CREATE FUNCTION tdgen_accept(source_or_environment text, columns text[] DEFAULT NULL,
							 min_confidence real DEFAULT 0.5)
RETURNS TABLE (column_name text, transform text, params jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	sug record;
BEGIN
	FOR sug IN
		SELECT x.column_name, x.transform, x.params
		FROM @extschema@.tdgen_scan(source_or_environment, 200, min_confidence) AS x
		WHERE x.category IS NOT NULL
		  AND (columns IS NULL
			   OR tdgen.parse_name(x.column_name, 3) IN (SELECT tdgen.parse_name(c, 3) FROM unnest(columns) AS c))
	LOOP
		PERFORM @extschema@.tdgen_rule(sug.column_name, sug.transform, sug.params);
		column_name := sug.column_name;
		transform := sug.transform;
		params := sug.params;
		RETURN NEXT;
	END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Privileges and comments
-- ---------------------------------------------------------------------------

REVOKE ALL ON FUNCTION tdgen.scan_table(tdgen.source, name, name, name[], integer, real),
	tdgen.unruled_columns(text), tdgen_scan(text, integer, real), tdgen_accept(text, text[], real) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tdgen_scan(text, integer, real), tdgen_accept(text, text[], real) TO tdgen_admin;
GRANT SELECT ON tdgen.active_category TO tdgen_admin;

COMMENT ON FUNCTION tdgen.luhn_valid(text) IS
	'true when 12-19 digits (spaces and dashes allowed) pass the Luhn check';
COMMENT ON FUNCTION tdgen.mod97_valid(text) IS
	'true when an IBAN''s check digits pass ISO 7064 mod 97-10';
COMMENT ON FUNCTION tdgen.value_valid(text, text) IS
	'applies a category validator (email, luhn, mod97, ssn, ip, phone) to a value; false, never an error, on malformed input';
COMMENT ON VIEW tdgen.active_category IS
	'the categories not disabled';
COMMENT ON FUNCTION tdgen.name_matches(text, text[], text[]) IS
	'for each column name (and its type class) in a table: the enabled categories whose column and table patterns match';
COMMENT ON FUNCTION tdgen.value_matches(text[], text) IS
	'per enabled category with value patterns: the share of the values that match and pass its validator';
COMMENT ON FUNCTION tdgen.transform_fits(text, regtype, text) IS
	'whether a transform takes a column of the given base type and type class';
COMMENT ON FUNCTION tdgen.rule_injective(text, jsonb) IS
	'whether a transform with these parameters keeps distinct values distinct';
COMMENT ON FUNCTION tdgen.suggest(jsonb, text, regtype, boolean, text[], jsonb, real) IS
	'the best category for a column and the rule to suggest, fitted to its type and uniqueness';
COMMENT ON FUNCTION tdgen.json_spec(jsonb[], text, real) IS
	'a jsonb_mask spec for the personal fields of sampled JSON documents';
COMMENT ON FUNCTION tdgen.scan_table(tdgen.source, name, name, name[], integer, real) IS
	'suggestions for some columns of one production table, from their names and a remote sample';
COMMENT ON FUNCTION tdgen.unruled_columns(text) IS
	'production columns (not generated) that no rule or keep covers, generally or for the environment';
COMMENT ON FUNCTION tdgen_scan(text, integer, real) IS
	'for every production column without a rule: category, suggested transform and parameters, confidence, reason; sampled values are never stored or shown';
COMMENT ON FUNCTION tdgen_accept(text, text[], real) IS
	'writes the scan''s suggestions as rules, all or for the given columns; returns them';
