-- ===========================================================================
-- schema/scan.sql
--     The sensitivity scan: judges every production column without a rule
--     by its name, its type, a bounded sample of its values read remotely
--     and its table's context, and suggests a rule, a keep, or a review.
--
-- Sampled values live only in the memory of the scanning function: they
-- are reduced to counts (tdgen.value_profile) and dropped.  They are never
-- stored, logged or returned, and nothing below raises an error that could
-- quote one.  The verdicts fail closed: a column is kept only on positive
-- evidence that it holds nothing personal; anything unsure is left for a
-- person to review.
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- Values: counts of recognised shapes (src/scan_values.c)
-- ---------------------------------------------------------------------------

CREATE FUNCTION tdgen.value_profile(vals text[])
RETURNS jsonb
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'tdgen_value_profile';

CREATE FUNCTION tdgen.value_signal(signal text, value text)
RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'tdgen_value_signal';

-- How much a share of sampled values showing a signal says on its own
-- (weight), whether a sample without it speaks against a name match
-- (contradicts), and what a table about people adds to a value-only match
-- of a weak signal (person_bonus).
CREATE FUNCTION tdgen.signal_weight(signal text, OUT weight real, OUT contradicts boolean, OUT person_bonus real)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT w.weight, w.contradicts, w.person_bonus
	FROM (VALUES ('email', 0.9, true, 0.0), ('luhn', 0.9, true, 0.0), ('mod97', 0.9, true, 0.0),
				 ('ip', 0.9, true, 0.0), ('mac', 0.9, true, 0.0), ('npi', 0.9, false, 0.0), ('dea', 0.9, false, 0.0),
				 ('full_name', 0.9, false, 0.0), ('url_credentials', 0.9, false, 0.0),
				 ('ssn', 0.7, true, 0.15), ('street', 0.7, false, 0.15), ('first_name', 0.7, false, 0.15),
				 ('name_handle', 0.7, false, 0.15),
				 ('phone', 0.45, true, 0.3), ('zip', 0.45, false, 0.3), ('last_name', 0.45, false, 0.3),
				 ('place', 0.45, false, 0.3)) AS w(signal, weight, contradicts, person_bonus)
	WHERE w.signal = signal_weight.signal;
END;

-- ---------------------------------------------------------------------------
-- Names
-- ---------------------------------------------------------------------------

-- The enabled categories.
CREATE VIEW tdgen.active_category AS
	SELECT c.* FROM tdgen.category AS c
	WHERE NOT EXISTS (SELECT FROM tdgen.category_disabled AS d WHERE d.category = c.name);

-- Words that, before a generic last word, say what the thing is that is
-- not a person: product_name, company_name, ip_address, file_title.
CREATE FUNCTION tdgen.thing_words()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY['product', 'item', 'article', 'sku', 'company', 'business', 'organization', 'organisation', 'org',
			 'firm', 'brand', 'vendor', 'supplier', 'merchant', 'carrier', 'shipper', 'store', 'shop', 'warehouse',
			 'branch', 'site', 'bank', 'category', 'group', 'team', 'department', 'dept', 'role', 'job', 'project',
			 'campaign', 'event', 'course', 'program', 'plan', 'tier', 'model', 'device', 'app', 'application',
			 'service', 'server', 'host', 'domain', 'database', 'db', 'schema', 'table', 'column', 'field', 'file',
			 'folder', 'image', 'document', 'template', 'report', 'tag', 'label', 'topic', 'forum', 'board',
			 'channel', 'list', 'country', 'currency', 'language', 'locale', 'timezone', 'city', 'state',
			 'region', 'territory', 'zone', 'route', 'ip', 'mac', 'email', 'mail', 'web', 'url', 'wallet',
			 'memory', 'network', 'remote', 'hardware', 'contract', 'token', 'hub', 'facility', 'care', 'unit',
			 'ward', 'room', 'concept', 'vocabulary', 'drug', 'test', 'setting', 'config', 'key', 'queue',
			 'task', 'step', 'stage', 'status', 'type', 'kind', 'class', 'badge', 'award', 'coupon',
			 'promo', 'discount', 'tax', 'price', 'payment', 'invoice', 'order', 'sitemap', 'theme', 'page',
			 'menu', 'widget', 'plugin', 'module', 'feature', 'flag', 'metric'];

-- Last words of a column name that make it data about a thing rather than
-- the thing: national_id_type, phone_status, email_format.
CREATE FUNCTION tdgen.meta_words()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY['type', 'kind', 'status', 'flag', 'format', 'method', 'verified', 'validated', 'confirmed', 'source',
			 'provider', 'issuer', 'length', 'count', 'mask', 'accuracy', 'precision', 'label', 'template', 'pattern',
			 'policy', 'visibility', 'visible', 'consent', 'optin', 'optout', 'enabled', 'required', 'lang', 'language',
			 'locale', 'level', 'tier', 'class', 'category', 'group', 'rule', 'setting', 'settings'];

-- The names a column is matched by: its own, in lower case with
-- underscores (firstName as first_name), then with leading words dropped
-- one at a time (ship_address as address; stripped), except a generic
-- last word after a thing word (product_name is not a name).
CREATE FUNCTION tdgen.name_variants(column_name text)
RETURNS TABLE (variant text, stripped boolean)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
	WITH w AS (
		SELECT string_to_array(trim(BOTH '_' FROM regexp_replace(
				   lower(regexp_replace(regexp_replace(column_name, '([a-z0-9])([A-Z])', '\1_\2', 'g'),
										'([A-Z]+)([A-Z][a-z])', '\1_\2', 'g')),
				   '[^a-z0-9äöüßéèàçñãõ]+', '_', 'g')), '_') AS words
	)
	SELECT DISTINCT ON (v) v, k > 1
	FROM w, generate_series(1, greatest(cardinality(w.words), 1)) AS k,
		 LATERAL (SELECT array_to_string(w.words[k:], '_') AS v) AS x
	WHERE x.v <> '' AND x.v !~ '^[0-9_]+$'
	  AND NOT (k > 1 AND k = cardinality(w.words) AND w.words[k - 1] = ANY (tdgen.thing_words()))
	ORDER BY v, k;
END;

-- Whether a name match counts in a table: its pattern asks for no context,
-- or for one the table has (tdgen.scan_context: about people, or related
-- to them).
CREATE FUNCTION tdgen.context_holds(context text, person boolean, related boolean)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN context IS NULL OR (context = 'person' AND person) OR (context = 'related' AND related);

-- Whether a name match says on its own, whatever the table, that a column
-- is personal: enough for a foreign key to take no keep from the key it
-- references (tdgen.scan_columns, tdgen.check_problems).
CREATE FUNCTION tdgen.name_says_personal(context text, confidence real)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN context IS NULL AND confidence >= 0.85;

-- PostgreSQL keeps only a few dozen compiled regular expressions per
-- backend, fewer than the categories have patterns.  So each category's
-- patterns of one context are joined into one expression, and every match
-- below takes one expression at a time (the outer side of a LATERAL join)
-- and applies it to all the names at hand, each distinct name once,
-- instead of trying every pattern on one name after another, which would
-- compile each pattern again for every name.

