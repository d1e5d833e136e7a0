-- The extension installs with its dependency, explains itself, and drops
-- cleanly.

-- without CASCADE the missing dependency is named
CREATE EXTENSION tdgen;
\echo :LAST_ERROR_SQLSTATE

CREATE EXTENSION tdgen CASCADE;

SELECT e.extname, e.extversion, e.extrelocatable, n.nspname AS schema
FROM pg_extension AS e
JOIN pg_namespace AS n ON n.oid = e.extnamespace
WHERE e.extname IN ('tdgen', 'postgres_fdw')
ORDER BY e.extname;

-- the loaded library is the one the SQL objects were installed for
SELECT tdgen_version() = extversion AS library_matches_sql
FROM pg_extension WHERE extname = 'tdgen';

-- every member object carries a comment
SELECT count(*) > 0 AS has_members,
	   string_agg(pg_describe_object(d.classid, d.objid, 0), ', ')
		   FILTER (WHERE obj_description(d.objid, d.classid::regclass::name) IS NULL) AS uncommented
FROM pg_depend AS d
WHERE d.refclassid = 'pg_extension'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'tdgen')
  AND d.deptype = 'e';

-- the "tdgen." prefix is reserved once the library is loaded
SET tdgen.no_such_setting = 'on';
\echo :LAST_ERROR_SQLSTATE

-- the dependency cannot be dropped from under tdgen
DROP EXTENSION postgres_fdw;
\echo :LAST_ERROR_SQLSTATE

-- dropping removes every object, and the extension installs again
DROP EXTENSION tdgen;
SELECT count(*) AS tdgen_schemas FROM pg_namespace WHERE nspname = 'tdgen';
SELECT count(*) AS tdgen_functions FROM pg_proc WHERE proname LIKE 'tdgen%';
CREATE EXTENSION tdgen;
SELECT tdgen_version() IS NOT NULL AS reinstalled;
DROP EXTENSION tdgen;
DROP EXTENSION postgres_fdw;
