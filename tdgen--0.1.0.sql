/* tdgen--0.1.0.sql */

\echo Use "CREATE EXTENSION tdgen" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Schema
-- ---------------------------------------------------------------------------

-- Catalog tables and internal helpers live in "tdgen"; the user-facing
-- entry points (tdgen_*) live in the schema the extension is created in, so
-- they resolve with a default search_path.
CREATE SCHEMA tdgen;

-- ---------------------------------------------------------------------------
-- C functions
-- ---------------------------------------------------------------------------

CREATE FUNCTION tdgen_version()
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_version'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ---------------------------------------------------------------------------
-- Comments
-- ---------------------------------------------------------------------------

COMMENT ON SCHEMA tdgen IS
	'tdgen catalog (sources, environments, rules, runs, alerts) and internal helpers';
COMMENT ON FUNCTION tdgen_version() IS
	'version of the loaded tdgen library; equals the extension version when SQL objects and library match';