-- For names[i] (a column name) of class classes[i] in table tables[i]:
-- each enabled category one of whose column patterns matches one of its
-- name variants, when the category's table patterns (if any) match the
-- table; with the best confidence (a stripped variant counts 0.95 of the
-- category's), the variant, and the context the pattern asks for.
CREATE FUNCTION tdgen.name_matches(tables text[], names text[], classes text[])
RETURNS TABLE (idx integer, category text, confidence real, variant text, context text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	WITH col AS (
		SELECT u.i::integer AS i, u.t, u.n, u.cls FROM unnest(tables, names, classes) WITH ORDINALITY AS u(t, n, cls, i)
	), v AS MATERIALIZED (
		-- each variant of each distinct name, with the name's last word (a
		-- unit after it, gps_accuracy_m, aside)
		SELECT d.n, d.cls, nv.variant, nv.stripped,
			   (regexp_match(max(nv.variant) FILTER (WHERE NOT nv.stripped) OVER (PARTITION BY d.n, d.cls),
							 '([a-z]+)(_(m|km|cm|mm|kg|g|lb|lbs|ms|s|sec|min|h|pct|percent|[0-9]+))?$'))[1] AS last_word
		FROM (SELECT DISTINCT c.n, c.cls FROM col AS c) AS d, LATERAL tdgen.name_variants(d.n) AS nv
	), rx AS MATERIALIZED (
		SELECT c.name AS category, c.confidence, c.type_classes, p.context,
			   string_agg('(?:' || p.pattern || ')', '|' ORDER BY p.pattern) AS pattern
		FROM tdgen.active_category AS c
		JOIN tdgen.category_pattern AS p ON p.category = c.name AND p.kind = 'column'
		GROUP BY c.name, c.confidence, c.type_classes, p.context
	), hit AS MATERIALIZED (
		-- one expression at a time over the distinct names, not the reverse;
		-- a name whose last word says it is about the thing (a type, a
		-- status), and that matches without that word, counts half
		SELECT r.category, r.confidence * CASE WHEN x.stripped THEN 0.95 ELSE 1 END
								* CASE WHEN x.last_word = ANY (tdgen.meta_words()) AND x.variant <> x.last_word
										AND regexp_replace(x.variant, '_?' || x.last_word || '(_[a-z0-9]+)?$', '') ~* r.pattern
									   THEN 0.5 ELSE 1 END AS confidence, x.variant,
			   r.context, x.n, x.cls
		FROM rx AS r
		CROSS JOIN LATERAL (SELECT v.n, v.cls, v.variant, v.stripped, v.last_word FROM v
							WHERE v.cls = ANY (r.type_classes) AND v.variant ~* r.pattern) AS x
	)
	SELECT DISTINCT ON (c.i, h.category, h.context) c.i, h.category, h.confidence::real, h.variant, h.context
	FROM hit AS h
	JOIN col AS c ON c.n = h.n AND c.cls = h.cls
	WHERE NOT EXISTS (SELECT FROM tdgen.category_pattern AS p WHERE p.category = h.category AND p.kind = 'table')
	   OR EXISTS (SELECT FROM tdgen.category_pattern AS p
				  WHERE p.category = h.category AND p.kind = 'table' AND c.t ~* p.pattern)
	ORDER BY c.i, h.category, h.context, h.confidence DESC, length(h.variant) DESC;
END;

-- Per enabled category with value patterns that takes the type class: the
-- share of the values that match one of its patterns.
CREATE FUNCTION tdgen.value_matches(vals text[], type_class text)
RETURNS TABLE (category text, ratio real)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT c.name, (count(DISTINCT x.i) FILTER (WHERE x.i IS NOT NULL))::real / greatest(cardinality(vals), 1)
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

-- ---------------------------------------------------------------------------
-- Samples and context
-- ---------------------------------------------------------------------------

-- The value profiles of some columns of one production table, from one
-- query over tdgen's open connection (so in the scan's snapshot): per
-- column up to sample_size non-null values (50 JSON documents) among its
-- first 500 * sample_size rows, cut to 256 characters.  cols: objects with column_name and type_class;
-- context: the table's (tdgen.scan_context), for JSON documents.
-- Returns {column: {"profile": ..., "patterns": {category: share},
-- "json_spec": ...}}; the values are dropped here.
CREATE FUNCTION tdgen.sample_profiles(schema_name name, table_name name, cols jsonb, sample_size integer,
									  min_confidence real, context jsonb)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	parts text[];
	samples jsonb;
	result jsonb := '{}';
	c record;
	vals text[];
	docs jsonb[];
	doc text;
BEGIN
	-- (no more than 500 rows read for each value wanted: a column of a
	-- large table that is almost all NULL is not read to its end)
	SELECT array_agg(format('jsonb_build_object(%L, (SELECT %s FROM (SELECT y.v FROM (SELECT %I AS v FROM %I.%I LIMIT %s) AS y WHERE y.v IS NOT NULL LIMIT %s) AS x%s))',
							x.column_name,
							CASE x.type_class WHEN 'json' THEN 'array_agg(x.v::text)'
											  WHEN 'text_array' THEN 'array_agg(left(e, 256))'
											  ELSE 'array_agg(left(x.v::text, 256))' END,
							x.column_name, schema_name, table_name, 500 * sample_size::bigint,
							CASE x.type_class WHEN 'json' THEN least(sample_size, 50) ELSE sample_size END,
							CASE x.type_class WHEN 'text_array' THEN ', unnest(x.v::text[]) AS e' ELSE '' END))
	INTO parts
	FROM jsonb_to_recordset(cols) AS x(column_name name, type_class text)
	WHERE x.type_class IN ('text', 'text_array', 'json', 'integer');
	IF parts IS NULL OR sample_size = 0 THEN
		RETURN result;
	END IF;
	samples := tdgen.remote_query('SELECT ' || array_to_string(parts, ' || ') || ' AS s') -> 0 -> 's';
	FOR c IN SELECT x.column_name, x.type_class FROM jsonb_to_recordset(cols) AS x(column_name name, type_class text)
			 WHERE samples ? x.column_name AND jsonb_typeof(samples -> x.column_name) = 'array'
	LOOP
		IF c.type_class = 'json' THEN
			-- read here, one by one: a document jsonb cannot hold (a \u0000)
			-- would be quoted by its error, so it is left out
			docs := '{}';
			FOR doc IN SELECT jsonb_array_elements_text(samples -> c.column_name::text) LOOP
				BEGIN
					docs := docs || doc::jsonb;
				EXCEPTION WHEN data_exception THEN
					NULL;
				END;
			END LOOP;
			doc := NULL;
			result := result || jsonb_build_object(c.column_name, jsonb_build_object(
						  'profile', jsonb_build_object('sampled', cardinality(docs)),
						  'json_spec', tdgen.json_spec(docs, min_confidence, context)));
		ELSE
			vals := ARRAY(SELECT jsonb_array_elements_text(samples -> c.column_name::text));
			result := result || jsonb_build_object(c.column_name, jsonb_build_object(
						  'profile', tdgen.value_profile(vals),
						  'patterns', (SELECT coalesce(jsonb_object_agg(m.category, m.ratio), '{}')
									   FROM tdgen.value_matches(vals, c.type_class) AS m WHERE m.ratio > 0)));
		END IF;
	END LOOP;
	samples := NULL;
	vals := NULL;
	docs := NULL;
	RETURN result;
END
$$;

