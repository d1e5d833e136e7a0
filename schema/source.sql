-- ===========================================================================
-- schema/source.sql
--     Sources, and tdgen's view of production: foreign tables over the
--     remote catalog, and one foreign table per production table,
--     re-created when its columns change.
--
-- tdgen reads production as the role that owns the extension, through that
-- role's user mapping: the functions here are SECURITY DEFINER, and the
-- foreign tables belong to that role alone, so no other role can read a
-- raw production value through them.  Nothing is created on production.
-- ===========================================================================

-- Raise 22023 unless name is a simple lower-case name.
CREATE FUNCTION tdgen.check_simple_name(kind text, name text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF name IS NULL OR name !~ '^[a-z][a-z0-9_]{0,39}$' THEN
		RAISE EXCEPTION 'invalid % name %', kind, coalesce(quote_literal(name), 'NULL')
			USING ERRCODE = 'invalid_name',
				  HINT = format('A %s name is 1 to 40 lower-case letters, digits and underscores, starting with a letter.', kind);
	END IF;
END
$$;

-- Statements run, during a refresh, as the environment's owner in a
-- security-restricted operation (as the current user otherwise); the
-- first column of the first row of the last one.  For tdgen's own
-- functions only.
CREATE FUNCTION tdgen.run_as_owner(statements text[])
RETURNS text
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_run_as_owner';

-- Whether a role is a superuser.
CREATE FUNCTION tdgen.is_superuser(role oid)
RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
RETURN coalesce((SELECT r.rolsuper FROM pg_roles AS r WHERE r.oid = role), false);

-- The source of an environment, or the source itself when given one.
CREATE FUNCTION tdgen.resolve_source(source_or_environment text)
RETURNS tdgen.source
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s tdgen.source;
BEGIN
	SELECT src.* INTO s FROM tdgen.source AS src WHERE src.name = source_or_environment;
	IF NOT FOUND THEN
		SELECT src.* INTO s
		FROM tdgen.environment AS e JOIN tdgen.source AS src ON src.name = e.source
		WHERE e.name = source_or_environment;
	END IF;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no source or environment named %', coalesce(quote_literal(source_or_environment), 'NULL')
			USING ERRCODE = 'undefined_object',
				  HINT = 'Create one with tdgen_source() or tdgen_environment(); see SELECT name FROM tdgen.source.';
	END IF;
	RETURN s;
END
$$;

CREATE FUNCTION tdgen.resolve_environment(environment text)
RETURNS tdgen.environment
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	e tdgen.environment;
BEGIN
	SELECT * INTO e FROM tdgen.environment AS env WHERE env.name = environment;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no environment named %', coalesce(quote_literal(environment), 'NULL')
			USING ERRCODE = 'undefined_object',
				  HINT = 'Create it with tdgen_environment(name, source); see SELECT name FROM tdgen.environment.';
	END IF;
	RETURN e;
END
$$;

-- ---------------------------------------------------------------------------
-- Sources
-- ---------------------------------------------------------------------------

-- A source: a postgres_fdw server and the remote schemas to read, and the
-- schemas copied expressions may call code from (trusted_schemas, which
-- only a superuser may set; NULL keeps what the source has).
CREATE FUNCTION tdgen_source(name text, server name, schemas name[] DEFAULT '{public}',
							 trusted_schemas name[] DEFAULT NULL)
RETURNS void
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_entry';

CREATE FUNCTION tdgen.source_by(caller regrole, name text, server name, schemas name[], trusted_schemas name[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
	local_schema name := 'tdgen_source_' || name;
	old tdgen.source;
BEGIN
	PERFORM tdgen.check_simple_name('source', name);
	IF NOT tdgen.is_superuser(caller) AND NOT pg_has_role(caller, 'tdgen_admin', 'MEMBER') THEN
		RAISE EXCEPTION 'permission denied to configure source %', quote_literal(name)
			USING ERRCODE = 'insufficient_privilege', HINT = 'Members of tdgen_admin and superusers configure sources.';
	END IF;
	IF trusted_schemas IS NOT NULL AND NOT tdgen.is_superuser(caller) THEN
		RAISE EXCEPTION 'only a superuser may set the trusted schemas of source %', quote_literal(name)
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Code in a trusted schema runs during every refresh: a superuser vouches for it.';
	END IF;
	IF array_position(trusted_schemas, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'trusted schemas cannot be NULL' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT EXISTS (SELECT FROM pg_foreign_server AS s JOIN pg_foreign_data_wrapper AS w ON w.oid = s.srvfdw
				   WHERE s.srvname = server AND w.fdwname = 'postgres_fdw') THEN
		RAISE EXCEPTION 'no postgres_fdw foreign server named %', quote_literal(server)
			USING ERRCODE = 'undefined_object',
				  HINT = 'CREATE SERVER ... FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host ..., dbname ...), and a user mapping for the role that owns tdgen.';
	END IF;
	IF schemas IS NULL OR cardinality(schemas) = 0 OR array_position(schemas, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'a source needs at least one remote schema'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	SELECT * INTO old FROM tdgen.source AS s WHERE s.name = source_by.name;
	INSERT INTO tdgen.source (name, server, schemas, trusted_schemas, local_schema)
	VALUES (name, server, schemas, coalesce(trusted_schemas, '{}'), local_schema)
	ON CONFLICT ON CONSTRAINT source_pkey
	DO UPDATE SET server = excluded.server, schemas = excluded.schemas,
				  trusted_schemas = coalesce(source_by.trusted_schemas, old.trusted_schemas);

	-- another server: every foreign table is rebuilt on the next sync
	IF old.server IS DISTINCT FROM server THEN
		EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', local_schema);
		DELETE FROM tdgen.source_relation AS r WHERE r.source = name;
	END IF;
	EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', local_schema);
	EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', local_schema);
	EXECUTE format('COMMENT ON SCHEMA %I IS %L', local_schema,
				   format('tdgen: foreign tables of source %s (server %s); for tdgen and its environments'' owners', name, server));

	PERFORM tdgen.grant_source_reads(name);
END
$$;

-- Whether a source's server is a postgres_fdw server (the copy transfer
-- needs one).
CREATE FUNCTION tdgen.source_is_postgres(source text)
RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT coalesce(bool_or(w.fdwname = 'postgres_fdw'), false)
	FROM tdgen.source AS s
	JOIN pg_foreign_server AS fs ON fs.srvname = s.server
	JOIN pg_foreign_data_wrapper AS w ON w.oid = fs.srvfdw
	WHERE s.name = source_is_postgres.source;
END;

-- How an environment's refresh moves rows: its transfer option, else copy
-- for postgres_fdw servers and fdw for the others.
CREATE FUNCTION tdgen.transfer(environment text)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT coalesce(e.options ->> 'transfer', CASE WHEN tdgen.source_is_postgres(e.source) THEN 'copy' ELSE 'fdw' END)
	FROM tdgen.environment AS e WHERE e.name = transfer.environment;
END;

-- How many background workers a refresh of an environment loads and
-- indexes tables with: the environment's jobs option, 2 by default.
CREATE FUNCTION tdgen.jobs(environment text)
RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT coalesce((e.options ->> 'jobs')::integer, 2)
	FROM tdgen.environment AS e WHERE e.name = jobs.environment;
END;

CREATE FUNCTION tdgen_drop_source(name text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
	s tdgen.source;
BEGIN
	SELECT * INTO s FROM tdgen.source AS src WHERE src.name = tdgen_drop_source.name;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	IF EXISTS (SELECT FROM tdgen.environment AS e WHERE e.source = s.name) THEN
		RAISE EXCEPTION 'source % is used by environments', quote_literal(s.name)
			USING ERRCODE = 'dependent_objects_still_exist',
				  HINT = 'Drop them first with tdgen_drop_environment().';
	END IF;
	EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', s.local_schema);
	DELETE FROM tdgen.source AS src WHERE src.name = s.name;
	RETURN true;
END
$$;

-- ---------------------------------------------------------------------------
-- Foreign tables
-- ---------------------------------------------------------------------------

-- Bring the foreign tables of a source in line with production (its
-- columns as tdgen.production_columns gives them, read here when not
-- given): one per table, re-created when its columns change, dropped when
-- it is gone.  Returns the number of foreign tables created or re-created.
CREATE FUNCTION tdgen.sync_source(source text, cols jsonb DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = warning
	SET enable_nestloop = off AS $$
DECLARE
	s tdgen.source := tdgen.resolve_source(source);
	t record;
	changed integer := 0;
BEGIN
	IF cols IS NULL THEN
		cols := (tdgen.production_columns(s.name)).cols;
	END IF;
	FOR t IN
		WITH cur AS (
			SELECT c.schema_name, c.table_name,
				   string_agg(format('%I %s', c.column_name, c.local_type), ', ' ORDER BY c.attnum) AS columns
			FROM jsonb_to_recordset(cols) AS c(schema_name name, table_name name, column_name name, local_type text, attnum int)
			GROUP BY 1, 2
		)
		SELECT cur.schema_name, cur.table_name, cur.columns, r.local_name, r.columns AS old_columns
		FROM cur
		LEFT JOIN tdgen.source_relation AS r
			   ON r.source = s.name AND r.schema_name = cur.schema_name AND r.table_name = cur.table_name
		WHERE r.columns IS DISTINCT FROM cur.columns
		   OR to_regclass(format('%I.%I', s.local_schema, r.local_name)) IS NULL
	LOOP
		t.local_name := coalesce(t.local_name,
								 left(t.table_name, 40) || '_' || left(md5(t.schema_name || '.' || t.table_name), 8));
		EXECUTE format('DROP FOREIGN TABLE IF EXISTS %I.%I', s.local_schema, t.local_name);
		EXECUTE format('CREATE FOREIGN TABLE %I.%I (%s) SERVER %I OPTIONS (schema_name %L, table_name %L, fetch_size %L)',
					   s.local_schema, t.local_name, t.columns, s.server, t.schema_name, t.table_name, '10000');
		INSERT INTO tdgen.source_relation AS r (source, schema_name, table_name, local_name, columns)
		VALUES (s.name, t.schema_name, t.table_name, t.local_name, t.columns)
		ON CONFLICT ON CONSTRAINT source_relation_pkey DO UPDATE SET columns = excluded.columns;
		changed := changed + 1;
	END LOOP;

	-- tables gone from production
	FOR t IN
		SELECT r.schema_name, r.table_name, r.local_name
		FROM tdgen.source_relation AS r
		WHERE r.source = s.name
		  AND NOT EXISTS (SELECT FROM jsonb_to_recordset(cols) AS c(schema_name name, table_name name)
						  WHERE c.schema_name = r.schema_name AND c.table_name = r.table_name)
	LOOP
		EXECUTE format('DROP FOREIGN TABLE IF EXISTS %I.%I', s.local_schema, t.local_name);
		DELETE FROM tdgen.source_relation AS r
		WHERE r.source = s.name AND r.schema_name = t.schema_name AND r.table_name = t.table_name;
	END LOOP;

	IF changed > 0 THEN
		PERFORM tdgen.grant_source_reads(s.name);
	END IF;
	UPDATE tdgen.source AS src SET synced_at = now() WHERE src.name = s.name;
	RETURN changed;
END
$$;

-- ---------------------------------------------------------------------------
-- Privileges and comments
-- ---------------------------------------------------------------------------

REVOKE ALL ON FUNCTION tdgen.source_by(regrole, text, name, name[], name[]), tdgen_drop_source(text),
	tdgen.sync_source(text, jsonb), tdgen.run_as_owner(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tdgen_drop_source(text) TO tdgen_admin;

COMMENT ON FUNCTION tdgen.run_as_owner(text[]) IS
	'runs statements as the owner of the environment being refreshed, in a security-restricted operation (as the current user outside a refresh); the result of the last';
COMMENT ON FUNCTION tdgen.is_superuser(oid) IS
	'whether a role is a superuser';
COMMENT ON FUNCTION tdgen.check_simple_name(text, text) IS
	'raises 42602 unless a source or environment name is 1-40 lower-case letters, digits, underscores';
COMMENT ON FUNCTION tdgen.resolve_source(text) IS
	'the source row of a source or environment name; 42704 when there is none';
COMMENT ON FUNCTION tdgen.resolve_environment(text) IS
	'the environment row of a name; 42704 when there is none';
COMMENT ON FUNCTION tdgen_source(text, name, name[], name[]) IS
	'creates or updates a source: a postgres_fdw server, the remote schemas to read, and (superusers) the schemas copied expressions may call';
COMMENT ON FUNCTION tdgen.source_by(regrole, text, name, name[], name[]) IS
	'tdgen_source for a calling role';
COMMENT ON FUNCTION tdgen_drop_source(text) IS
	'removes a source that no environment uses, with its foreign tables; true when there was one';
COMMENT ON FUNCTION tdgen.source_is_postgres(text) IS
	'whether a source''s server is a postgres_fdw server';
COMMENT ON FUNCTION tdgen.jobs(text) IS
	'how many background workers a refresh of the environment loads and indexes tables with: option jobs, 2 by default';
COMMENT ON FUNCTION tdgen.transfer(text) IS
	'how an environment''s refresh moves rows: copy (binary COPY over tdgen''s connection) or fdw (the foreign tables)';
COMMENT ON FUNCTION tdgen.sync_source(text, jsonb) IS
	'(re)creates the foreign tables of a source whose production columns changed; returns how many';
