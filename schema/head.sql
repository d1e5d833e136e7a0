-- tdgen--0.1.0.sql, assembled by make from the files in schema/

\echo Use "CREATE EXTENSION tdgen" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Schema
-- ---------------------------------------------------------------------------

-- Catalog tables and internal helpers live in "tdgen"; the user-facing
-- entry points (tdgen_*) live in the schema the extension is created in, so
-- they resolve with a default search_path.
CREATE SCHEMA tdgen;
GRANT USAGE ON SCHEMA tdgen TO PUBLIC;

-- Keyed transforms are oracles (whoever may call one can test guesses of
-- an original value against a pseudonym), so only this role and
-- superusers may run them.  Roles are cluster-wide: a second database
-- installing tdgen finds the role already there.
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'tdgen_admin') THEN
		CREATE ROLE tdgen_admin NOLOGIN;
	END IF;
END
$$;

