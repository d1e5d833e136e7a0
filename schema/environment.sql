-- ===========================================================================
-- schema/environment.sql
--     Environments and who may do what with them: the owner, grants of
--     refresh, read and write, and the target schema a refresh may replace.
--
-- Every environment has an owner role that is never a superuser.  Its
-- members and superusers configure the environment and grant others
-- refresh (run tdgen_refresh and tdgen_plan), read (the target schema's
-- tables and sequences) or write (read plus changing rows).  Entry points
-- that must know their caller are C functions (src/entry.c) calling the
-- *_by functions here as tdgen's owner, with the caller's role first;
-- nobody else may execute those.
-- ===========================================================================

-- What marks a schema as an environment's target (its comment, which only
-- the schema's owner or a superuser can set).
CREATE FUNCTION tdgen.target_mark(environment text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN format('tdgen: target of environment %s', environment);

-- Raise 42501 unless the caller may change an environment: a superuser, or
-- a member of its owner.
CREATE FUNCTION tdgen.check_may_configure(e tdgen.environment, caller oid)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NOT tdgen.is_superuser(caller) AND NOT pg_has_role(caller, e.owner, 'MEMBER') THEN
		RAISE EXCEPTION 'permission denied for environment %', quote_literal(e.name)
			USING ERRCODE = 'insufficient_privilege',
				  HINT = format('Only members of its owner %s and superusers may change it.', quote_ident(e.owner));
	END IF;
END
$$;

-- Whether a role may refresh an environment: a superuser, a member of its
-- owner, or a member of a role granted refresh.
CREATE FUNCTION tdgen.may_refresh(environment text, role oid)
RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
RETURN tdgen.is_superuser(role)
	OR EXISTS (SELECT FROM tdgen.environment AS e
			   WHERE e.name = may_refresh.environment AND to_regrole(quote_ident(e.owner)) IS NOT NULL
				 AND pg_has_role(may_refresh.role, quote_ident(e.owner)::regrole, 'MEMBER'))
	OR EXISTS (SELECT FROM tdgen.environment_grant AS g
			   WHERE g.environment = may_refresh.environment AND g.privilege = 'refresh'
				 AND to_regrole(quote_ident(g.role)) IS NOT NULL
				 AND pg_has_role(may_refresh.role, quote_ident(g.role)::regrole, 'MEMBER'));

-- The owner of an environment that caller creates or changes: the one
-- named (an existing role that is no superuser, of which the caller is a
-- member), else the one it has, else the caller when it is no superuser,
-- else a NOLOGIN role tdgen creates for it, tdgen_<environment>_owner.
CREATE FUNCTION tdgen.environment_owner(environment text, caller oid, named name, current name)
RETURNS name
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	role_name name := coalesce(named, current);
BEGIN
	IF role_name IS NULL AND NOT tdgen.is_superuser(caller) THEN
		RETURN caller::regrole::name;
	END IF;
	IF role_name IS NULL THEN
		role_name := format('tdgen_%s_owner', environment);
		IF to_regrole(quote_ident(role_name)) IS NULL THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
			EXECUTE format('COMMENT ON ROLE %I IS %L', role_name,
						   format('tdgen: owner of environment %s', environment));
		END IF;
	END IF;
	IF to_regrole(quote_ident(role_name)) IS NULL THEN
		RAISE EXCEPTION 'role % does not exist', quote_ident(role_name)
			USING ERRCODE = 'undefined_object', HINT = 'Name an existing role as the environment''s owner, or none.';
	END IF;
	IF tdgen.is_superuser(quote_ident(role_name)::regrole) THEN
		RAISE EXCEPTION 'superuser % cannot own environment %', quote_ident(role_name), quote_literal(environment)
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'An environment''s refresh runs as its owner: name a role without superuser rights, or none (tdgen then makes one).';
	END IF;
	IF named IS DISTINCT FROM current AND named IS NOT NULL AND NOT tdgen.is_superuser(caller)
	   AND NOT pg_has_role(caller, quote_ident(named)::regrole, 'MEMBER') THEN
		RAISE EXCEPTION 'permission denied to make % the owner of environment %', quote_ident(named), quote_literal(environment)
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Name a role you are a member of.';
	END IF;
	RETURN role_name;
END
$$;

-- Raise unless a schema may be an environment's target: not a system,
-- tdgen or extension schema, and, when it exists, marked as this
-- environment's target by an earlier refresh.
CREATE FUNCTION tdgen.check_target_schema(environment text, target name)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	nsp oid := to_regnamespace(quote_ident(target));
BEGIN
	IF target ~ '^(pg_|tdgen)' OR target IN ('public', 'information_schema')
	   OR EXISTS (SELECT FROM pg_extension AS x WHERE x.extnamespace = nsp)
	   OR EXISTS (SELECT FROM pg_depend AS d
				  WHERE d.classid = 'pg_namespace'::regclass AND d.objid = nsp AND d.deptype = 'e') THEN
		RAISE EXCEPTION 'schema % cannot be a target', quote_ident(target)
			USING ERRCODE = 'invalid_schema_name',
				  HINT = 'A refresh replaces its target schema whole: choose a schema of its own, such as the environment''s name.';
	END IF;
	IF nsp IS NOT NULL AND obj_description(nsp, 'pg_namespace') IS DISTINCT FROM tdgen.target_mark(environment) THEN
		RAISE EXCEPTION 'schema % exists and was not made by tdgen for environment %', quote_ident(target),
				quote_literal(environment)
			USING ERRCODE = 'duplicate_schema',
				  HINT = 'A refresh replaces its target whole: choose a schema that does not exist yet, or drop this one first.';
	END IF;
END
$$;

-- The schemas an environment's refresh builds, in order: the source's
-- schemas, then those its objects need from elsewhere (extra).  Each gets
-- a target schema: the environment's target schema for a source of one
-- schema, else <target schema>_<schema>, unless the option schemas names
-- one ({"sales": "qa_sales"}); and the names of the shadow schema a
-- refresh builds it in and of the old target on its way out
-- (tdgen_shadow_<environment>_<n>, tdgen_old_<environment>_<n>).
CREATE FUNCTION tdgen.schema_map(e tdgen.environment, extra name[] DEFAULT '{}')
RETURNS TABLE (source_schema name, target_schema name, shadow_schema name, old_schema name)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	WITH listed AS (
		SELECT s.schemas FROM tdgen.source AS s WHERE s.name = e.source
	), numbered AS (
		SELECT x.nsp, min(x.i) AS i
		FROM listed, unnest(listed.schemas || extra) WITH ORDINALITY AS x(nsp, i)
		GROUP BY x.nsp
	)
	SELECT n.nsp,
		   coalesce(e.options -> 'schemas' ->> n.nsp,
					CASE WHEN cardinality(l.schemas) = 1 AND n.nsp = l.schemas[1] THEN e.target_schema
						 ELSE left(e.target_schema || '_' || n.nsp, 63) END)::name,
		   format('tdgen_shadow_%s_%s', e.name, n.i)::name,
		   format('tdgen_old_%s_%s', e.name, n.i)::name
	FROM numbered AS n, listed AS l
	ORDER BY n.i;
END;

-- Whether a schema's name is prefix followed by a number.  No regular
-- expression: a run's record is closed with a cancel held off, and the
-- regular expression engine gives up on a pending cancel all the same.
CREATE FUNCTION tdgen.numbered_name(schema_name name, prefix text)
RETURNS boolean
LANGUAGE sql IMMUTABLE
RETURN starts_with(schema_name, prefix) AND length(schema_name) > length(prefix)
	   AND ltrim(substr(schema_name, length(prefix) + 1), '0123456789') = '';

-- Shadow and old schemas an environment's refreshes left behind (a
-- refresh that died, or one that failed and could not drop them).
CREATE FUNCTION tdgen.leftover_schemas(environment text)
RETURNS SETOF name
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT n.nspname FROM pg_namespace AS n
	WHERE tdgen.numbered_name(n.nspname, 'tdgen_shadow_' || environment || '_')
	   OR tdgen.numbered_name(n.nspname, 'tdgen_old_' || environment || '_')
	ORDER BY 1;
