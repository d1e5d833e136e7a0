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

	-- the remote catalog: plain columns only, joined here, so no remote
	-- function is ever evaluated locally with remote OIDs
	PERFORM tdgen.create_catalog_table(local_schema, server, t.local, t.remote_schema, t.remote, t.columns)
	FROM (VALUES
		('catalog_namespace', 'pg_catalog', 'pg_namespace', 'oid oid, nspname name'),
		('catalog_class', 'pg_catalog', 'pg_class',
		 'oid oid, relname name, relnamespace oid, relkind "char", relispartition boolean, reltuples float4, relpages int4'),
		('catalog_attribute', 'pg_catalog', 'pg_attribute',
		 'attrelid oid, attname name, attnum int2, atttypid oid, atttypmod int4, attnotnull boolean, '
		 'attisdropped boolean, attgenerated "char", attidentity "char"'),
		('catalog_type', 'pg_catalog', 'pg_type',
		 'oid oid, typname name, typnamespace oid, typtype "char", typcategory "char", typbasetype oid, typelem oid, '
		 'typtypmod int4, typnotnull boolean, typdefault text'),
		('catalog_constraint', 'pg_catalog', 'pg_constraint',
		 'oid oid, conname name, connamespace oid, contype "char", conrelid oid, contypid oid, conkey int2[], confrelid oid, confkey int2[], '
		 'confupdtype "char", confdeltype "char", confmatchtype "char", condeferrable boolean, condeferred boolean, '
		 'conindid oid, conislocal boolean, convalidated boolean'),
		('catalog_index', 'pg_catalog', 'pg_index', 'indexrelid oid, indrelid oid, indisunique boolean, indkey int2vector'),
		-- what copied expressions call: functions and operators, and
		-- column defaults (generated expressions too)
		('catalog_proc', 'pg_catalog', 'pg_proc', 'oid oid, proname name, pronamespace oid'),
		('catalog_operator', 'pg_catalog', 'pg_operator', 'oid oid, oprname name, oprnamespace oid'),
		('catalog_attrdef', 'pg_catalog', 'pg_attrdef', 'oid oid, adrelid oid, adnum int2'),
		-- for the shadow schema: enums, partitions, sequences, and the
		-- expressions production deparses itself (defaults, checks, indexes)
		('catalog_enum', 'pg_catalog', 'pg_enum', 'enumtypid oid, enumsortorder float4, enumlabel name'),
		('catalog_inherits', 'pg_catalog', 'pg_inherits', 'inhrelid oid, inhparent oid'),
		('catalog_partition', 'pg_catalog', 'pg_class', 'oid oid, relpartbound text'),
		('catalog_partitioned_table', 'pg_catalog', 'pg_partitioned_table',
		 'partrelid oid, partstrat "char", partattrs int2vector, partexprs text'),
		('catalog_sequence', 'pg_catalog', 'pg_sequence',
		 'seqrelid oid, seqtypid oid, seqstart int8, seqincrement int8, seqmax int8, seqmin int8, seqcache int8, seqcycle boolean'),
		('catalog_sequences', 'pg_catalog', 'pg_sequences', 'schemaname name, sequencename name, last_value int8'),
		('catalog_depend', 'pg_catalog', 'pg_depend',
		 'classid oid, objid oid, objsubid int4, refclassid oid, refobjid oid, refobjsubid int4, deptype "char"'),
		('catalog_extension', 'pg_catalog', 'pg_extension', 'oid oid, extname name, extversion text'),
		('catalog_indexes', 'pg_catalog', 'pg_indexes', 'schemaname name, tablename name, indexname name, indexdef text'),
		('info_columns', 'information_schema', 'columns',
		 'table_schema name, table_name name, column_name name, column_default text, identity_generation text, '
		 'identity_start text, identity_increment text, identity_maximum text, identity_minimum text, '
		 'identity_cycle text, generation_expression text'),
		('info_check_constraints', 'information_schema', 'check_constraints',
		 'constraint_schema name, constraint_name name, check_clause text')
	) AS t(local, remote_schema, remote, columns);
	PERFORM tdgen.grant_source_reads(name);
