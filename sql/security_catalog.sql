-- The security model as the catalog shows it, over every function of the
-- extension: SECURITY DEFINER functions pin their search_path; what runs
-- with the rights of tdgen's owner is executable by PUBLIC or tdgen_admin
-- only when it is a documented entry point; the internal functions the
-- entry points call (*_by) and the refresh's steps are executable by their
-- owner alone; the entry points are C functions that pass on their caller.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS tdgen CASCADE;
RESET client_min_messages;

CREATE TEMP VIEW ext_function AS
SELECT p.oid, p.oid::regprocedure AS function, p.proname, p.prosecdef, p.proconfig, p.prosrc, l.lanname
FROM pg_proc AS p
JOIN pg_depend AS d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension AS x ON x.oid = d.refobjid AND x.extname = 'tdgen'
JOIN pg_language AS l ON l.oid = p.prolang;

-- SECURITY DEFINER without a pinned search_path: none
SELECT function AS definer_without_search_path FROM ext_function
WHERE prosecdef AND NOT coalesce(proconfig @> '{"search_path=pg_catalog, pg_temp"}', false)
ORDER BY 1::text;

-- SECURITY DEFINER functions executable by PUBLIC or tdgen_admin: each a
-- documented entry point (docs/reference.md), each listed here
SELECT function AS definer_entry_point,
	   has_function_privilege('public', oid, 'EXECUTE') AS public,
	   has_function_privilege('tdgen_admin', oid, 'EXECUTE') AS tdgen_admin
FROM ext_function
WHERE prosecdef AND (has_function_privilege('public', oid, 'EXECUTE') OR has_function_privilege('tdgen_admin', oid, 'EXECUTE'))
ORDER BY 1::text;

-- what entry points run as tdgen's owner (the *_by functions, the refresh's
-- steps): executable by nobody but their owner
SELECT function AS owner_only_but_open FROM ext_function AS f
WHERE ((proname LIKE '%\_by' AND (SELECT p.proargtypes[0] FROM pg_proc AS p WHERE p.oid = f.oid) = 'regrole'::regtype)
	   OR proname IN ('run_start', 'refresh_prepare', 'refresh_build', 'run_finish', 'running_run',
										   'swap_schema', 'plan', 'check_target', 'may_refresh'))
  AND (has_function_privilege('public', oid, 'EXECUTE') OR has_function_privilege('tdgen_admin', oid, 'EXECUTE'))
ORDER BY 1::text;

-- the C entry points that act for their caller, each with its *_by function
SELECT e.function AS entry_point, b.function AS runs
FROM ext_function AS e
LEFT JOIN ext_function AS b ON b.proname = substr(e.proname, 7) || '_by'
WHERE e.lanname = 'c' AND e.prosrc = 'tdgen_entry'
ORDER BY 1::text;

-- functions that take SQL text (load_rows, copy_rows, run_jobs, ...):
-- none is SECURITY DEFINER, none is executable by PUBLIC or tdgen_admin
SELECT function AS takes_sql_and_is_open FROM ext_function AS f
WHERE EXISTS (SELECT FROM pg_proc AS p, unnest(p.proargnames, coalesce(p.proargmodes, array_fill('i'::"char", ARRAY[coalesce(cardinality(p.proargnames), 0)]))) AS a(n, m)
			  WHERE p.oid = f.oid AND a.m = 'i' AND a.n IN ('query', 'statements', 'statement', 'filter'))
  AND (prosecdef OR has_function_privilege('public', oid, 'EXECUTE') OR has_function_privilege('tdgen_admin', oid, 'EXECUTE'))
ORDER BY 1::text;

DROP VIEW ext_function;