END;

-- The schemas a refresh's swap replaces: the targets of its schema map
-- (tdgen.schema_map rows as jsonb), and any other schema marked as the
-- environment's target, left by a schema its source no longer reads.
CREATE FUNCTION tdgen.swapped_targets(e tdgen.environment, schemas jsonb)
RETURNS name[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT array_agg(DISTINCT t.nsp ORDER BY t.nsp) FROM (
		SELECT (m ->> 'target_schema')::name AS nsp FROM jsonb_array_elements(schemas) AS m
		UNION
		SELECT n.nspname FROM pg_namespace AS n WHERE obj_description(n.oid, 'pg_namespace') = tdgen.target_mark(e.name)
	) AS t;
END;

-- Objects outside an environment's targets that depend on objects in them
-- (a view over one of its tables, a default calling one of its
-- functions): replacing the targets would drop them.
CREATE FUNCTION tdgen.target_dependents(targets name[])
RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off
BEGIN ATOMIC
	WITH target AS (
		SELECT n.oid FROM pg_namespace AS n WHERE n.nspname = ANY (targets)
	), member AS (
		-- the objects in the targets that others can depend on
		SELECT 'pg_class'::regclass::oid AS classid, c.oid FROM pg_class AS c WHERE c.relnamespace IN (SELECT t.oid FROM target AS t)
		UNION ALL
		SELECT 'pg_type'::regclass, t.oid FROM pg_type AS t WHERE t.typnamespace IN (SELECT x.oid FROM target AS x)
		UNION ALL
		SELECT 'pg_proc'::regclass, p.oid FROM pg_proc AS p WHERE p.pronamespace IN (SELECT t.oid FROM target AS t)
		UNION ALL
		SELECT 'pg_operator'::regclass, o.oid FROM pg_operator AS o WHERE o.oprnamespace IN (SELECT t.oid FROM target AS t)
		UNION ALL
		SELECT 'pg_namespace'::regclass, t.oid FROM target AS t
	), dependency AS (
		-- what depends on them, found by pg_depend's index on the
		-- referenced object (not a scan of all of pg_depend)
		SELECT d.* FROM member AS m
		JOIN pg_depend AS d ON d.refclassid = m.classid AND d.refobjid = m.oid
		WHERE d.deptype IN ('n', 'a')
	), owned AS (
		-- the schema an object lives in, through the table of the parts of
		-- tables (rules, triggers, defaults, policies)
		SELECT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid,
			   CASE d.classid
					WHEN 'pg_class'::regclass THEN (SELECT c.relnamespace FROM pg_class AS c WHERE c.oid = d.objid)
					WHEN 'pg_type'::regclass THEN (SELECT t.typnamespace FROM pg_type AS t WHERE t.oid = d.objid)
					WHEN 'pg_proc'::regclass THEN (SELECT p.pronamespace FROM pg_proc AS p WHERE p.oid = d.objid)
					WHEN 'pg_constraint'::regclass THEN (SELECT k.connamespace FROM pg_constraint AS k WHERE k.oid = d.objid)
					WHEN 'pg_operator'::regclass THEN (SELECT o.oprnamespace FROM pg_operator AS o WHERE o.oid = d.objid)
					WHEN 'pg_attrdef'::regclass THEN (SELECT c.relnamespace FROM pg_attrdef AS a JOIN pg_class AS c ON c.oid = a.adrelid
													  WHERE a.oid = d.objid)
					WHEN 'pg_rewrite'::regclass THEN (SELECT c.relnamespace FROM pg_rewrite AS r JOIN pg_class AS c ON c.oid = r.ev_class
													  WHERE r.oid = d.objid)
					WHEN 'pg_trigger'::regclass THEN (SELECT c.relnamespace FROM pg_trigger AS g JOIN pg_class AS c ON c.oid = g.tgrelid
													  WHERE g.oid = d.objid)
					WHEN 'pg_policy'::regclass THEN (SELECT c.relnamespace FROM pg_policy AS p JOIN pg_class AS c ON c.oid = p.polrelid
													 WHERE p.oid = d.objid)
					WHEN 'pg_statistic_ext'::regclass THEN (SELECT s.stxnamespace FROM pg_statistic_ext AS s WHERE s.oid = d.objid)
					WHEN 'pg_namespace'::regclass THEN d.objid
			   END AS objnsp,
			   CASE d.refclassid
					WHEN 'pg_class'::regclass THEN (SELECT c.relnamespace FROM pg_class AS c WHERE c.oid = d.refobjid)
					WHEN 'pg_type'::regclass THEN (SELECT t.typnamespace FROM pg_type AS t WHERE t.oid = d.refobjid)
					WHEN 'pg_proc'::regclass THEN (SELECT p.pronamespace FROM pg_proc AS p WHERE p.oid = d.refobjid)
					WHEN 'pg_operator'::regclass THEN (SELECT o.oprnamespace FROM pg_operator AS o WHERE o.oid = d.refobjid)
					WHEN 'pg_namespace'::regclass THEN d.refobjid
			   END AS refnsp
		FROM dependency AS d
	)
	SELECT DISTINCT pg_describe_object(o.classid, o.objid, o.objsubid)
	FROM owned AS o
	WHERE o.refnsp IN (SELECT t.oid FROM target AS t)
	  AND o.objnsp NOT IN (SELECT t.oid FROM target AS t)
	  AND o.objnsp IS DISTINCT FROM 'pg_toast'::regnamespace
	ORDER BY 1;
END;

-- Raise before a refresh replaces an environment's targets, unless it
-- may: each must be the environment's own (tdgen.check_target_schema),
-- and no object outside them may depend on them (2BP01 listing them),
-- unless the environment's option drop_dependents says to drop them too.
CREATE FUNCTION tdgen.check_target(e tdgen.environment, targets name[])
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	dependents text;
BEGIN
	PERFORM tdgen.check_target_schema(e.name, t) FROM unnest(targets) AS t;
	IF coalesce((e.options ->> 'drop_dependents')::boolean, false) THEN
		RETURN;
	END IF;
	SELECT string_agg(x, E'\n') INTO dependents FROM tdgen.target_dependents(targets) AS x;
	IF dependents IS NOT NULL THEN
		RAISE EXCEPTION 'objects outside the target schemas of environment % depend on them', quote_literal(e.name)
			USING ERRCODE = 'dependent_objects_still_exist', DETAIL = dependents,
				  HINT = format('A refresh replaces its schemas whole and drops nothing else: drop or move them, or set the environment''s option drop_dependents to true (tdgen_environment(%L, ..., options => ''{"drop_dependents": true}'')).', e.name);
	END IF;
END
$$;

-- What a refresh does as an environment's owner, the owner may do: run
-- the keyed transforms (never fpe_decrypt) and the loaders, open tdgen's
-- connection to production (with its own user mapping), add foreign keys
-- with tdgen's planner settings, and read the source's foreign tables.
CREATE FUNCTION tdgen.grant_owner_rights(owner name, source text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN
		SELECT p.oid::regprocedure
		FROM pg_proc AS p JOIN tdgen.transform AS t ON t.name = p.proname
		WHERE p.pronamespace = 'tdgen'::regnamespace AND t.keyed AND t.name <> 'fpe_decrypt'
		UNION ALL
		SELECT x::regprocedure
		FROM unnest(ARRAY['tdgen.load_rows(regclass, text)', 'tdgen.copy_rows(regclass, text, regclass, text[], text[], boolean)',
						  'tdgen.remote_begin(name, text, boolean)', 'tdgen.add_foreign_key(regclass, regclass, text, name[], name[])',
						  'tdgen.add_key(regclass, text, name[])']) AS x
	LOOP
		EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, owner);
	END LOOP;
	PERFORM tdgen.grant_source_reads(source);
END
$$;

-- The owners of a source's environments read its foreign tables (through
-- their own user mappings), as the refreshes they own do.
CREATE FUNCTION tdgen.grant_source_reads(source text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT DISTINCT s.local_schema, e.owner
		FROM tdgen.environment AS e JOIN tdgen.source AS s ON s.name = e.source
		WHERE s.name = grant_source_reads.source AND to_regrole(quote_ident(e.owner)) IS NOT NULL
		  AND to_regnamespace(quote_ident(s.local_schema)) IS NOT NULL
	LOOP
		EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', r.local_schema, r.owner);
		EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', r.local_schema, r.owner);
	END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Environments
-- ---------------------------------------------------------------------------

-- Raise 22023 unless an option, when given, is a whole number from lo to
-- hi; hint says what it is for.
CREATE FUNCTION tdgen.check_number_option(options jsonb, k text, lo integer, hi integer, hint text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF options ? k AND (jsonb_typeof(options -> k) <> 'number' OR (options ->> k)::numeric NOT IN (SELECT generate_series(lo, hi))) THEN
		RAISE EXCEPTION '% must be a whole number from % to %, not %', k, lo, hi, options -> k
			USING ERRCODE = 'invalid_parameter_value', HINT = hint;
	END IF;
END
$$;

-- Raise 22023 unless an option, when given, is true or false.
CREATE FUNCTION tdgen.check_boolean_option(options jsonb, k text, hint text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF options ? k AND jsonb_typeof(options -> k) <> 'boolean' THEN
		RAISE EXCEPTION '% must be true or false, not %', k, options -> k USING ERRCODE = 'invalid_parameter_value', HINT = hint;
	END IF;
END
$$;

-- Raise 22023 unless an environment's policy options are well formed:
-- min_interval, retry_delay and retention intervals (retry_delay at most
-- an hour), window two local times "HH:MM-HH:MM", retries 0 to 10,
-- notify true or false.
CREATE FUNCTION tdgen.check_policy(options jsonb)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	k text;
	v interval;
BEGIN
	FOREACH k IN ARRAY ARRAY['min_interval', 'retry_delay', 'retention'] LOOP
		CONTINUE WHEN NOT options ? k;
		BEGIN
			v := CASE WHEN jsonb_typeof(options -> k) = 'string' THEN (options ->> k)::interval END;
		EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
			v := NULL;
		END;
		IF v IS NULL OR v <= interval '0' OR k = 'retry_delay' AND v > interval '1 hour' THEN
			RAISE EXCEPTION '% must be a positive interval%, not %', k,
							CASE WHEN k = 'retry_delay' THEN ' of at most an hour' ELSE '' END, options -> k
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = CASE k WHEN 'min_interval' THEN 'For example "6 hours": a refresh sooner than that after the last success is refused, unless forced.'
									WHEN 'retry_delay' THEN 'For example "1 minute": how long a refresh waits before it tries again after a transient failure.'
									ELSE 'For example "90 days": the run history older than that is pruned when a refresh starts.' END;
		END IF;
	END LOOP;
	IF options ? 'window' AND (jsonb_typeof(options -> 'window') <> 'string'
							   OR options ->> 'window' !~ '^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$'
							   OR split_part(options ->> 'window', '-', 1) = split_part(options ->> 'window', '-', 2)) THEN
		RAISE EXCEPTION 'window must be two different local times "HH:MM-HH:MM", not %', options -> 'window'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example "22:00-06:00": scheduled refreshes start only from 22:00 to 06:00 in the schedule''s time zone.';
	END IF;
	PERFORM tdgen.check_number_option(options, 'retries', 0, 10,
		'How many times a refresh tries again after a transient failure (a lost connection, a shutdown, a serialization failure).');
	PERFORM tdgen.check_boolean_option(options, 'notify', 'true sends NOTIFY tdgen_run with a small JSON object when a run ends.');
END
$$;

CREATE FUNCTION tdgen_environment(name text, source text, target_schema name DEFAULT NULL,
								  options jsonb DEFAULT '{}', owner name DEFAULT NULL)
RETURNS void
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_entry';

CREATE FUNCTION tdgen.environment_by(caller regrole, name text, source text, target_schema name, options jsonb,
									 owner name)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	old tdgen.environment;
	target name := coalesce(target_schema, name);
	targets name[];
	clash name;
	other text;
BEGIN
	PERFORM tdgen.check_simple_name('environment', name);
	SELECT * INTO old FROM tdgen.environment AS e WHERE e.name = environment_by.name;
	IF FOUND THEN
		PERFORM tdgen.check_may_configure(old, caller);
	ELSIF NOT tdgen.is_superuser(caller) AND NOT pg_has_role(caller, 'tdgen_admin', 'MEMBER') THEN
		RAISE EXCEPTION 'permission denied to create environment %', quote_literal(name)
			USING ERRCODE = 'insufficient_privilege', HINT = 'Members of tdgen_admin and superusers create environments.';
	END IF;
	IF NOT EXISTS (SELECT FROM tdgen.source AS s WHERE s.name = source) THEN
		RAISE EXCEPTION 'no source named %', coalesce(quote_literal(source), 'NULL')
			USING ERRCODE = 'undefined_object', HINT = 'Create it first with tdgen_source(name, server, schemas).';
	END IF;
	IF options IS NULL OR jsonb_typeof(options) <> 'object' THEN
		RAISE EXCEPTION 'environment options must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF options ? 'transfer' AND coalesce(options ->> 'transfer', '') NOT IN ('copy', 'fdw') THEN
		RAISE EXCEPTION 'transfer must be "copy" or "fdw", not %', options -> 'transfer'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'copy: binary COPY over tdgen''s own connection (postgres_fdw servers); fdw: the foreign tables.';
	END IF;
	PERFORM tdgen.check_number_option(options, 'jobs', 1, 32,
		'jobs is how many tables a refresh loads and indexes side by side, each in a background worker.');
	PERFORM tdgen.check_boolean_option(options, 'drop_dependents', 'true lets a refresh drop objects outside the target that depend on it.');
	IF options ? 'unsure' AND coalesce(options ->> 'unsure', '') NOT IN ('review', 'mask') THEN
		RAISE EXCEPTION 'unsure must be "review" or "mask", not %', options -> 'unsure'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'review leaves the columns the scan is unsure about to a person (the default); mask gives them a conservative mask of their type.';
	END IF;
	PERFORM tdgen.check_boolean_option(options, 'triggers',
		'false leaves production''s triggers out of the target; they are made after the load either way.');
	IF options ? 'seed' AND (jsonb_typeof(options -> 'seed') <> 'number' OR (options ->> 'seed')::numeric <> trunc((options ->> 'seed')::numeric)
							 OR abs((options ->> 'seed')::numeric) > 9223372036854775807) THEN
		RAISE EXCEPTION 'seed must be a whole number, not %', options -> 'seed'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'A subset''s percent targets sample the same rows while production and the seed stay the same; another seed, other rows.';
	END IF;
	IF options ? 'unreached' AND coalesce(options ->> 'unreached', '') NOT IN ('empty', 'copy') THEN
		RAISE EXCEPTION 'unreached must be "empty" or "copy", not %', options -> 'unreached'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'In a subset, the tables no target reaches are made empty (the default) or copied whole.';
	END IF;
	IF options ? 'orphans' AND coalesce(options ->> 'orphans', '') NOT IN ('keep', 'drop', 'null', 'fail') THEN
		RAISE EXCEPTION 'orphans must be "keep", "drop", "null" or "fail", not %', options -> 'orphans'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'In a subset, a row whose parent production lacks (behind a NOT VALID foreign key) is loaded as it is (keep, the default), left out with the rows that need it (drop), loaded with NULL in its key (null), or fails the refresh (fail).';
	END IF;
	IF EXISTS (SELECT FROM unnest(ARRAY['max_rows', 'max_bytes']) AS k
			   WHERE options ? k AND (jsonb_typeof(options -> k) <> 'number' OR (options ->> k)::numeric < 0
									  OR (options ->> k)::numeric <> trunc((options ->> k)::numeric))) THEN
		RAISE EXCEPTION 'max_rows and max_bytes must be whole numbers, not % and %', coalesce(options -> 'max_rows', 'null'),
						coalesce(options -> 'max_bytes', 'null')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'They cap a subset: over either, the refresh fails before any row is loaded.';
	END IF;
	PERFORM tdgen.check_policy(options);
	IF options ->> 'transfer' = 'copy' AND NOT tdgen.source_is_postgres(source) THEN
		RAISE EXCEPTION 'transfer "copy" needs a postgres_fdw server'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Use transfer "fdw" for other foreign data wrappers.';
	END IF;
	IF options ? 'schemas' AND (jsonb_typeof(options -> 'schemas') <> 'object'
								 OR EXISTS (SELECT FROM jsonb_each(options -> 'schemas') AS x
											WHERE jsonb_typeof(x.value) <> 'string' OR x.value #>> '{}' !~ '^.{1,63}$'
											   OR x.key !~ '^.{1,63}$')) THEN
		RAISE EXCEPTION 'schemas must map production schema names to target schema names, not %', options -> 'schemas'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example {"sales": "qa_sales"}; schemas it does not name go to <target schema>_<schema>, or to the target schema for a source of one schema.';
	END IF;
	-- each target schema is this environment's alone
	SELECT array_agg(m.target_schema ORDER BY m.target_schema) INTO targets
	FROM tdgen.schema_map(ROW(name, source, target, NULL, options, NULL)::tdgen.environment) AS m;
	SELECT t INTO clash FROM unnest(targets) AS t GROUP BY t HAVING count(*) > 1 LIMIT 1;
	IF clash IS NOT NULL THEN
		RAISE EXCEPTION 'two schemas of environment % go to target schema %', quote_literal(name), quote_ident(clash)
			USING ERRCODE = 'duplicate_schema', HINT = 'Name a target schema of its own for each in the option schemas.';
	END IF;
	SELECT m.target_schema, e.name INTO clash, other
	FROM tdgen.environment AS e, tdgen.schema_map(e) AS m
	WHERE e.name <> environment_by.name AND m.target_schema = ANY (targets)
	LIMIT 1;
	IF clash IS NOT NULL THEN
		RAISE EXCEPTION 'schema % is a target of environment %', quote_ident(clash), quote_literal(other)
			USING ERRCODE = 'duplicate_schema', HINT = 'Each environment has target schemas of its own.';
	END IF;
	PERFORM tdgen.check_target_schema(name, t) FROM unnest(targets) AS t;
	INSERT INTO tdgen.environment (name, source, target_schema, owner, options)
	VALUES (name, source, target, tdgen.environment_owner(name, caller, owner, old.owner), options)
	ON CONFLICT ON CONSTRAINT environment_pkey
	DO UPDATE SET source = excluded.source, target_schema = excluded.target_schema, owner = excluded.owner,
				  options = excluded.options;
	PERFORM tdgen.grant_owner_rights(e.owner, e.source) FROM tdgen.environment AS e WHERE e.name = environment_by.name;
END
$$;

CREATE FUNCTION tdgen_drop_environment(name text)
RETURNS boolean
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_entry';

CREATE FUNCTION tdgen.drop_environment_by(caller regrole, name text)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	e tdgen.environment;
BEGIN
	SELECT * INTO e FROM tdgen.environment AS x WHERE x.name = drop_environment_by.name;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM tdgen.check_may_configure(e, caller);
	PERFORM tdgen.drop_job(e.name);
	DELETE FROM tdgen.environment AS x WHERE x.name = e.name;
	RETURN true;
END
$$;

-- ---------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------

CREATE FUNCTION tdgen_grant(environment text, privilege text, role name)
RETURNS void
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_entry';

CREATE FUNCTION tdgen_revoke(environment text, privilege text, role name)
RETURNS boolean
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_entry';

-- The environment of a grant or revoke, once its arguments are checked.
CREATE FUNCTION tdgen.grant_environment(caller oid, environment text, privilege text, role name)
RETURNS tdgen.environment
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	e tdgen.environment := tdgen.resolve_environment(environment);
BEGIN
	PERFORM tdgen.check_may_configure(e, caller);
	IF privilege IS NULL OR privilege NOT IN ('refresh', 'read', 'write') THEN
		RAISE EXCEPTION 'unknown environment privilege %', coalesce(quote_literal(privilege), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'refresh: run tdgen_refresh and tdgen_plan; read: read the target; write: read and change its rows.';
	END IF;
	IF to_regrole(quote_ident(role)) IS NULL THEN
		RAISE EXCEPTION 'role % does not exist', coalesce(quote_ident(role), 'NULL')
			USING ERRCODE = 'undefined_object', HINT = 'Grant to an existing role (CREATE ROLE first).';
	END IF;
	RETURN e;
END
$$;

CREATE FUNCTION tdgen.grant_by(caller regrole, environment text, privilege text, role name)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	e tdgen.environment := tdgen.grant_environment(caller, environment, privilege, role);
BEGIN
	INSERT INTO tdgen.environment_grant AS g (environment, privilege, role, granted_by)
	VALUES (e.name, privilege, role, caller::name)
	ON CONFLICT ON CONSTRAINT environment_grant_pkey DO NOTHING;
END
$$;

CREATE FUNCTION tdgen.revoke_by(caller regrole, environment text, privilege text, role name)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	e tdgen.environment := tdgen.grant_environment(caller, environment, privilege, role);
BEGIN
	DELETE FROM tdgen.environment_grant AS g
	WHERE g.environment = e.name AND g.privilege = revoke_by.privilege AND g.role = revoke_by.role;
	RETURN FOUND;
END
$$;

-- The GRANT statements that give an environment's read and write grantees
-- their rights on a schema about to become its target.
CREATE FUNCTION tdgen.grant_statements(environment text, schema_name name)
RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT format(s, schema_name, g.role)
	FROM tdgen.environment_grant AS g,
		 LATERAL unnest(CASE g.privilege
				WHEN 'read' THEN ARRAY['GRANT USAGE ON SCHEMA %I TO %I',
									   'GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I',
									   'GRANT SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I']
				WHEN 'write' THEN ARRAY['GRANT USAGE ON SCHEMA %I TO %I',
										'GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA %I TO %I',
										'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I'] END) WITH ORDINALITY AS x(s, i)
	WHERE g.environment = grant_statements.environment AND to_regrole(quote_ident(g.role)) IS NOT NULL
	ORDER BY g.role, g.privilege, x.i;
END;

-- ---------------------------------------------------------------------------
-- Privileges and comments
-- ---------------------------------------------------------------------------

-- The *_by functions run as tdgen's owner for the entry points alone.
REVOKE ALL ON FUNCTION tdgen.check_may_configure(tdgen.environment, oid),
	tdgen.may_refresh(text, oid), tdgen.environment_owner(text, oid, name, name), tdgen.check_target_schema(text, name),
	tdgen.schema_map(tdgen.environment, name[]), tdgen.numbered_name(name, text), tdgen.leftover_schemas(text),
	tdgen.swapped_targets(tdgen.environment, jsonb),
	tdgen.target_dependents(name[]), tdgen.check_target(tdgen.environment, name[]),
	tdgen.environment_by(regrole, text, text, name, jsonb, name), tdgen.drop_environment_by(regrole, text),
	tdgen.grant_environment(oid, text, text, name), tdgen.grant_by(regrole, text, text, name),
	tdgen.revoke_by(regrole, text, text, name), tdgen.grant_statements(text, name),
	tdgen.grant_owner_rights(name, text), tdgen.grant_source_reads(text), tdgen.check_policy(jsonb),
	tdgen.check_number_option(jsonb, text, integer, integer, text), tdgen.check_boolean_option(jsonb, text, text) FROM PUBLIC;
-- The entry points (tdgen_environment, tdgen_drop_environment, tdgen_grant,
-- tdgen_revoke) stay open to PUBLIC: they check their caller themselves.

COMMENT ON FUNCTION tdgen.target_mark(text) IS
	'the comment that marks a schema as an environment''s target';
COMMENT ON FUNCTION tdgen.check_may_configure(tdgen.environment, oid) IS
	'raises 42501 unless a role may change an environment: a superuser or a member of its owner';
COMMENT ON FUNCTION tdgen.may_refresh(text, oid) IS
	'whether a role may refresh an environment: a superuser, a member of its owner, or of a role granted refresh';
COMMENT ON FUNCTION tdgen.environment_owner(text, oid, name, name) IS
	'the owner of an environment its caller creates or changes: the role named, the current owner, the caller, or a NOLOGIN role made for it';
COMMENT ON FUNCTION tdgen.check_target_schema(text, name) IS
	'raises unless a schema may be an environment''s target: no system, tdgen or extension schema, and none that exists unless an earlier refresh of the environment made it';
COMMENT ON FUNCTION tdgen.schema_map(tdgen.environment, name[]) IS
	'the schemas an environment''s refresh builds (the source''s, then extra ones its objects need), each with its target, shadow and old schema names';
COMMENT ON FUNCTION tdgen.swapped_targets(tdgen.environment, jsonb) IS
	'the schemas a refresh''s swap replaces: the targets of its schema map and other schemas marked as the environment''s target';
COMMENT ON FUNCTION tdgen.numbered_name(name, text) IS
	'whether a schema name is a prefix followed by a number (no regular expression: it runs with a cancel held off)';
COMMENT ON FUNCTION tdgen.leftover_schemas(text) IS
	'shadow and old schemas an environment''s refreshes left behind';
COMMENT ON FUNCTION tdgen.target_dependents(name[]) IS
	'objects outside a set of schemas that depend on objects in them';
COMMENT ON FUNCTION tdgen.check_target(tdgen.environment, name[]) IS
	'raises before a refresh replaces targets it may not: not the environment''s own, or (2BP01) objects outside them depend on them';
COMMENT ON FUNCTION tdgen.grant_owner_rights(name, text) IS
	'grants an environment''s owner what its refreshes do as it: keyed transforms (not fpe_decrypt), loaders, tdgen''s connection to production, foreign keys, the source''s foreign tables';
COMMENT ON FUNCTION tdgen.grant_source_reads(text) IS
	'grants the owners of a source''s environments USAGE on its foreign tables'' schema and SELECT on them';
COMMENT ON FUNCTION tdgen.check_number_option(jsonb, text, integer, integer, text) IS
	'raises 22023 unless an option, when given, is a whole number in a range';
COMMENT ON FUNCTION tdgen.check_boolean_option(jsonb, text, text) IS
	'raises 22023 unless an option, when given, is true or false';
COMMENT ON FUNCTION tdgen.check_policy(jsonb) IS
	'raises 22023 unless an environment''s policy options (min_interval, window, retries, retry_delay, retention, notify) are well formed';
COMMENT ON FUNCTION tdgen_environment(text, text, name, jsonb, name) IS
	'creates or updates an environment: its source, target schema (default: its name), options and owner';
COMMENT ON FUNCTION tdgen.environment_by(regrole, text, text, name, jsonb, name) IS
	'tdgen_environment for a calling role';
COMMENT ON FUNCTION tdgen_drop_environment(text) IS
	'removes an environment with its own rules, table modes and grants (not its target schema); true when there was one';
COMMENT ON FUNCTION tdgen.drop_environment_by(regrole, text) IS
	'tdgen_drop_environment for a calling role';
COMMENT ON FUNCTION tdgen_grant(text, text, name) IS
	'lets a role refresh an environment, read its target, or read and write it';
COMMENT ON FUNCTION tdgen_revoke(text, text, name) IS
	'takes back a grant of tdgen_grant (from the next refresh on for read and write); true when there was one';
COMMENT ON FUNCTION tdgen.grant_environment(oid, text, text, name) IS
	'checks a grant''s or revoke''s caller and arguments; the environment';
COMMENT ON FUNCTION tdgen.grant_by(regrole, text, text, name) IS
	'tdgen_grant for a calling role';
COMMENT ON FUNCTION tdgen.revoke_by(regrole, text, text, name) IS
	'tdgen_revoke for a calling role';
COMMENT ON FUNCTION tdgen.grant_statements(text, name) IS
	'the GRANT statements giving an environment''s read and write grantees their rights on a schema';