END
$$;

CREATE FUNCTION tdgen.create_catalog_table(local_schema name, server name, local name, remote_schema name,
										   remote name, columns text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	EXECUTE format('DROP FOREIGN TABLE IF EXISTS %I.%I', local_schema, local);
	EXECUTE format('CREATE FOREIGN TABLE %I.%I (%s) SERVER %I OPTIONS (schema_name %L, table_name %L)',
				   local_schema, local, columns, server, remote_schema, remote);
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
-- The remote catalog
-- ---------------------------------------------------------------------------

-- The kind of a type, for transform fitting and the scan, from the base
-- type of a domain and the element type of an array.
CREATE FUNCTION tdgen.type_class(typname name, typcategory "char", elem_class text DEFAULT NULL)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
	WHEN typcategory = 'S' THEN 'text'
	WHEN typname IN ('int2', 'int4', 'int8') THEN 'integer'
	WHEN typcategory = 'N' THEN 'numeric'
	WHEN typname = 'date' THEN 'date'
	WHEN typname IN ('timestamp', 'timestamptz') THEN 'timestamp'
	WHEN typcategory = 'I' THEN 'network'
	WHEN typname = 'uuid' THEN 'uuid'
	WHEN typname IN ('json', 'jsonb') THEN 'json'
	WHEN typname = 'bytea' THEN 'binary'
	WHEN typcategory = 'E' THEN 'enum'
	WHEN typcategory = 'B' THEN 'boolean'
	WHEN typcategory = 'A' AND elem_class = 'text' THEN 'text_array'
	ELSE 'other' END;

-- Every column of every table (not partitions: their parent speaks for
-- them) in the source's schemas, as production has it now.
--   type_name:  the type as production spells it
--   local_type: a local type that reads its values (text for types that
--               exist only on production: enums, domains over them...)
--   base_type:  the built-in type under domains, when there is one
-- tdgen's own connection to production, for the copy transfer: one
-- REPEATABLE READ, READ ONLY transaction on production per local
-- transaction, closed when it ends; a held one lasts across local commits
-- until tdgen.remote_end() or an abort.  With a snapshot (exported by
-- tdgen.remote_export in another session), it reads in that snapshot.
CREATE FUNCTION tdgen.remote_begin(server name, snapshot text DEFAULT NULL, hold boolean DEFAULT false)
RETURNS void
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_remote_begin';

CREATE FUNCTION tdgen.remote_export()
RETURNS text
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_remote_export';

CREATE FUNCTION tdgen.remote_end()
RETURNS void
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_remote_end';

CREATE FUNCTION tdgen.remote_server()
RETURNS name
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_remote_server';

CREATE FUNCTION tdgen.remote_rows(foreign_table regclass, filter text)
RETURNS jsonb
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_remote_rows';

CREATE FUNCTION tdgen.remote_query(query text)
RETURNS jsonb
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_remote_query';

-- All rows of one catalog foreign table that pass a filter, as jsonb:
-- through tdgen's connection when one is open to the source's server (so
-- in its snapshot), else through postgres_fdw.
CREATE FUNCTION tdgen.read_remote(local_schema name, catalog_table name, filter text)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF tdgen.remote_server() = (SELECT s.server FROM tdgen.source AS s WHERE s.local_schema = read_remote.local_schema) THEN
		RETURN tdgen.remote_rows(format('%I.%I', local_schema, catalog_table)::regclass, filter);
	END IF;
	-- as the environment's owner during a refresh: its user mapping
	RETURN tdgen.run_as_owner(ARRAY[format('SELECT coalesce(jsonb_agg(to_jsonb(t)), ''[]'') FROM %I.%I AS t WHERE %s',
										   local_schema, catalog_table, filter)])::jsonb;
END
$$;

CREATE FUNCTION tdgen.remote_columns(source text)
RETURNS TABLE (schema_name name, table_name name, relkind "char", column_name name, attnum int2,
			   type_name text, local_type text, base_type regtype, type_class text,
			   not_null boolean, generated boolean, in_unique boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s tdgen.source := tdgen.resolve_source(source);
	cat jsonb[];
BEGIN
	-- each remote catalog read to its end before the next starts: two open
	-- scans on one connection make postgres_fdw stall
	cat := ARRAY[tdgen.read_remote(s.local_schema, 'catalog_namespace', 'true'),
				 tdgen.read_remote(s.local_schema, 'catalog_class', 'relkind IN (''r'', ''p'') AND NOT relispartition'),
				 tdgen.read_remote(s.local_schema, 'catalog_attribute', 'attnum > 0 AND NOT attisdropped'),
				 tdgen.read_remote(s.local_schema, 'catalog_type', 'true'),
				 tdgen.read_remote(s.local_schema, 'catalog_constraint', 'contype IN (''p'', ''u'')'),
				 tdgen.read_remote(s.local_schema, 'catalog_index', 'indisunique')];
	RETURN QUERY EXECUTE format($q$
		WITH RECURSIVE nsp AS MATERIALIZED (
			SELECT * FROM jsonb_to_recordset($2[1]) AS x(oid oid, nspname name)
		), rel AS MATERIALIZED (
			SELECT c.oid, n.nspname, c.relname, c.relkind
			FROM jsonb_to_recordset($2[2]) AS c(oid oid, relname name, relnamespace oid, relkind "char")
			JOIN nsp AS n ON n.oid = c.relnamespace
			WHERE n.nspname = ANY ($1)
		), att AS MATERIALIZED (
			SELECT * FROM jsonb_to_recordset($2[3]) AS x(attrelid oid, attname name, attnum int2, atttypid oid,
														 atttypmod int4, attnotnull boolean, attgenerated "char")
		), typ AS MATERIALIZED (
			SELECT t.oid, t.typname, t.typtype, t.typcategory, t.typbasetype, t.typelem, n.nspname
			FROM jsonb_to_recordset($2[4]) AS t(oid oid, typname name, typnamespace oid, typtype "char",
												typcategory "char", typbasetype oid, typelem oid)
			JOIN nsp AS n ON n.oid = t.typnamespace
		), base AS (
			-- each type with the type under its domains
			SELECT t.oid, t.oid AS base_oid, 0 AS depth FROM typ AS t WHERE t.typtype <> 'd'
			UNION ALL
			SELECT t.oid, b.base_oid, b.depth + 1
			FROM typ AS t JOIN base AS b ON b.oid = t.typbasetype
			WHERE t.typtype = 'd' AND b.depth < 8
		), typinfo AS MATERIALIZED (
			SELECT t.oid, t.typname, t.nspname, t.typtype, bt.typname AS base_name, bt.nspname AS base_nsp,
				   bt.typcategory AS base_category, et.typname AS elem_name, et.nspname AS elem_nsp,
				   et.typcategory AS elem_category
			FROM typ AS t
			JOIN base AS b ON b.oid = t.oid
			JOIN typ AS bt ON bt.oid = b.base_oid
			LEFT JOIN typ AS et ON et.oid = bt.typelem AND bt.typcategory = 'A'
		), uniq AS MATERIALIZED (
			SELECT conrelid AS relid, unnest(conkey) AS attnum
			FROM jsonb_to_recordset($2[5]) AS x(conrelid oid, conkey int2[])
			UNION
			SELECT indrelid, unnest(indkey::int2[]) FROM jsonb_to_recordset($2[6]) AS x(indrelid oid, indkey int2vector)
		)
		SELECT r.nspname, r.relname, r.relkind, a.attname, a.attnum,
			   CASE WHEN ti.nspname = 'pg_catalog'
					THEN format_type(to_regtype('pg_catalog.' || quote_ident(ti.typname)), a.atttypmod)
					WHEN ti.typname LIKE '\_%%' AND ti.elem_name IS NOT NULL
					THEN quote_ident(ti.elem_nsp) || '.' || quote_ident(ti.elem_name) || '[]'
					ELSE quote_ident(ti.nspname) || '.' || quote_ident(ti.typname) END,
			   CASE WHEN ti.base_nsp = 'pg_catalog' AND (ti.elem_nsp IS NULL OR ti.elem_nsp = 'pg_catalog')
					THEN format_type(to_regtype('pg_catalog.' || quote_ident(ti.base_name)),
									 CASE WHEN ti.typtype = 'd' THEN -1 ELSE a.atttypmod END)
					WHEN ti.base_category = 'A' THEN 'text[]'
					ELSE 'text' END,
			   CASE WHEN ti.base_nsp = 'pg_catalog' THEN to_regtype('pg_catalog.' || quote_ident(ti.base_name)) END,
			   tdgen.type_class(ti.base_name, ti.base_category,
								tdgen.type_class(ti.elem_name, ti.elem_category)),
			   a.attnotnull, a.attgenerated <> '', EXISTS (SELECT FROM uniq AS u WHERE u.relid = r.oid AND u.attnum = a.attnum)
		FROM rel AS r
		JOIN att AS a ON a.attrelid = r.oid
		JOIN typinfo AS ti ON ti.oid = a.atttypid
		ORDER BY 1, 2, 5
	$q$) USING s.schemas, cat;
END
$$;

-- Foreign keys between the source's tables, one row per column pair.
CREATE FUNCTION tdgen.remote_foreign_keys(source text)
RETURNS TABLE (schema_name name, table_name name, column_name name,
			   ref_schema name, ref_table name, ref_column name, constraint_name name)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s tdgen.source := tdgen.resolve_source(source);
	cls jsonb := tdgen.read_remote(s.local_schema, 'catalog_class', 'relkind IN (''r'', ''p'')');
	nsp jsonb := tdgen.read_remote(s.local_schema, 'catalog_namespace', 'true');
	con jsonb := tdgen.read_remote(s.local_schema, 'catalog_constraint', 'contype = ''f''');
	att jsonb := tdgen.read_remote(s.local_schema, 'catalog_attribute', 'attnum > 0 AND NOT attisdropped');
BEGIN
	RETURN QUERY
		WITH rel AS (
			SELECT c.oid, n.nspname, c.relname
			FROM jsonb_to_recordset(cls) AS c(oid oid, relname name, relnamespace oid)
			JOIN jsonb_to_recordset(nsp) AS n(oid oid, nspname name) ON n.oid = c.relnamespace
			WHERE n.nspname = ANY (s.schemas)
		), fk AS (
			SELECT k.conname, k.conrelid, k.confrelid, u.col, u.refcol
			FROM jsonb_to_recordset(con) AS k(conname name, conrelid oid, confrelid oid, conkey int2[], confkey int2[]),
				 unnest(k.conkey, k.confkey) AS u(col, refcol)
		), columns AS (
			SELECT * FROM jsonb_to_recordset(att) AS x(attrelid oid, attnum int2, attname name)
		)
		SELECT DISTINCT r.nspname, r.relname, a.attname, rr.nspname, rr.relname, ra.attname, fk.conname
		FROM fk
		JOIN rel AS r ON r.oid = fk.conrelid
		JOIN rel AS rr ON rr.oid = fk.confrelid
		JOIN columns AS a ON a.attrelid = fk.conrelid AND a.attnum = fk.col
		JOIN columns AS ra ON ra.attrelid = fk.confrelid AND ra.attnum = fk.refcol;
END
$$;

-- Production's columns and foreign keys now, read once as jsonb
-- (tdgen.remote_columns and tdgen.remote_foreign_keys), for the functions
-- that consult them many times.
CREATE FUNCTION tdgen.production_columns(source text, OUT cols jsonb, OUT fks jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT (SELECT coalesce(jsonb_agg(to_jsonb(c)), '[]') FROM tdgen.remote_columns(source) AS c),
		   (SELECT coalesce(jsonb_agg(to_jsonb(f)), '[]') FROM tdgen.remote_foreign_keys(source) AS f);
END;

-- Bring the foreign tables of a source in line with production: one per
-- table, re-created when its columns change, dropped when it is gone.
-- Returns the number of foreign tables created or re-created.
CREATE FUNCTION tdgen.sync_source(source text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
	s tdgen.source := tdgen.resolve_source(source);
	t record;
	changed integer := 0;
BEGIN
	FOR t IN
		WITH cur AS (
			SELECT c.schema_name, c.table_name,
				   string_agg(format('%I %s', c.column_name, c.local_type), ', ' ORDER BY c.attnum) AS columns
			FROM tdgen.remote_columns(s.name) AS c
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
		  AND NOT EXISTS (SELECT FROM tdgen.remote_columns(s.name) AS c
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

REVOKE ALL ON FUNCTION tdgen.source_by(regrole, text, name, name[], name[]), tdgen_drop_source(text), tdgen.remote_columns(text),
	tdgen.remote_foreign_keys(text), tdgen.sync_source(text), tdgen.create_catalog_table(name, name, name, name, name, text),
	tdgen.production_columns(text), tdgen.read_remote(name, name, text),
	tdgen.remote_begin(name, text, boolean), tdgen.remote_export(), tdgen.remote_end(), tdgen.remote_server(),
	tdgen.remote_rows(regclass, text), tdgen.remote_query(text), tdgen.run_as_owner(text[]) FROM PUBLIC;
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
COMMENT ON FUNCTION tdgen.create_catalog_table(name, name, name, name, name, text) IS
	'(re)creates one foreign table over a remote catalog table or view';
COMMENT ON FUNCTION tdgen_drop_source(text) IS
	'removes a source that no environment uses, with its foreign tables; true when there was one';
COMMENT ON FUNCTION tdgen.type_class(name, "char", text) IS
	'the kind of a type (text, integer, numeric, date, timestamp, network, uuid, json, text_array, binary, enum, boolean, other)';
COMMENT ON FUNCTION tdgen.read_remote(name, name, text) IS
	'the rows of one remote catalog table that pass a filter, read to the end, as a jsonb array (through tdgen''s connection when one is open)';
COMMENT ON FUNCTION tdgen.remote_begin(name, text, boolean) IS
	'opens tdgen''s connection to a production server and its REPEATABLE READ, READ ONLY transaction, in a given exported snapshot or its own; held, it lasts across local commits until tdgen.remote_end()';
COMMENT ON FUNCTION tdgen.remote_export() IS
	'exports the snapshot of tdgen''s open connection to production, for other sessions to take';
COMMENT ON FUNCTION tdgen.remote_end() IS
	'closes tdgen''s connection to production, held or not';
COMMENT ON FUNCTION tdgen.remote_server() IS
	'the server of tdgen''s connection open in this transaction, or NULL';
COMMENT ON FUNCTION tdgen.remote_query(text) IS
	'the rows of one of tdgen''s own queries on production''s catalog, over tdgen''s connection, as a jsonb array';
COMMENT ON FUNCTION tdgen.remote_rows(regclass, text) IS
	'the rows of a foreign table that pass a filter, read through tdgen''s connection, as a jsonb array';
COMMENT ON FUNCTION tdgen.source_is_postgres(text) IS
	'whether a source''s server is a postgres_fdw server';
COMMENT ON FUNCTION tdgen.jobs(text) IS
	'how many background workers a refresh of the environment loads and indexes tables with: option jobs, 2 by default';
COMMENT ON FUNCTION tdgen.transfer(text) IS
	'how an environment''s refresh moves rows: copy (binary COPY over tdgen''s connection) or fdw (the foreign tables)';
COMMENT ON FUNCTION tdgen.remote_columns(text) IS
	'every column of the source''s tables as production has it now: type, local type, class, NOT NULL, generated, unique';
COMMENT ON FUNCTION tdgen.remote_foreign_keys(text) IS
	'the foreign keys between the source''s tables, one row per column pair';
COMMENT ON FUNCTION tdgen.production_columns(text) IS
	'production''s columns and foreign keys now, as jsonb arrays of remote_columns and remote_foreign_keys rows';
COMMENT ON FUNCTION tdgen.sync_source(text) IS
	'(re)creates the foreign tables of a source whose production columns changed; returns how many';