-- Tables about people and tables related to them, among the tables of
-- cols (tdgen.remote_columns rows as jsonb, each with its name matches of
-- tdgen.name_matches in "matches"), with why.  A table is about people
-- when its name says so (tdgen.person_tables; named), when a column's name
-- says it holds a first or last name, an email, a birth date or an SSN,
-- when it references such a table one to one (by a unique foreign key), or
-- when such a table references it through a column named for an address
-- or a location.  It is related when it is about people or references
-- such a table.
CREATE FUNCTION tdgen.scan_context(cols jsonb, fks jsonb)
RETURNS TABLE (schema_name name, table_name name, person boolean, named boolean, related boolean, why text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	WITH col AS MATERIALIZED (
		SELECT * FROM jsonb_to_recordset(cols) AS x(schema_name name, table_name name, column_name name,
													unique_alone boolean, matches jsonb)
	), own AS MATERIALIZED (
		SELECT c.schema_name, c.table_name,
			   EXISTS (SELECT FROM unnest(tdgen.person_tables()) AS p WHERE c.table_name ~* p) AS named,
			   'columns ' || string_agg(DISTINCT c.column_name, ', ')
							 FILTER (WHERE EXISTS (SELECT FROM jsonb_array_elements(c.matches) AS m
												   WHERE m ->> 'context' IS NULL
													 AND m ->> 'category' IN ('first_name', 'last_name', 'email', 'birth_date',
																			  'ssn'))) AS by_columns
		FROM col AS c
		GROUP BY c.schema_name, c.table_name
	), fk AS MATERIALIZED (
		SELECT DISTINCT f.schema_name, f.table_name, f.column_name, f.ref_schema, f.ref_table, c.unique_alone
		FROM jsonb_to_recordset(fks) AS f(schema_name name, table_name name, column_name name, ref_schema name,
										  ref_table name)
		JOIN col AS c ON c.schema_name = f.schema_name AND c.table_name = f.table_name AND c.column_name = f.column_name
	), person AS MATERIALIZED (
		SELECT o.schema_name, o.table_name, o.named,
			   coalesce(CASE WHEN o.named THEN 'its name' END, o.by_columns,
						(SELECT format('one to one with %I.%I', f.ref_schema, f.ref_table)
						 FROM fk AS f JOIN own AS r ON r.schema_name = f.ref_schema AND r.table_name = f.ref_table
						 WHERE f.schema_name = o.schema_name AND f.table_name = o.table_name
						   AND f.unique_alone AND (r.named OR r.by_columns IS NOT NULL)
						 ORDER BY 1 LIMIT 1),
						(SELECT format('the %s of %I.%I', f.column_name, f.schema_name, f.table_name)
						 FROM fk AS f JOIN own AS r ON r.schema_name = f.schema_name AND r.table_name = f.table_name
						 WHERE f.ref_schema = o.schema_name AND f.ref_table = o.table_name
						   AND f.column_name ~* '(address|location|residence|domicile|home)'
						   AND (r.named OR r.by_columns IS NOT NULL)
						 ORDER BY 1 LIMIT 1)) AS why
		FROM own AS o
	), near AS MATERIALIZED (
		-- a table about people, or one it references directly
		SELECT p.schema_name, p.table_name, NULL::text AS via FROM person AS p WHERE p.why IS NOT NULL
		UNION ALL
		(SELECT DISTINCT ON (f.schema_name, f.table_name) f.schema_name, f.table_name,
				format('%I.%I', f.ref_schema, f.ref_table)
		 FROM fk AS f JOIN person AS q ON q.schema_name = f.ref_schema AND q.table_name = f.ref_table
		 WHERE q.why IS NOT NULL
		 ORDER BY f.schema_name, f.table_name, 3)
	)
	SELECT p.schema_name, p.table_name, p.why IS NOT NULL, p.named,
		   p.why IS NOT NULL OR r.ref IS NOT NULL,
		   coalesce('about people: ' || p.why, 'references ' || r.ref)
	FROM person AS p
	-- a table that references a table about people, or one that does (an
	-- account of a client, a transaction of that account)
	LEFT JOIN LATERAL (SELECT format('%I.%I', f.ref_schema, f.ref_table) || coalesce(' (of ' || n.via || ')', '') AS ref
					   FROM fk AS f JOIN near AS n ON n.schema_name = f.ref_schema AND n.table_name = f.ref_table
					   WHERE f.schema_name = p.schema_name AND f.table_name = p.table_name
					   ORDER BY n.via NULLS FIRST, 1 LIMIT 1) AS r ON true;
END;

-- ---------------------------------------------------------------------------
-- Judging a column
-- ---------------------------------------------------------------------------

-- Names of clinical tables, whose values about a person are health data.
CREATE FUNCTION tdgen.health_tables()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN '(^|_)(lab|labs|lab_result|diagnos[a-z]*|prescription|medication|encounter|condition|procedure|vital|vitals|allerg[a-z]*|immuni[sz]ation|vaccin[a-z]*|treatment|clinical|medical|symptom|chart|drug_exposure|measurement)s?(_|$)';

-- Whether a date column's name says the system wrote it (created_at...),
-- not a person's life.
CREATE FUNCTION tdgen.system_date(column_name text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN column_name ~* '(^|_)(create|created|creation|updated|modified|deleted|inserted|changed|synced|imported|exported|processed|indexed|cached|refreshed|migrated|etl|loaded|version|row|record|valid|effective|expires|expired|expiry|erstellt|geaendert|geändert|aktualisiert|cree|créé|modifie|modifié|creado|actualizado|modificado)(_|$)|^(ts|timestamp|last_update|lastmodified)$';

-- The rule for a category's transform fitted to a column: element by
-- element on text arrays, the nearest transform that takes the type, an
-- injective one on a unique column.  note: what was changed, or NULL.
CREATE FUNCTION tdgen.fit_rule(category text, type_class text, base_type regtype, in_unique boolean,
							   not_null boolean, OUT transform text, OUT params jsonb, OUT note text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	original text;
BEGIN
	SELECT c.transform, c.params INTO transform, params FROM tdgen.category AS c WHERE c.name = category;
	original := transform;
	-- a text transform on an array of text: element by element
	IF type_class = 'text_array' AND tdgen.transform_fits(transform, NULL, 'text') THEN
		params := jsonb_build_object('transform', transform, 'params', params);
		transform := 'array_mask';
	END IF;
	-- the category's transform does not take this type (or would empty a
	-- NOT NULL column): the nearest that does
	IF NOT tdgen.transform_fits(transform, base_type, type_class) OR (transform = 'nullify' AND not_null) THEN
		SELECT f.t, '{}'::jsonb INTO transform, params
		FROM (VALUES (1, 'scramble'), (2, 'pseudo_int'), (3, 'noise'), (4, 'date_shift'), (5, 'ip'), (6, 'uuid'),
					 (7, 'nullify')) AS f(o, t)
		WHERE tdgen.transform_fits(f.t, base_type, type_class) AND NOT (f.t = 'nullify' AND not_null)
		ORDER BY f.o LIMIT 1;
		note := CASE WHEN original = 'nullify' AND not_null
					 THEN format('NOT NULL, so %s', transform)
					 ELSE format('%s takes no %s, so %s', original, coalesce(base_type::text, type_class), transform) END;
	END IF;
	-- a unique column needs distinct outputs
	IF in_unique AND NOT tdgen.rule_injective(transform, params) THEN
		IF EXISTS (SELECT FROM tdgen.transform AS t WHERE t.name = transform AND t.injective_with IS NOT NULL) THEN
			params := params || (SELECT t.injective_with FROM tdgen.transform AS t WHERE t.name = transform);
		ELSE
			SELECT f.t, '{}'::jsonb INTO transform, params
			FROM (VALUES (1, 'hash'), (2, 'pseudo_int'), (3, 'uuid'), (4, 'ip')) AS f(o, t)
			WHERE tdgen.transform_fits(f.t, base_type, type_class)
			ORDER BY f.o LIMIT 1;
		END IF;
		note := concat_ws('; ', note, 'unique column, so an injective transform');
	END IF;
END
$$;

-- A conservative mask for a column the scan is unsure about, for
-- environments whose option unsure is "mask": one that keeps nothing of
-- the value but its type and uniqueness.  NULL when there is none (a NOT
-- NULL column of a type only nullify takes).
CREATE FUNCTION tdgen.default_mask(type_class text, base_type regtype, in_unique boolean, not_null boolean,
								   OUT transform text, OUT params jsonb)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	SELECT f.t, f.p INTO transform, params
	FROM (VALUES (1, 'text', 'hash', '{}'::jsonb), (2, 'text', 'scramble', '{}'), (3, 'integer', 'noise', '{"pct": 20}'),
				 (3, 'integer', 'pseudo_int', '{}'),
				 (4, 'numeric', 'noise', '{"pct": 20}'), (5, 'date', 'date_shift', '{"max_days": 180}'),
				 (6, 'timestamp', 'date_shift', '{"max_days": 180}'), (7, 'network', 'ip', '{}'), (8, 'uuid', 'uuid', '{}'),
				 (9, 'text_array', 'array_mask', '{"transform": "hash"}')) AS f(o, cls, t, p)
	WHERE f.cls = type_class AND tdgen.transform_fits(f.t, base_type, type_class)
	  AND (f.t NOT IN ('scramble', 'noise') OR NOT in_unique) AND (f.t NOT IN ('hash', 'pseudo_int') OR in_unique)
	  AND (NOT in_unique OR tdgen.rule_injective(f.t, f.p))
	ORDER BY f.o LIMIT 1;
	IF transform IS NULL AND NOT not_null AND NOT in_unique THEN
		transform := 'nullify';
		params := '{}';
	END IF;
END
$$;

-- The parameters of a birth_part rule for a column of a table whose
-- columns are siblings (objects with column_name, type_class and matches,
-- the name matches of tdgen.name_matches): which part its name says, the
-- table's birth date column (born) and its columns of the other parts, so
-- that they are all masked alike.  NULL when the name says no part.
CREATE FUNCTION tdgen.birth_part_params(column_name text, siblings jsonb)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	WITH part_of AS (
		SELECT s ->> 'column_name' AS name, s ->> 'type_class' AS cls,
			   EXISTS (SELECT FROM jsonb_array_elements(s -> 'matches') AS m WHERE m ->> 'category' = 'birth_date') AS born,
			   EXISTS (SELECT FROM jsonb_array_elements(s -> 'matches') AS m WHERE m ->> 'category' = 'birth_part') AS is_part,
			   CASE WHEN s ->> 'column_name' ~* '(year|yr|yob|jahr|ano|annee)' THEN 'year'
					WHEN s ->> 'column_name' ~* '(month|mon|mob|monat|mes|mois|(^|_)mo(_|$))' THEN 'month'
					WHEN s ->> 'column_name' ~* '(day|dy|tag|dia|jour)' THEN 'day' END AS part
		FROM jsonb_array_elements(siblings) AS s
	)
	SELECT jsonb_strip_nulls(jsonb_build_object(
			   'part', me.part,
			   'born', (SELECT min(p.name) FROM part_of AS p WHERE p.born AND p.cls IN ('date', 'timestamp')),
			   'year', (SELECT min(p.name) FROM part_of AS p WHERE p.is_part AND p.part = 'year'),
			   'month', (SELECT min(p.name) FROM part_of AS p WHERE p.is_part AND p.part = 'month'),
			   'day', (SELECT min(p.name) FROM part_of AS p WHERE p.is_part AND p.part = 'day')))
	FROM part_of AS me
	WHERE me.name = column_name AND me.part IS NOT NULL;
END;

-- The verdict on one column.  c: the column's facts as jsonb:
--   schema_name, table_name, column_name, type_name, base_type,
--   type_class, in_unique, not_null; names (its name matches in context:
--   {category: {"confidence": , "variant": }}); profile (tdgen.value_profile
--   of its sample, or NULL); patterns ({category: share} of user value
--   patterns); json_spec; person, related, context (tdgen.scan_context).
-- verdict: mask (category and rule given), keep (positive evidence that it
-- holds nothing personal, in evidence.not_personal), review (unsure).
-- evidence: the signals that fired, with counts, never values.
CREATE FUNCTION tdgen.judge_column(c jsonb, min_confidence real,
								   OUT category text, OUT transform text, OUT params jsonb, OUT confidence real,
								   OUT verdict text, OUT evidence jsonb, OUT reason text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	cls text := c ->> 'type_class';
	base regtype := (c ->> 'base_type')::regtype;
	prof jsonb := c -> 'profile';
	n integer := coalesce((c -> 'profile' ->> 'sampled')::integer, 0);
	person boolean := coalesce((c ->> 'person')::boolean, false);
	related boolean := coalesce((c ->> 'related')::boolean, false);
	named boolean := coalesce((c ->> 'named')::boolean, false);
	is_key boolean := coalesce((c ->> 'in_unique')::boolean, false);
	distinct_values integer := (c -> 'profile' ->> 'distinct')::integer;
	-- few distinct values in a large sample: codes, not names or text
	low_card boolean := n >= 20 AND (c -> 'profile' ->> 'distinct')::integer <= 12
						AND (c -> 'profile' ->> 'distinct')::real <= 0.2 * n;
	best record;
	fit record;
	share real;
	why text[];
BEGIN
	-- every candidate category with its score and what supports it
	WITH cand AS (
		SELECT cat.name, cat.confidence AS base, cat.signal, w.weight, w.contradicts, w.person_bonus,
			   (c -> 'names' -> cat.name ->> 'confidence')::real AS by_name,
			   c -> 'names' -> cat.name ->> 'variant' AS variant,
			   -- (nine digits that pass the routing number checksum are no SSN)
			   CASE WHEN n >= 5 AND cat.signal IS NOT NULL AND (cls <> 'integer' OR cat.signal IN ('npi', 'luhn'))
					THEN ((prof ->> cat.signal)::real
						  - CASE WHEN cat.signal = 'ssn' THEN coalesce((prof ->> 'aba')::real, 0) ELSE 0 END) / n END AS r,
			   CASE WHEN n >= 5 THEN (c -> 'patterns' ->> cat.name)::real END AS pr
		FROM tdgen.active_category AS cat
		LEFT JOIN LATERAL tdgen.signal_weight(cat.signal) AS w ON true
		WHERE cls = ANY (cat.type_classes)
	), scored AS (
		SELECT x.name,
			   CASE WHEN x.by_name IS NOT NULL AND (x.r >= 0.5 OR x.pr >= 0.5) THEN least(1, x.by_name + 0.05)
					WHEN x.by_name IS NOT NULL AND x.contradicts AND n >= 10 AND x.r < 0.1 THEN x.by_name * 0.5
					WHEN x.by_name IS NOT NULL AND low_card
						 AND x.name IN ('first_name', 'last_name', 'full_name', 'email', 'phone', 'free_text', 'username',
										'external_id', 'personal_identifier', 'source_value')
					THEN x.by_name * 0.5
					WHEN x.by_name IS NOT NULL THEN x.by_name
					WHEN x.r >= 0.6 AND (x.weight >= 0.9 OR NOT is_key)
						 AND NOT (low_card AND x.signal IN ('first_name', 'last_name', 'place'))
					THEN x.base * x.r * x.weight + CASE WHEN person THEN x.person_bonus ELSE 0 END
					WHEN x.pr >= 0.6 THEN x.base * x.pr * 0.8
					ELSE 0 END AS score,
			   jsonb_strip_nulls(jsonb_build_object(
				   'name', CASE WHEN x.by_name IS NOT NULL THEN x.variant END,
				   'values', CASE WHEN x.r > 0 THEN jsonb_build_object(x.signal, (prof ->> x.signal)::integer, 'sampled', n)
								  WHEN x.pr > 0 THEN jsonb_build_object('pattern', round((x.pr * n)::numeric), 'sampled', n)
								  WHEN x.by_name IS NOT NULL AND x.contradicts AND n >= 10
								  THEN jsonb_build_object(x.signal, (prof ->> x.signal)::integer, 'sampled', n) END)) AS ev
		FROM cand AS x
		UNION ALL
		-- the type: network and hardware addresses
		SELECT 'ip_address', CASE WHEN related THEN 0.85 ELSE 0.65 END, jsonb_build_object('type', base::text)
		WHERE base IN ('inet'::regtype, 'cidr'::regtype)
		UNION ALL
		SELECT 'mac_address', CASE WHEN related THEN 0.85 ELSE 0.65 END, jsonb_build_object('type', base::text)
		WHERE base IN ('macaddr'::regtype, 'macaddr8'::regtype)
		UNION ALL
		-- the context: free text by or about people (sentences in a table
		-- about people, sentences that name people or hold email
		-- addresses), identifiers of people, health data in clinical
		-- tables, pay in payroll tables, documents and photos of people
		SELECT 'free_text',
			   0.6 + CASE WHEN (prof ->> 'names_in_text')::real >= 0.1 * n
							   OR (prof ->> 'email_in_text')::real >= 0.1 * n THEN 0.15 ELSE 0 END,
			   jsonb_build_object('values', jsonb_strip_nulls(jsonb_build_object(
				   'free_text', (prof ->> 'free_text')::integer,
				   'names_in_text', nullif((prof ->> 'names_in_text')::integer, 0),
				   'email_in_text', nullif((prof ->> 'email_in_text')::integer, 0), 'sampled', n)))
		WHERE cls = 'text' AND n >= 5 AND NOT low_card
		  AND ((person AND (prof ->> 'free_text')::real >= 0.5 * n)
			   OR (related AND (prof ->> 'free_text')::real >= 0.5 * n AND (prof ->> 'names_in_text')::real >= 0.1 * n)
			   OR ((prof ->> 'names_in_text')::real >= 0.2 * n AND (prof ->> 'free_text')::real >= 0.3 * n)
			   OR (prof ->> 'email_in_text')::real >= 0.3 * n)
		UNION ALL
		SELECT 'personal_identifier', 0.6,
			   jsonb_build_object('values', jsonb_build_object('code', (prof ->> 'code')::integer,
															   'distinct', (prof ->> 'distinct')::integer, 'sampled', n))
		WHERE cls = 'text' AND named AND n >= 10 AND (prof ->> 'code')::real >= 0.8 * n
		  AND (prof ->> 'distinct')::real >= 0.9 * n
		  AND (c ->> 'column_name') !~* '(key|uuid|guid|hash|token|checksum|digest|etag|version|revision)$'
		UNION ALL
		SELECT 'health', 0.65, jsonb_build_object('context', 'a value in a clinical table about a person')
		WHERE related AND NOT is_key AND cls IN ('text', 'numeric', 'boolean', 'enum')
		  AND (c ->> 'table_name') ~* tdgen.health_tables()
		UNION ALL
		SELECT 'compensation', 0.65, jsonb_build_object('context', 'an amount in a pay table about a person')
		WHERE related AND NOT is_key AND cls IN ('numeric', 'integer')
		  AND (c ->> 'table_name') ~* '(^|_)(payslip|payroll|salary|salaries|compensation|wage|paycheck|earning|payout|gehalt|lohn|paie|nomina)s?(_|$)'
		UNION ALL
		SELECT 'photo', 0.6, jsonb_build_object('context', 'binary data in a table about people')
		WHERE related AND cls = 'binary'
		UNION ALL
		SELECT 'geo_coordinates', 0.6, jsonb_build_object('context', 'a point in a table about people')
		WHERE related AND base IN ('point'::regtype)
	)
	SELECT s.name, s.score, s.ev INTO best
	FROM scored AS s
	JOIN tdgen.active_category AS a ON a.name = s.name
	WHERE s.score > 0
	ORDER BY s.score DESC, s.name
	LIMIT 1;

	evidence := jsonb_strip_nulls(jsonb_build_object(
		'context', CASE WHEN person OR related THEN c ->> 'context' END,
		'sampled', CASE WHEN n > 0 THEN n END));

	-- personal fields in sampled JSON documents
	IF cls = 'json' AND c -> 'json_spec' IS NOT NULL AND c -> 'json_spec' <> '{}' THEN
		category := 'personal_json';
		transform := 'jsonb_mask';
		params := jsonb_build_object('spec', c -> 'json_spec');
		confidence := greatest(coalesce(best.score, 0), 0.85);
		verdict := 'mask';
		evidence := evidence || jsonb_build_object('json_fields', (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(c -> 'json_spec') AS k));
		reason := 'personal fields in the sampled documents: '
				  || (SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(c -> 'json_spec') AS k);
		RETURN;
	END IF;

	IF best.name IS NOT NULL AND best.score >= min_confidence AND cls <> 'json' THEN
		category := best.name;
		confidence := round(best.score::numeric, 2)::real;
		verdict := 'mask';
		evidence := evidence || best.ev;
		reason := concat_ws('; ',
							CASE WHEN best.ev ? 'name' THEN format('column name matches %s (as %s)', category, best.ev ->> 'name') END,
							CASE WHEN best.ev ? 'type' THEN format('its type %s holds %s', best.ev ->> 'type', category) END,
							CASE WHEN best.ev -> 'values' ? 'pattern'
								 THEN format('%s of %s sampled values match its patterns', best.ev -> 'values' ->> 'pattern', n)
								 WHEN best.ev ? 'values'
								 THEN (SELECT string_agg(format('%s of %s sampled values %s', v.value, n,
																CASE v.key WHEN 'free_text' THEN 'are free text'
																		   WHEN 'names_in_text' THEN 'name a person'
																		   WHEN 'code' THEN 'are codes'
																		   WHEN 'distinct' THEN 'are distinct'
																		   ELSE 'are ' || v.key END), ', ')
									   FROM jsonb_each(best.ev -> 'values') AS v WHERE v.key NOT IN ('sampled', 'avg_words')) END,
							CASE WHEN best.ev ? 'context' THEN best.ev ->> 'context' END,
							CASE WHEN person OR related THEN 'table ' || (c ->> 'context') END);
		fit := tdgen.fit_rule(category, cls, base, is_key, coalesce((c ->> 'not_null')::boolean, false));
		IF fit.transform IS NULL THEN
			-- personal, but no mask keeps it valid (a NOT NULL boolean)
			verdict := 'review';
			reason := format('%s; but no transform masks a %s%s: a person decides', reason, c ->> 'type_name',
							 CASE WHEN (c ->> 'not_null')::boolean THEN ' that is NOT NULL' ELSE '' END);
			RETURN;
		END IF;
		transform := fit.transform;
		params := fit.params;
		-- transforms that refuse a value of another shape (and so would
		-- stop a refresh) only where every sampled value has the shape
		IF transform IN ('ssn', 'credit_card', 'iban') AND NOT coalesce(
			   (prof ->> (SELECT cat.signal FROM tdgen.category AS cat WHERE cat.name = category))::integer = n AND n > 0, false) THEN
			fit.note := concat_ws('; ', fit.note, format('not every value sampled is a valid %s, so scramble', transform));
			transform := CASE WHEN is_key THEN 'hash' ELSE 'scramble' END;
			params := '{}';
		END IF;
		reason := concat_ws('; ', reason, fit.note);
		RETURN;
	END IF;

	-- positive evidence that the column holds nothing personal
	why := ARRAY[CASE WHEN is_key AND cls IN ('integer', 'uuid')
						   AND (c ->> 'column_name') ~* '(^|_)(id|key|pk|no|num|nr|number|code|seq)$|[a-z]id$|^id'
					  THEN 'a key'
					  WHEN cls = 'boolean' THEN 'a boolean'
					  -- an enum of a table about people may be a person's trait
					  -- (gender, a kind of disability) unless its name says it
					  -- is the state of a process
					  WHEN cls = 'enum' AND (NOT related OR (c ->> 'column_name') ~* '(^|_)(status|state|stage|phase|priority|direction|channel|method|mode|frequency|currency|unit|outcome|result|action|event)$')
					  THEN 'an enum'
					  WHEN cls IN ('integer', 'numeric') AND NOT person THEN 'a number outside tables about people'
					  WHEN cls = 'uuid' AND NOT person THEN 'a uuid outside tables about people'
					  WHEN cls IN ('date', 'timestamp') AND NOT person THEN 'a date outside tables about people'
					  WHEN cls IN ('date', 'timestamp') AND tdgen.system_date(c ->> 'column_name') THEN 'a system date'
					  WHEN cls IN ('text', 'integer') AND low_card
						   AND coalesce((prof ->> 'full_name')::real + (prof ->> 'email')::real + (prof ->> 'phone')::real
										+ (prof ->> 'name_handle')::real, 0) < 0.3 * n
					  THEN format('a code: %s distinct values in %s sampled', distinct_values, n) END];
	IF why[1] IS NOT NULL AND coalesce(best.score, 0) < 0.3 THEN
		verdict := 'keep';
		evidence := evidence || jsonb_build_object('not_personal', why[1]);
		reason := 'not personal: ' || why[1];
		RETURN;
	END IF;

	verdict := 'review';
	IF best.name IS NOT NULL THEN
		evidence := evidence || jsonb_build_object('weak', jsonb_build_object(best.name, round(best.score::numeric, 2))) || best.ev;
		reason := format('unsure: weak match (%s, %s)', best.name, round(best.score::numeric, 2));
	ELSE
		reason := CASE WHEN n > 0 THEN 'unsure: no personal signal in the name or the sampled values'
					   WHEN cls IN ('text', 'text_array', 'json', 'integer')
					   THEN 'unsure: no personal signal in the name, and no values to sample'
					   ELSE format('unsure: no personal signal in the name, and a %s column''s values are not sampled',
								   c ->> 'type_name') END;
	END IF;
END
$$;

-- The jsonb_mask spec for sampled JSON documents: each leaf path whose key
-- (alone, or joined with its parent's either way round) or values make a
-- category with a text transform, judged as a column of the table whose
-- context (tdgen.scan_context) is given.
CREATE FUNCTION tdgen.json_spec(docs jsonb[], min_confidence real, context jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	leaves jsonb;
	spec jsonb := '{}';
	lf record;
	v record;
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
		SELECT nm.idx, nm.category, nm.confidence, nm.variant
		FROM tdgen.name_matches((SELECT array_agg(''::text ORDER BY i) FROM named), (SELECT array_agg(name ORDER BY i) FROM named),
								(SELECT array_agg('text'::text ORDER BY i) FROM named)) AS nm
		WHERE tdgen.context_holds(nm.context, coalesce((json_spec.context ->> 'person')::boolean, false),
								  coalesce((json_spec.context ->> 'related')::boolean, false))
	)
	SELECT coalesce(jsonb_agg(jsonb_build_object(
			   'path', l.path, 'profile', tdgen.value_profile(l.vals),
			   'names', (SELECT coalesce(jsonb_object_agg(m.category, jsonb_build_object('confidence', m.confidence,
																						 'variant', m.variant)), '{}')
						 FROM named AS nd JOIN matched AS m ON m.idx = nd.i WHERE nd.path = l.path))), '[]')
	INTO leaves
	FROM leaf AS l;

	FOR lf IN SELECT x ->> 'path' AS path, x FROM jsonb_array_elements(leaves) AS x LOOP
		v := tdgen.judge_column(lf.x || jsonb_build_object('type_class', 'text', 'base_type', 'text',
														   'person', coalesce(context -> 'person', 'false'),
														   'related', coalesce(context -> 'related', 'false'),
														   'context', context ->> 'why'),
								min_confidence);
		-- only transforms of text values apply inside documents
		IF v.verdict = 'mask' AND EXISTS (SELECT FROM tdgen.transform AS t
										  WHERE t.name = v.transform AND 'text' = ANY (t.input_types)) THEN
			spec := spec || jsonb_build_object(lf.path,
											   CASE WHEN v.params = '{}' THEN to_jsonb(v.transform)
													ELSE v.params || jsonb_build_object('transform', v.transform) END);
		END IF;
	END LOOP;
	RETURN spec;
END
$$;

-- ---------------------------------------------------------------------------
-- The scan
-- ---------------------------------------------------------------------------

-- The verdict on every production column of the source (or of an
-- environment's source) that has no rule, generally or for the
-- environment; only those named in wanted (schema.table.column) when given.
-- Production is read in one snapshot: its catalog once, then one sample
-- query per table.  A column that references another by foreign key takes
-- that column's rule (verdict inherit), as the gate does.
CREATE FUNCTION tdgen.scan_columns(source_or_environment text, wanted text[], sample_size integer, min_confidence real)
RETURNS TABLE (schema_name name, table_name name, column_name name, type_name text, type_class text, base_type regtype,
			   in_unique boolean, not_null boolean, category text, transform text, params jsonb, confidence real,
			   verdict text, evidence jsonb, reason text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
	s tdgen.source := tdgen.resolve_source(source_or_environment);
	opened boolean := false;
	prod jsonb;
	cols jsonb;
	profiles jsonb;
	context jsonb;
	unreadable jsonb := '{}';
	sampled jsonb[] := '{}';
	verdicts jsonb[] := '{}';
	judged jsonb;
	grp record;
	c record;
	v record;
BEGIN
	IF sample_size IS NULL OR sample_size < 0 OR sample_size > 100000 THEN
		RAISE EXCEPTION 'sample_size must be between 0 and 100000' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF tdgen.remote_server() IS NULL THEN
		PERFORM tdgen.remote_begin(s.server);
		opened := true;
	END IF;
	prod := tdgen.read_production(s.name);

	-- the columns of every table, with their name matches (all of them,
	-- for the context), the foreign key each references, and whether they
	-- are to be judged
	WITH col AS (
		SELECT x.*, row_number() OVER ()::integer AS i,
			   NOT x.generated
			   AND NOT EXISTS (SELECT FROM tdgen.column_rule AS r
							   WHERE r.schema_name = x.schema_name AND r.table_name = x.table_name
								 AND r.column_name = x.column_name
								 AND (r.environment IS NULL OR r.environment = source_or_environment))
			   AND (wanted IS NULL OR ARRAY[x.schema_name, x.table_name, x.column_name]
									IN (SELECT tdgen.parse_name(o, 3) FROM unnest(wanted) AS o)) AS target
		FROM jsonb_to_recordset(prod -> 'cols') AS x(schema_name name, table_name name, column_name name, attnum int,
													type_name text, base_type regtype, type_class text, not_null boolean,
													generated boolean, in_unique boolean, unique_alone boolean)
	), nm AS (
		SELECT m.idx, jsonb_agg(jsonb_build_object('category', m.category, 'confidence', m.confidence,
												   'variant', m.variant, 'context', m.context)) AS names
		FROM tdgen.name_matches(ARRAY(SELECT t.table_name::text FROM col AS t ORDER BY t.i),
								ARRAY(SELECT t.column_name::text FROM col AS t ORDER BY t.i),
								ARRAY(SELECT t.type_class FROM col AS t ORDER BY t.i)) AS m
		GROUP BY m.idx
	), fk AS (
		SELECT DISTINCT ON (f.schema_name, f.table_name, f.column_name) f.schema_name, f.table_name, f.column_name,
			   tdgen.qualified(f.ref_schema, f.ref_table, f.ref_column) AS ref
		FROM jsonb_to_recordset(prod -> 'fks') AS f(schema_name name, table_name name, column_name name,
													 ref_schema name, ref_table name, ref_column name)
		ORDER BY f.schema_name, f.table_name, f.column_name, 4
	), checked AS (
		-- columns a CHECK constraint of their table reads
		SELECT DISTINCT n.nspname AS schema_name, r.relname AS table_name, a.name AS column_name
		FROM jsonb_to_recordset(prod -> 'snap' -> 'constraint') AS k(contype "char", conrelid oid, conkey int2[])
		JOIN jsonb_to_recordset(prod -> 'snap' -> 'class') AS r(oid oid, relname name, relnamespace oid) ON r.oid = k.conrelid
		JOIN jsonb_to_recordset(prod -> 'snap' -> 'namespace') AS n(oid oid, nspname name) ON n.oid = r.relnamespace
		CROSS JOIN LATERAL unnest(tdgen.attribute_names(prod -> 'snap', k.conrelid, k.conkey)) AS a(name)
		WHERE k.contype = 'c'
	)
	SELECT coalesce(jsonb_agg(to_jsonb(t) || jsonb_build_object(
			   'matches', coalesce(nm.names, '[]'), 'fk', fk.ref,
			   -- checked by a CHECK constraint, or of a domain (which may have one)
			   'checked', ch.column_name IS NOT NULL OR (t.type_name ~ '\.' AND t.type_class NOT IN ('enum', 'json')))), '[]')
	INTO cols
	FROM col AS t
	LEFT JOIN nm ON nm.idx = t.i
	LEFT JOIN fk ON fk.schema_name = t.schema_name AND fk.table_name = t.table_name AND fk.column_name = t.column_name
	LEFT JOIN checked AS ch ON ch.schema_name = t.schema_name AND ch.table_name = t.table_name
						   AND ch.column_name = t.column_name;

	-- each table's context
	SELECT coalesce(jsonb_object_agg(tdgen.qualified(x.schema_name, x.table_name), to_jsonb(x)), '{}') INTO context
	FROM tdgen.scan_context(cols, prod -> 'fks') AS x;

	-- the columns production's role may not read are judged without a
	-- sample (a query naming one would fail, and end the snapshot)
	IF sample_size > 0 THEN
		SELECT coalesce(jsonb_object_agg(tdgen.qualified(x.nsp, x.rel, x.att), true), '{}') INTO unreadable
		FROM jsonb_to_recordset(tdgen.remote_query(format(
				 'SELECT n.nspname AS nsp, c.relname AS rel, a.attname AS att
				  FROM pg_catalog.pg_class AS c
				  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
				  JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
				  WHERE n.nspname = ANY (%L::name[]) AND c.relkind IN (''r'', ''p'')
					AND NOT pg_catalog.has_column_privilege(c.oid, a.attnum, ''SELECT'')', s.schemas))) AS x(nsp name, rel name, att name);
	END IF;

	-- one sample query per table, reduced to profiles at once
	FOR grp IN
		SELECT x.schema_name, x.table_name, jsonb_agg(x.c) AS cs
		FROM (SELECT e ->> 'schema_name' AS schema_name, e ->> 'table_name' AS table_name, e AS c
			  FROM jsonb_array_elements(cols) AS e
			  WHERE (e ->> 'target')::boolean AND e ->> 'fk' IS NULL
				AND NOT unreadable ? tdgen.qualified(e ->> 'schema_name', e ->> 'table_name', e ->> 'column_name')) AS x
		GROUP BY 1, 2 ORDER BY 1, 2
	LOOP
		sampled := array_append(sampled, jsonb_build_object(tdgen.qualified(grp.schema_name, grp.table_name),
															tdgen.sample_profiles(grp.schema_name, grp.table_name, grp.cs,
																				  sample_size, min_confidence,
																				  context -> tdgen.qualified(grp.schema_name, grp.table_name))));
	END LOOP;
	-- (collected in arrays, which grow in place, and merged once: jsonb
	-- grown by || is copied whole each time)
	SELECT coalesce(jsonb_object_agg(x.key, x.value), '{}') INTO profiles FROM unnest(sampled) AS u, jsonb_each(u) AS x;
	IF opened THEN
		PERFORM tdgen.remote_end();
	END IF;

	-- each column's verdict
	FOR c IN
		SELECT e AS col, (x ->> 'person')::boolean AS person, (x ->> 'related')::boolean AS related,
			   x ->> 'why' AS why, x AS ctx, tdgen.qualified(e ->> 'schema_name', e ->> 'table_name') AS tq
		FROM jsonb_array_elements(cols) AS e,
			 LATERAL (SELECT context -> tdgen.qualified(e ->> 'schema_name', e ->> 'table_name')) AS t(x)
		WHERE (e ->> 'target')::boolean
		ORDER BY e ->> 'schema_name', e ->> 'table_name', (e ->> 'attnum')::integer
	LOOP
		schema_name := c.col ->> 'schema_name';
		table_name := c.col ->> 'table_name';
		column_name := c.col ->> 'column_name';
		type_name := c.col ->> 'type_name';
		IF c.col ->> 'fk' IS NOT NULL THEN
			category := NULL; transform := NULL; params := NULL; confidence := NULL;
			verdict := 'inherit';
			-- what its own name says, for a key it references that is kept
			evidence := jsonb_strip_nulls(jsonb_build_object(
				'references', c.col ->> 'fk',
				'name', (SELECT m ->> 'category' FROM jsonb_array_elements(c.col -> 'matches') AS m
						 WHERE tdgen.name_says_personal(m ->> 'context', (m ->> 'confidence')::real)
						 ORDER BY (m ->> 'confidence')::real DESC, m ->> 'category' LIMIT 1)));
			reason := format('references %s: takes its rule', c.col ->> 'fk');
		ELSE
			v := tdgen.judge_column(c.col || jsonb_build_object(
										'names', (SELECT coalesce(jsonb_object_agg(e ->> 'category', e), '{}')
												  FROM jsonb_array_elements(c.col -> 'matches') AS e
												  WHERE tdgen.context_holds(e ->> 'context', c.person, c.related)),
										'person', c.person, 'related', c.related, 'named', c.ctx -> 'named',
										'context', c.why)
									|| coalesce(profiles -> c.tq -> (c.col ->> 'column_name'), '{}'),
									min_confidence);
			category := v.category; transform := v.transform; params := v.params; confidence := v.confidence;
			verdict := v.verdict; evidence := v.evidence; reason := v.reason;
			IF transform = 'birth_part' THEN
				-- masked as the row's birth date is, with its other parts
				params := tdgen.birth_part_params(column_name,
												  (SELECT jsonb_agg(e) FROM jsonb_array_elements(cols) AS e
												   WHERE e ->> 'schema_name' = schema_name AND e ->> 'table_name' = table_name));
				IF params IS NULL THEN
					category := NULL; transform := NULL; confidence := NULL; verdict := 'review';
					reason := reason || '; but its name says no year, month or day';
				END IF;
			END IF;
		END IF;
		IF unreadable ? tdgen.qualified(schema_name, table_name, column_name) THEN
			evidence := coalesce(evidence, '{}') || '{"unreadable": true}';
			reason := reason || '; production''s role may not read its values, so none was sampled';
		END IF;
		IF verdict = 'review' AND (c.col ->> 'checked')::boolean THEN
			-- a CHECK reads it: no mask by type alone (tdgen_accept)
			evidence := coalesce(evidence, '{}') || '{"checked": true}';
		END IF;
		verdicts := array_append(verdicts, jsonb_build_object(tdgen.qualified(schema_name, table_name, column_name), jsonb_build_object(
			'schema_name', schema_name, 'table_name', table_name, 'column_name', column_name, 'type_name', type_name,
			'type_class', c.col -> 'type_class', 'base_type', c.col -> 'base_type', 'in_unique', c.col -> 'in_unique',
			'not_null', c.col -> 'not_null', 'attnum', c.col -> 'attnum', 'fk', c.col ->> 'fk', 'category', category, 'transform', transform,
			'params', params, 'confidence', confidence, 'verdict', verdict, 'evidence', evidence, 'reason', reason)));
	END LOOP;
	SELECT coalesce(jsonb_object_agg(x.key, x.value), '{}') INTO judged FROM unnest(verdicts) AS u, jsonb_each(u) AS x;

	-- a foreign key takes what the column it references gets
	FOR c IN SELECT x.value AS j, judged -> (x.value ->> 'fk') AS ref FROM jsonb_each(judged) AS x
			 ORDER BY x.value ->> 'schema_name', x.value ->> 'table_name', (x.value ->> 'attnum')::integer
	LOOP
		SELECT * INTO v FROM jsonb_to_record(c.j) AS x(schema_name name, table_name name, column_name name, type_name text,
													   type_class text, base_type regtype, in_unique boolean,
													   not_null boolean, category text, transform text, params jsonb,
													   confidence real,
													   verdict text, evidence jsonb, reason text);
		schema_name := v.schema_name; table_name := v.table_name; column_name := v.column_name;
		type_name := v.type_name; type_class := v.type_class; base_type := v.base_type; in_unique := v.in_unique;
		not_null := v.not_null; category := v.category; transform := v.transform; params := v.params;
		confidence := v.confidence; verdict := v.verdict; evidence := v.evidence; reason := v.reason;
		IF verdict = 'inherit' AND evidence ? 'name'
		   AND coalesce(c.ref ->> 'verdict' = 'keep',
						EXISTS (SELECT FROM tdgen.column_rule AS r
								WHERE tdgen.qualified(r.schema_name, r.table_name, r.column_name) = evidence ->> 'references'
								  AND r.action = 'keep'
								  AND (r.environment IS NULL OR r.environment = source_or_environment))) THEN
			-- its own name says personal: it takes no keep from the key it
			-- references (race_concept_id, a lookup's key); the gate asks
			-- for a review too
			category := evidence ->> 'name';
			confidence := 0.85;
			verdict := 'review';
			reason := format('references %s, which is kept, but its name says %s: a person decides',
							 evidence ->> 'references', category);
		ELSIF verdict = 'inherit' AND c.ref IS NOT NULL THEN
			category := c.ref ->> 'category';
			transform := c.ref ->> 'transform';
			params := c.ref -> 'params';
			confidence := (c.ref ->> 'confidence')::real;
			evidence := evidence || jsonb_build_object('referenced', c.ref -> 'verdict');
			reason := format('%s, whose verdict is %s: %s', reason, c.ref ->> 'verdict', c.ref ->> 'reason');
		END IF;
		RETURN NEXT;
	END LOOP;
END
$$;

CREATE FUNCTION tdgen_scan(source_or_environment text, sample_size integer DEFAULT 200,
						   min_confidence real DEFAULT 0.5)
RETURNS TABLE (column_name text, data_type text, verdict text, category text, transform text, params jsonb,
			   confidence real, evidence jsonb, reason text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT tdgen.qualified(x.schema_name, x.table_name, x.column_name), x.type_name, x.verdict, x.category,
		   x.transform, x.params, x.confidence, x.evidence, x.reason
	FROM tdgen.scan_columns(source_or_environment, NULL, sample_size, min_confidence) AS x;
END;

-- The review step, failing closed: the scan's rules for the columns it
-- finds personal, keeps for the columns it has positive evidence are not,
-- and nothing for the others, which stay unreviewed and stop the gate
-- until a person decides.  For an environment whose option unsure is
-- "mask", those get a conservative mask of their type there instead
-- (tdgen.default_mask).  All columns, or the given ones.  Returns what it
-- wrote: action mask, keep or default_mask.
CREATE FUNCTION tdgen_accept(source_or_environment text, columns text[] DEFAULT NULL,
							 min_confidence real DEFAULT 0.5)
RETURNS TABLE (column_name text, action text, transform text, params jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	x record;
	dm record;
	unsure_mask boolean := coalesce((SELECT e.options ->> 'unsure' = 'mask' FROM tdgen.environment AS e
									 WHERE e.name = source_or_environment), false);
BEGIN
	FOR x IN
		SELECT s.*, tdgen.qualified(s.schema_name, s.table_name, s.column_name) AS q
		FROM tdgen.scan_columns(source_or_environment, columns, 200, min_confidence) AS s
		WHERE s.verdict IN ('mask', 'keep')
		   OR (s.verdict = 'review' AND unsure_mask AND NOT s.evidence ? 'references' AND NOT s.evidence ? 'checked')
	LOOP
		column_name := x.q;
		IF x.verdict = 'mask' THEN
			PERFORM @extschema@.tdgen_rule(x.q, x.transform, x.params);
			action := 'mask'; transform := x.transform; params := x.params;
		ELSIF x.verdict = 'keep' THEN
			PERFORM @extschema@.tdgen_keep(x.q, 'scan: ' || x.reason);
			action := 'keep'; transform := NULL; params := NULL;
		ELSE
			dm := tdgen.default_mask(x.type_class, x.base_type, x.in_unique, x.not_null);
			CONTINUE WHEN dm.transform IS NULL;
			PERFORM @extschema@.tdgen_rule(x.q, dm.transform, dm.params, source_or_environment);
			action := 'default_mask'; transform := dm.transform; params := dm.params;
		END IF;
		RETURN NEXT;
	END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Privileges and comments
-- ---------------------------------------------------------------------------

REVOKE ALL ON FUNCTION tdgen.sample_profiles(name, name, jsonb, integer, real, jsonb),
	tdgen.scan_columns(text, text[], integer, real), tdgen_scan(text, integer, real),
	tdgen_accept(text, text[], real) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tdgen_scan(text, integer, real), tdgen_accept(text, text[], real) TO tdgen_admin;
GRANT SELECT ON tdgen.active_category TO tdgen_admin;

COMMENT ON FUNCTION tdgen.value_profile(text[]) IS
	'counts, over a sample of values, of those with each recognised shape (email, Luhn, NPI, DEA, IBAN, SSN, IP, MAC, phone, ZIP, names and places of the census lists, street, URL, free text...); never a value';
COMMENT ON FUNCTION tdgen.value_signal(text, text) IS
	'whether one value shows a signal of tdgen.value_profile: its validators, one at a time';
COMMENT ON FUNCTION tdgen.signal_weight(text) IS
	'what a value signal says on its own, whether its absence speaks against a name match, and what a table about people adds';
COMMENT ON VIEW tdgen.active_category IS
	'the categories not disabled';
COMMENT ON FUNCTION tdgen.thing_words() IS
	'words that, before a generic last word of a column name (name, title, address), say it is not a person''s';
COMMENT ON FUNCTION tdgen.meta_words() IS
	'last words of a column name that make it data about a thing (its type, status, format) rather than the thing';
COMMENT ON FUNCTION tdgen.context_holds(text, boolean, boolean) IS
	'whether a name match counts in a table: its pattern asks for no context, or for one the table has';
COMMENT ON FUNCTION tdgen.name_says_personal(text, real) IS
	'whether a name match alone says a column is personal, wherever it is: then a foreign key takes no keep from the key it references';
COMMENT ON FUNCTION tdgen.name_variants(text) IS
	'the names a column is matched by: its own in lower case with underscores, then with leading words dropped';
COMMENT ON FUNCTION tdgen.name_matches(text[], text[], text[]) IS
	'for each column (table, name, type class): the enabled categories whose column patterns match a variant of its name, with the context the pattern asks for';
COMMENT ON FUNCTION tdgen.value_matches(text[], text) IS
	'per enabled category with value patterns: the share of the values that match one';
COMMENT ON FUNCTION tdgen.transform_fits(text, regtype, text) IS
	'whether a transform takes a column of the given base type and type class';
COMMENT ON FUNCTION tdgen.rule_injective(text, jsonb) IS
	'whether a transform with these parameters keeps distinct values distinct';
COMMENT ON FUNCTION tdgen.sample_profiles(name, name, jsonb, integer, real, jsonb) IS
	'one remote sample query for some columns of a production table, reduced at once to value profiles (and JSON specs); the values are dropped';
COMMENT ON FUNCTION tdgen.scan_context(jsonb, jsonb) IS
	'which tables are about people (by name, columns, or a one-to-one reference) and which reference such a table, with why';
COMMENT ON FUNCTION tdgen.health_tables() IS
	'the pattern of names of clinical tables, whose values about a person are health data';
COMMENT ON FUNCTION tdgen.system_date(text) IS
	'whether a date column''s name says the system wrote it (created_at, updated_at...)';
COMMENT ON FUNCTION tdgen.fit_rule(text, text, regtype, boolean, boolean) IS
	'a category''s rule fitted to a column: array_mask on text arrays, the nearest transform that takes the type, injective on unique columns';
COMMENT ON FUNCTION tdgen.default_mask(text, regtype, boolean, boolean) IS
	'a conservative mask of a column''s type for columns the scan is unsure about, or NULL when there is none';
COMMENT ON FUNCTION tdgen.birth_part_params(text, jsonb) IS
	'a birth_part rule''s parameters for a column: the part its name says, and its table''s birth date and other part columns';
COMMENT ON FUNCTION tdgen.judge_column(jsonb, real) IS
	'the verdict on one column from its name matches, value profile, type and context: mask (with the rule), keep (with the evidence it is not personal) or review; evidence as counts';
COMMENT ON FUNCTION tdgen.json_spec(jsonb[], real, jsonb) IS
	'a jsonb_mask spec for the personal fields of sampled JSON documents';
COMMENT ON FUNCTION tdgen.scan_columns(text, text[], integer, real) IS
	'the verdict on every production column without a rule (or the given ones), from one catalog read and one sample query per table';
COMMENT ON FUNCTION tdgen_scan(text, integer, real) IS
	'for every production column without a rule: verdict (mask, keep, inherit or review), category, suggested rule, confidence, evidence (signals and counts) and reason; sampled values are never stored or shown';
COMMENT ON FUNCTION tdgen_accept(text, text[], real) IS
	'the review step that fails closed: writes the scan''s rules and its keeps of columns with positive evidence of holding nothing personal, leaving the unsure ones unreviewed (or, with the environment option unsure = mask, masked by their type); returns what it wrote';
