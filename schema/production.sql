-- ===========================================================================
-- schema/production.sql
--     Production as a refresh reads it: tdgen's own connection to it, and
--     its catalog read once, in one query (tdgen.catalog_query), into one
--     document that the gate, the plan and the shadow schemas all derive
--     from (tdgen.read_production).
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- tdgen's connection to production
-- ---------------------------------------------------------------------------

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

CREATE FUNCTION tdgen.remote_query(query text)
RETURNS jsonb
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_remote_query';

CREATE FUNCTION tdgen.remote_rows(query text, params text[])
RETURNS SETOF record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE ROWS 100000
AS 'MODULE_PATHNAME', 'tdgen_remote_rows';

-- Queries sent ahead, their rows taken later in the order sent: two at
-- most, the second on a second connection in the same snapshot, so that
-- production answers one while staging stores the other's rows.
CREATE FUNCTION tdgen.remote_send(query text, params text[])
RETURNS void
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_remote_send';

CREATE FUNCTION tdgen.remote_take()
RETURNS SETOF record
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE ROWS 100000
AS 'MODULE_PATHNAME', 'tdgen_remote_take';

CREATE FUNCTION tdgen.remote_rows_read()
RETURNS bigint
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'tdgen_remote_rows_read';

-- ---------------------------------------------------------------------------
-- The catalog, read once
-- ---------------------------------------------------------------------------

-- The query that reads production's catalog in one statement, on
-- production, as one row of arrays (tdgen.remote_schema): every catalog a
-- refresh reproduces, with production deparsing its own expressions and
-- definitions (pg_get_expr, pg_get_*def).  Production's session has
-- search_path = pg_catalog, so every name outside pg_catalog comes
-- qualified.  Objects of extensions are left out (staging has its own);
-- "user" schemas are all but pg_catalog, information_schema and pg_toast.
CREATE FUNCTION tdgen.catalog_query()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN $q$
WITH nsp AS MATERIALIZED (
	SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace AS n
	WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
), member AS MATERIALIZED (
	SELECT d.classid, d.objid FROM pg_catalog.pg_depend AS d WHERE d.deptype = 'e'
), obj AS MATERIALIZED (
	-- the objects of user schemas, each with the object it belongs to
	SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::oid AS classid, c.oid AS objid,
		   CASE WHEN c.relkind = 'c' THEN 'pg_catalog.pg_type'::pg_catalog.regclass ELSE 'pg_catalog.pg_class'::pg_catalog.regclass END::oid AS owner_classid,
		   CASE WHEN c.relkind = 'c' THEN c.reltype ELSE c.oid END AS owner_objid, c.relnamespace AS nsp
	FROM pg_catalog.pg_class AS c JOIN nsp AS n ON n.oid = c.relnamespace
	UNION ALL
	SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid, 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid, t.typnamespace
	FROM pg_catalog.pg_type AS t JOIN nsp AS n ON n.oid = t.typnamespace
	UNION ALL
	SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass, p.oid, 'pg_catalog.pg_proc'::pg_catalog.regclass, p.oid, p.pronamespace
	FROM pg_catalog.pg_proc AS p JOIN nsp AS n ON n.oid = p.pronamespace
	UNION ALL
	SELECT 'pg_catalog.pg_operator'::pg_catalog.regclass, o.oid, 'pg_catalog.pg_operator'::pg_catalog.regclass, o.oid, o.oprnamespace
	FROM pg_catalog.pg_operator AS o JOIN nsp AS n ON n.oid = o.oprnamespace
	UNION ALL
	SELECT 'pg_catalog.pg_collation'::pg_catalog.regclass, o.oid, 'pg_catalog.pg_collation'::pg_catalog.regclass, o.oid, o.collnamespace
	FROM pg_catalog.pg_collation AS o JOIN nsp AS n ON n.oid = o.collnamespace
	UNION ALL
	SELECT 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass, x.oid, 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass, x.oid, x.stxnamespace
	FROM pg_catalog.pg_statistic_ext AS x JOIN nsp AS n ON n.oid = x.stxnamespace
	UNION ALL
	SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, k.oid,
		   CASE WHEN k.conrelid <> 0 THEN 'pg_catalog.pg_class'::pg_catalog.regclass ELSE 'pg_catalog.pg_type'::pg_catalog.regclass END,
		   CASE WHEN k.conrelid <> 0 THEN k.conrelid ELSE k.contypid END, k.connamespace
	FROM pg_catalog.pg_constraint AS k JOIN nsp AS n ON n.oid = k.connamespace
	UNION ALL
	SELECT 'pg_catalog.pg_attrdef'::pg_catalog.regclass, a.oid, 'pg_catalog.pg_class'::pg_catalog.regclass, a.adrelid, c.relnamespace
	FROM pg_catalog.pg_attrdef AS a JOIN pg_catalog.pg_class AS c ON c.oid = a.adrelid JOIN nsp AS n ON n.oid = c.relnamespace
	UNION ALL
	SELECT 'pg_catalog.pg_rewrite'::pg_catalog.regclass, r.oid, 'pg_catalog.pg_class'::pg_catalog.regclass, r.ev_class, c.relnamespace
	FROM pg_catalog.pg_rewrite AS r JOIN pg_catalog.pg_class AS c ON c.oid = r.ev_class JOIN nsp AS n ON n.oid = c.relnamespace
	UNION ALL
	SELECT 'pg_catalog.pg_trigger'::pg_catalog.regclass, g.oid, 'pg_catalog.pg_class'::pg_catalog.regclass, g.tgrelid, c.relnamespace
	FROM pg_catalog.pg_trigger AS g JOIN pg_catalog.pg_class AS c ON c.oid = g.tgrelid JOIN nsp AS n ON n.oid = c.relnamespace
	WHERE NOT g.tgisinternal
	UNION ALL
	SELECT 'pg_catalog.pg_policy'::pg_catalog.regclass, y.oid, 'pg_catalog.pg_class'::pg_catalog.regclass, y.polrelid, c.relnamespace
	FROM pg_catalog.pg_policy AS y JOIN pg_catalog.pg_class AS c ON c.oid = y.polrelid JOIN nsp AS n ON n.oid = c.relnamespace
), rel AS MATERIALIZED (
	SELECT c.* FROM pg_catalog.pg_class AS c JOIN nsp AS n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'p', 'S', 'i', 'I', 'v', 'm', 'c')
	  AND NOT EXISTS (SELECT FROM member AS m WHERE m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND m.objid = c.oid)
)
SELECT
	(SELECT json_agg(json_build_object('oid', n.oid, 'nspname', n.nspname))
	 FROM pg_catalog.pg_namespace AS n) AS namespace,
	(SELECT json_agg(json_build_object('oid', c.oid, 'relname', c.relname, 'relnamespace', c.relnamespace, 'relkind', c.relkind,
									   'relispartition', c.relispartition, 'relrowsecurity', c.relrowsecurity,
									   'relforcerowsecurity', c.relforcerowsecurity, 'reloptions', c.reloptions,
									   'reltuples', c.reltuples, 'relpages', c.relpages,
									   'comment', pg_catalog.obj_description(c.oid, 'pg_class')))
	 FROM rel AS c) AS class,
	(SELECT json_agg(json_build_object('attrelid', a.attrelid, 'attname', a.attname, 'attnum', a.attnum, 'atttypid', a.atttypid,
									   'atttypmod', a.atttypmod, 'attnotnull', a.attnotnull, 'attgenerated', a.attgenerated,
									   'attidentity', a.attidentity,
									   'collation', CASE WHEN a.attcollation <> t.typcollation AND co.oid IS NOT NULL
														 THEN pg_catalog.format('%I.%I', cn.nspname, co.collname) END,
									   'comment', pg_catalog.col_description(a.attrelid, a.attnum)))
	 FROM pg_catalog.pg_attribute AS a
	 JOIN rel AS c ON c.oid = a.attrelid
	 JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
	 LEFT JOIN pg_catalog.pg_collation AS co ON co.oid = a.attcollation
	 LEFT JOIN pg_catalog.pg_namespace AS cn ON cn.oid = co.collnamespace
	 WHERE a.attnum > 0 AND NOT a.attisdropped) AS attribute,
	-- defaults, generated expressions and identity, as information_schema
	-- names them
	(SELECT json_agg(json_build_object('table_schema', n.nspname, 'table_name', c.relname, 'column_name', a.attname,
									   'column_default', CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END,
									   'generation_expression', CASE WHEN a.attgenerated = 's' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END,
									   'identity_start', q.seqstart, 'identity_increment', q.seqincrement,
									   'identity_maximum', q.seqmax, 'identity_minimum', q.seqmin,
									   'identity_cycle', CASE WHEN q.seqcycle THEN 'YES' ELSE 'NO' END))
	 FROM pg_catalog.pg_attribute AS a
	 JOIN rel AS c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p')
	 JOIN nsp AS n ON n.oid = c.relnamespace
	 LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	 LEFT JOIN pg_catalog.pg_depend AS i ON a.attidentity <> '' AND i.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
										AND i.refobjid = a.attrelid AND i.refobjsubid = a.attnum AND i.deptype = 'i'
										AND i.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
	 LEFT JOIN pg_catalog.pg_sequence AS q ON q.seqrelid = i.objid
	 WHERE a.attnum > 0 AND NOT a.attisdropped AND (d.oid IS NOT NULL OR q.seqrelid IS NOT NULL)) AS columns,
	(SELECT json_agg(json_build_object('oid', t.oid, 'typname', t.typname, 'typnamespace', t.typnamespace, 'typtype', t.typtype,
									   'typcategory', t.typcategory, 'typbasetype', t.typbasetype, 'typelem', t.typelem,
									   'typtypmod', t.typtypmod, 'typnotnull', t.typnotnull, 'typdefault', t.typdefault,
									   'typrelid', t.typrelid,
									   'comment', CASE WHEN t.typnamespace IN (SELECT n.oid FROM nsp AS n)
													   THEN pg_catalog.obj_description(t.oid, 'pg_type') END))
	 FROM pg_catalog.pg_type AS t) AS type,
	(SELECT json_agg(json_build_object('oid', k.oid, 'conname', k.conname, 'connamespace', k.connamespace, 'contype', k.contype,
									   'conrelid', k.conrelid, 'contypid', k.contypid, 'conkey', k.conkey, 'confrelid', k.confrelid,
									   'confkey', k.confkey, 'confupdtype', k.confupdtype, 'confdeltype', k.confdeltype,
									   'confmatchtype', k.confmatchtype, 'condeferrable', k.condeferrable,
									   'condeferred', k.condeferred, 'conislocal', k.conislocal,
									   'convalidated', k.convalidated,
									   'clause', CASE WHEN k.contype = 'c' THEN '(' || pg_catalog.pg_get_expr(k.conbin, k.conrelid) || ')' END,
									   'definition', CASE WHEN k.contype IN ('x', 'u', 'p') THEN pg_catalog.pg_get_constraintdef(k.oid) END,
									   'comment', pg_catalog.obj_description(k.oid, 'pg_constraint')))
	 FROM pg_catalog.pg_constraint AS k JOIN nsp AS n ON n.oid = k.connamespace
	 WHERE k.contype IN ('p', 'u', 'f', 'c', 'x')) AS "constraint",
	(SELECT json_agg(json_build_object('enumtypid', e.enumtypid, 'enumsortorder', e.enumsortorder, 'enumlabel', e.enumlabel))
	 FROM pg_catalog.pg_enum AS e JOIN pg_catalog.pg_type AS t ON t.oid = e.enumtypid JOIN nsp AS n ON n.oid = t.typnamespace) AS enum,
	(SELECT json_agg(json_build_object('inhrelid', i.inhrelid, 'inhparent', i.inhparent))
	 FROM pg_catalog.pg_inherits AS i JOIN rel AS c ON c.oid = i.inhrelid) AS inherits,
	(SELECT json_agg(json_build_object('oid', c.oid, 'relpartbound', pg_catalog.pg_get_expr(c.relpartbound, c.oid)))
	 FROM rel AS c WHERE c.relispartition) AS partition,
	(SELECT json_agg(json_build_object('partrelid', c.oid, 'partkey', pg_catalog.pg_get_partkeydef(c.oid)))
	 FROM rel AS c WHERE c.relkind = 'p') AS partitioned_table,
	(SELECT json_agg(json_build_object('seqrelid', q.seqrelid, 'seqtypid', q.seqtypid, 'seqstart', q.seqstart,
									   'seqincrement', q.seqincrement, 'seqmax', q.seqmax, 'seqmin', q.seqmin,
									   'seqcache', q.seqcache, 'seqcycle', q.seqcycle))
	 FROM pg_catalog.pg_sequence AS q JOIN rel AS c ON c.oid = q.seqrelid) AS sequence,
	(SELECT json_agg(json_build_object('schemaname', s.schemaname, 'sequencename', s.sequencename, 'last_value', s.last_value))
	 FROM pg_catalog.pg_sequences AS s WHERE s.schemaname IN (SELECT n.nspname FROM nsp AS n)) AS sequences,
	(SELECT json_agg(json_build_object('classid', d.classid, 'objid', d.objid, 'objsubid', d.objsubid, 'refclassid', d.refclassid,
									   'refobjid', d.refobjid, 'refobjsubid', d.refobjsubid, 'deptype', d.deptype))
	 FROM pg_catalog.pg_depend AS d WHERE d.deptype IN ('a', 'i', 'e') AND d.objid >= 16384) AS depend,
	-- what production's own objects use in its user schemas, each side
	-- as the object it belongs to (a table for its defaults, checks,
	-- rules, triggers and policies; a domain for its checks; a composite
	-- type for its relation), with its schema
	(SELECT json_agg(json_build_object('classid', u.classid, 'objid', u.objid, 'objnsp', u.objnsp,
									   'refclassid', u.refclassid, 'refobjid', u.refobjid, 'refnsp', u.refnsp))
	 FROM (SELECT DISTINCT o.owner_classid AS classid, o.owner_objid AS objid, o.nsp AS objnsp,
				  r.owner_classid AS refclassid, r.owner_objid AS refobjid, r.nsp AS refnsp
		   FROM pg_catalog.pg_depend AS d
		   JOIN obj AS o ON o.classid = d.classid AND o.objid = d.objid
		   JOIN obj AS r ON r.classid = d.refclassid AND r.objid = d.refobjid
		   WHERE d.deptype IN ('n', 'i')
			 AND NOT EXISTS (SELECT FROM member AS m WHERE m.classid = d.refclassid AND m.objid = d.refobjid)
			 AND (o.owner_classid, o.owner_objid) <> (r.owner_classid, r.owner_objid)) AS u) AS uses,
	(SELECT json_agg(json_build_object('indexrelid', x.indexrelid, 'indrelid', x.indrelid, 'indisunique', x.indisunique,
									   'indkey', x.indkey::pg_catalog.int2[]))
	 FROM pg_catalog.pg_index AS x JOIN rel AS c ON c.oid = x.indrelid) AS index,
	(SELECT json_agg(json_build_object('schemaname', n.nspname, 'tablename', c.relname, 'indexname', ic.relname,
									   'indexdef', pg_catalog.pg_get_indexdef(x.indexrelid), 'indisclustered', x.indisclustered,
									   'comment', pg_catalog.obj_description(x.indexrelid, 'pg_class')))
	 FROM pg_catalog.pg_index AS x
	 JOIN rel AS ic ON ic.oid = x.indexrelid
	 JOIN rel AS c ON c.oid = x.indrelid
	 JOIN nsp AS n ON n.oid = c.relnamespace) AS indexes,
	-- code: functions and procedures as production writes them again,
	-- aggregates as the parts CREATE AGGREGATE takes
	(SELECT json_agg(json_build_object('oid', p.oid, 'proname', p.proname, 'pronamespace', p.pronamespace, 'prokind', p.prokind,
									   'language', l.lanname, 'identity', pg_catalog.pg_get_function_identity_arguments(p.oid),
									   'definition', CASE WHEN p.prokind IN ('f', 'p', 'w') THEN pg_catalog.pg_get_functiondef(p.oid) END,
									   'aggregate', CASE WHEN p.prokind = 'a' THEN (
											SELECT json_build_object('kind', a.aggkind, 'arguments', pg_catalog.pg_get_function_arguments(p.oid),
																	 'sfunc', a.aggtransfn::pg_catalog.regproc::text,
																	 'stype', pg_catalog.format_type(a.aggtranstype, NULL),
																	 'sspace', a.aggtransspace,
																	 'finalfunc', nullif(a.aggfinalfn, 0)::pg_catalog.regproc::text,
																	 'finalfunc_extra', a.aggfinalextra,
																	 'combinefunc', nullif(a.aggcombinefn, 0)::pg_catalog.regproc::text,
																	 'serialfunc', nullif(a.aggserialfn, 0)::pg_catalog.regproc::text,
																	 'deserialfunc', nullif(a.aggdeserialfn, 0)::pg_catalog.regproc::text,
																	 'initcond', a.agginitval,
																	 'sortop', nullif(a.aggsortop, 0)::pg_catalog.regoperator::text,
																	 'parallel', p.proparallel)
											FROM pg_catalog.pg_aggregate AS a WHERE a.aggfnoid = p.oid) END,
									   'comment', pg_catalog.obj_description(p.oid, 'pg_proc')))
	 FROM pg_catalog.pg_proc AS p
	 JOIN nsp AS n ON n.oid = p.pronamespace
	 JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
	 WHERE NOT EXISTS (SELECT FROM member AS m WHERE m.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND m.objid = p.oid)) AS proc,
	(SELECT json_agg(json_build_object('oid', o.oid, 'oprname', o.oprname, 'oprnamespace', o.oprnamespace,
									   'leftarg', nullif(o.oprleft, 0)::pg_catalog.regtype::text,
									   'rightarg', nullif(o.oprright, 0)::pg_catalog.regtype::text,
									   'function', o.oprcode::pg_catalog.regprocedure::text,
									   'commutator', nullif(o.oprcom, 0)::pg_catalog.regoperator::text,
									   'negator', nullif(o.oprnegate, 0)::pg_catalog.regoperator::text,
									   'restrict', nullif(o.oprrest, 0)::pg_catalog.regproc::text,
									   'join', nullif(o.oprjoin, 0)::pg_catalog.regproc::text,
									   'hashes', o.oprcanhash, 'merges', o.oprcanmerge,
									   'comment', pg_catalog.obj_description(o.oid, 'pg_operator')))
	 FROM pg_catalog.pg_operator AS o JOIN nsp AS n ON n.oid = o.oprnamespace
	 WHERE NOT EXISTS (SELECT FROM member AS m WHERE m.classid = 'pg_catalog.pg_operator'::pg_catalog.regclass AND m.objid = o.oid)) AS operator,
	(SELECT json_agg(pg_catalog.to_jsonb(o) || pg_catalog.jsonb_build_object('comment', pg_catalog.obj_description(o.oid, 'pg_collation')))
	 FROM pg_catalog.pg_collation AS o JOIN nsp AS n ON n.oid = o.collnamespace
	 WHERE NOT EXISTS (SELECT FROM member AS m WHERE m.classid = 'pg_catalog.pg_collation'::pg_catalog.regclass AND m.objid = o.oid)) AS collation,
	(SELECT json_agg(json_build_object('oid', c.oid, 'definition', pg_catalog.pg_get_viewdef(c.oid)))
	 FROM rel AS c WHERE c.relkind IN ('v', 'm')) AS view,
	(SELECT json_agg(json_build_object('oid', g.oid, 'tgrelid', g.tgrelid, 'tgname', g.tgname, 'tgenabled', g.tgenabled,
									   'definition', pg_catalog.pg_get_triggerdef(g.oid),
									   'comment', pg_catalog.obj_description(g.oid, 'pg_trigger')))
	 FROM pg_catalog.pg_trigger AS g JOIN rel AS c ON c.oid = g.tgrelid
	 WHERE NOT g.tgisinternal AND g.tgparentid = 0) AS trigger,
	(SELECT json_agg(json_build_object('oid', y.oid, 'polrelid', y.polrelid, 'polname', y.polname, 'polcmd', y.polcmd,
									   'polpermissive', y.polpermissive,
									   'roles', (SELECT json_agg(CASE WHEN r = 0 THEN 'public' ELSE r::pg_catalog.regrole::text END)
												 FROM pg_catalog.unnest(y.polroles) AS r),
									   'qual', pg_catalog.pg_get_expr(y.polqual, y.polrelid),
									   'with_check', pg_catalog.pg_get_expr(y.polwithcheck, y.polrelid),
									   'comment', pg_catalog.obj_description(y.oid, 'pg_policy')))
	 FROM pg_catalog.pg_policy AS y JOIN rel AS c ON c.oid = y.polrelid) AS policy,
	(SELECT json_agg(json_build_object('oid', x.oid, 'stxname', x.stxname, 'stxnamespace', x.stxnamespace, 'stxrelid', x.stxrelid,
									   'definition', pg_catalog.pg_get_statisticsobjdef(x.oid),
									   'comment', pg_catalog.obj_description(x.oid, 'pg_statistic_ext')))
	 FROM pg_catalog.pg_statistic_ext AS x JOIN rel AS c ON c.oid = x.stxrelid) AS statistic,
	(SELECT json_agg(json_build_object('oid', x.oid, 'extname', x.extname, 'extversion', x.extversion, 'extnamespace', x.extnamespace))
	 FROM pg_catalog.pg_extension AS x) AS extension,
	-- what production's own objects use of extensions (types, their
	-- arrays, functions, operators, operator classes, collations): the
	-- object as production describes it, its table, the extension
	(SELECT json_agg(json_build_object('what', pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid),
									   'classid', o.owner_classid, 'objid', o.owner_objid,
									   'member', CASE d.refclassid
										   WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass
										   THEN (SELECT pg_catalog.format('%I.%I', n.nspname, p.proname) FROM pg_catalog.pg_proc AS p
												 JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace WHERE p.oid = d.refobjid)
										   WHEN 'pg_catalog.pg_type'::pg_catalog.regclass
										   THEN (SELECT pg_catalog.format('%I.%I', n.nspname, t.typname) FROM pg_catalog.pg_type AS t
												 JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace WHERE t.oid = d.refobjid)
										   WHEN 'pg_catalog.pg_operator'::pg_catalog.regclass
										   THEN (SELECT pg_catalog.format('%I.%s', n.nspname, p.oprname) FROM pg_catalog.pg_operator AS p
												 JOIN pg_catalog.pg_namespace AS n ON n.oid = p.oprnamespace WHERE p.oid = d.refobjid)
										   WHEN 'pg_catalog.pg_opclass'::pg_catalog.regclass
										   THEN (SELECT pg_catalog.format('%I.%I', n.nspname, p.opcname) FROM pg_catalog.pg_opclass AS p
												 JOIN pg_catalog.pg_namespace AS n ON n.oid = p.opcnamespace WHERE p.oid = d.refobjid)
										   WHEN 'pg_catalog.pg_collation'::pg_catalog.regclass
										   THEN (SELECT pg_catalog.format('%I.%I', n.nspname, p.collname) FROM pg_catalog.pg_collation AS p
												 JOIN pg_catalog.pg_namespace AS n ON n.oid = p.collnamespace WHERE p.oid = d.refobjid) END,
									   'table_oid', coalesce(x.indrelid, CASE WHEN o.owner_classid = 'pg_catalog.pg_class'::pg_catalog.regclass
																			  THEN o.owner_objid END),
									   'extname', e.extname, 'extversion', e.extversion))
	 FROM pg_catalog.pg_depend AS d
	 JOIN obj AS o ON o.classid = d.classid AND o.objid = d.objid
	 LEFT JOIN pg_catalog.pg_index AS x ON o.owner_classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND x.indexrelid = o.owner_objid
	 JOIN (SELECT m.classid, m.objid, m.refobjid AS extoid FROM pg_catalog.pg_depend AS m WHERE m.deptype = 'e'
		   UNION ALL
		   SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid, m.refobjid
		   FROM pg_catalog.pg_type AS t
		   JOIN pg_catalog.pg_depend AS m ON m.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND m.objid = t.typelem AND m.deptype = 'e'
		  ) AS em ON em.classid = d.refclassid AND em.objid = d.refobjid
	 JOIN pg_catalog.pg_extension AS e ON e.oid = em.extoid
	 WHERE d.deptype = 'n') AS ext_uses
$q$;

-- The lookups the statements make per table, column or constraint, keyed
-- once (read with #>, which copies only what it finds): a scan of a whole
-- catalog array per lookup grows with the square of the tables.
--   attribute_by_rel  {relid: [attributes]}
--   columns_by_rel    {schema: {table: [information_schema columns]}}
--   type_by_oid       {oid: type}
--   ext_member        {type oid: extension name} for types of extensions
--   identity_seq      {"relid:attnum": sequence name} of identity columns
CREATE FUNCTION tdgen.index_snapshot(doc jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT doc || jsonb_build_object(
		'attribute_by_rel', coalesce((SELECT jsonb_object_agg(a.k, a.v) FROM (
				SELECT x ->> 'attrelid' AS k, jsonb_agg(x) AS v FROM jsonb_array_elements(doc -> 'attribute') AS x GROUP BY 1) AS a), '{}'),
		'columns_by_rel', coalesce((SELECT jsonb_object_agg(c.sch, c.tbls) FROM (
				SELECT t.sch, jsonb_object_agg(t.tbl, t.v) AS tbls FROM (
					SELECT x ->> 'table_schema' AS sch, x ->> 'table_name' AS tbl, jsonb_agg(x) AS v
					FROM jsonb_array_elements(doc -> 'columns') AS x GROUP BY 1, 2) AS t GROUP BY t.sch) AS c), '{}'),
		'type_by_oid', coalesce((SELECT jsonb_object_agg(x ->> 'oid', x) FROM jsonb_array_elements(doc -> 'type') AS x), '{}'),
		'ext_member', coalesce((SELECT jsonb_object_agg(x ->> 'objid', e ->> 'extname') FROM jsonb_array_elements(doc -> 'depend') AS x
								JOIN jsonb_array_elements(doc -> 'extension') AS e ON e ->> 'oid' = x ->> 'refobjid'
								WHERE (x ->> 'classid')::oid = 'pg_type'::regclass AND x ->> 'deptype' = 'e'), '{}'),
		'identity_seq', coalesce((SELECT jsonb_object_agg(concat(d ->> 'refobjid', ':', d ->> 'refobjsubid'), c ->> 'relname')
								  FROM jsonb_array_elements(doc -> 'depend') AS d
								  JOIN jsonb_array_elements(doc -> 'class') AS c ON c ->> 'oid' = d ->> 'objid' AND c ->> 'relkind' = 'S'
								  WHERE (d ->> 'classid')::oid = 'pg_class'::regclass AND d ->> 'deptype' = 'i'
									AND (d ->> 'refobjsubid')::int > 0), '{}'));
END;

-- Whether a refresh reproduces an object of production: one of the
-- source's schemas, or one they need from another (tdgen.outside_needs).
CREATE FUNCTION tdgen.reproduced(snap jsonb, nspname name, classid regclass, objid oid)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN snap -> 'listed' ? nspname OR snap -> 'needed' ? concat(classid::oid, ':', objid);

-- The objects of production's other user schemas that objects of the
-- source's schemas (snap's listed) use, directly or through one another:
-- types and domains, functions, sequences, collations, operators (each
-- with what its parts use: tdgen.catalog_query's uses).  Trusted schemas'
-- objects are not among them: staging's of the same names are used.  A refresh
-- builds these too, in schemas of the environment.
CREATE FUNCTION tdgen.outside_needs(snap jsonb)
RETURNS TABLE (classid oid, objid oid, nspname name)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET enable_nestloop = off
BEGIN ATOMIC
	WITH RECURSIVE nsp AS MATERIALIZED (
		SELECT n.oid, n.nspname, snap -> 'listed' ? n.nspname AS listed, snap -> 'trusted' ? n.nspname AS trusted
		FROM jsonb_to_recordset(snap -> 'namespace') AS n(oid oid, nspname name)
	), uses AS MATERIALIZED (
		SELECT u.* FROM jsonb_to_recordset(snap -> 'uses')
			AS u(classid oid, objid oid, objnsp oid, refclassid oid, refobjid oid, refnsp oid)
	), reached (classid, objid, nspoid) AS (
		SELECT u.refclassid, u.refobjid, u.refnsp
		FROM uses AS u
		JOIN nsp AS o ON o.oid = u.objnsp AND o.listed
		JOIN nsp AS r ON r.oid = u.refnsp AND NOT r.listed AND NOT r.trusted
		UNION
		SELECT u.refclassid, u.refobjid, u.refnsp
		FROM reached AS x
		JOIN uses AS u ON u.classid = x.classid AND u.objid = x.objid
		JOIN nsp AS r ON r.oid = u.refnsp AND NOT r.listed AND NOT r.trusted
	)
	SELECT DISTINCT x.classid, x.objid, n.nspname
	FROM reached AS x JOIN nsp AS n ON n.oid = x.nspoid;
END;

-- Everything the shadow schemas are built from, as one jsonb document:
-- production's catalog in one read (tdgen.catalog_query) over tdgen's
-- connection (opened for it when none is open, and closed after), with
-- its lookups keyed (tdgen.index_snapshot).
CREATE FUNCTION tdgen.remote_schema(source text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s tdgen.source := tdgen.resolve_source(source);
	opened boolean := false;
	doc jsonb;
BEGIN
	IF tdgen.remote_server() IS NULL THEN
		PERFORM tdgen.remote_begin(s.server);
		opened := true;
	END IF;
	doc := tdgen.remote_query(tdgen.catalog_query()) -> 0;
	IF opened THEN
		PERFORM tdgen.remote_end();
	END IF;
	-- an empty catalog comes as null: an empty array
	SELECT jsonb_object_agg(x.key, coalesce(nullif(x.value, 'null'), '[]')) INTO doc FROM jsonb_each(doc) AS x;
	doc := doc || jsonb_build_object('trusted', to_jsonb(s.trusted_schemas), 'listed', to_jsonb(s.schemas));
	SELECT doc || jsonb_build_object('needed', coalesce(jsonb_object_agg(concat(o.classid, ':', o.objid), true), '{}'),
									 'extra', coalesce(to_jsonb(array_agg(DISTINCT o.nspname ORDER BY o.nspname)), '[]'))
	INTO doc
	FROM tdgen.outside_needs(doc) AS o;
	RETURN tdgen.index_snapshot(doc);
END
$$;

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
-- them) in the source's schemas, as production has it now (snap: tdgen.remote_schema, read
-- here when not given).
--   type_name:  the type as production spells it
--   local_type: a local type that reads its values (text for types that
--               exist only on production: enums, domains over them...)
--   base_type:  the built-in type under domains, when there is one
CREATE FUNCTION tdgen.remote_columns(source text, snap jsonb DEFAULT NULL)
RETURNS TABLE (schema_name name, table_name name, relkind "char", column_name name, attnum int2,
			   type_name text, local_type text, base_type regtype, type_class text,
			   not_null boolean, generated boolean, in_unique boolean, unique_alone boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_nestloop = off AS $$
DECLARE
	s tdgen.source := tdgen.resolve_source(source);
	cat jsonb[];
BEGIN
	snap := coalesce(snap, tdgen.remote_schema(s.name));
	cat := ARRAY[snap -> 'namespace',
				 (SELECT coalesce(jsonb_agg(c), '[]') FROM jsonb_array_elements(snap -> 'class') AS c
				  WHERE c ->> 'relkind' IN ('r', 'p') AND NOT (c -> 'relispartition')::boolean),
				 snap -> 'attribute', snap -> 'type',
				 (SELECT coalesce(jsonb_agg(k), '[]') FROM jsonb_array_elements(snap -> 'constraint') AS k
				  WHERE k ->> 'contype' IN ('p', 'u')),
				 (SELECT coalesce(jsonb_agg(x), '[]') FROM jsonb_array_elements(snap -> 'index') AS x
				  WHERE (x -> 'indisunique')::boolean)];
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
			SELECT conrelid AS relid, unnest(conkey) AS attnum, cardinality(conkey) = 1 AS alone
			FROM jsonb_to_recordset($2[5]) AS x(conrelid oid, conkey int2[])
			UNION
			SELECT indrelid, unnest(indkey), cardinality(indkey) = 1
			FROM jsonb_to_recordset($2[6]) AS x(indrelid oid, indkey int2[])
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
			   a.attnotnull, a.attgenerated <> '', EXISTS (SELECT FROM uniq AS u WHERE u.relid = r.oid AND u.attnum = a.attnum),
			   EXISTS (SELECT FROM uniq AS u WHERE u.relid = r.oid AND u.attnum = a.attnum AND u.alone)
		FROM rel AS r
		JOIN att AS a ON a.attrelid = r.oid
		JOIN typinfo AS ti ON ti.oid = a.atttypid
		ORDER BY 1, 2, 5
	$q$) USING s.schemas, cat;
END
$$;

-- Foreign keys between the source's tables, one row per column pair.
CREATE FUNCTION tdgen.remote_foreign_keys(source text, snap jsonb DEFAULT NULL)
RETURNS TABLE (schema_name name, table_name name, column_name name,
			   ref_schema name, ref_table name, ref_column name, constraint_name name)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_nestloop = off AS $$
DECLARE
	s tdgen.source := tdgen.resolve_source(source);
BEGIN
	snap := coalesce(snap, tdgen.remote_schema(s.name));
	RETURN QUERY
		WITH rel AS MATERIALIZED (
			SELECT c.oid, n.nspname, c.relname
			FROM jsonb_to_recordset(snap -> 'class') AS c(oid oid, relname name, relnamespace oid, relkind "char")
			JOIN jsonb_to_recordset(snap -> 'namespace') AS n(oid oid, nspname name) ON n.oid = c.relnamespace
			WHERE n.nspname = ANY (s.schemas) AND c.relkind IN ('r', 'p')
		), fk AS MATERIALIZED (
			SELECT k.conname, k.conrelid, k.confrelid, k.conkey, k.confkey
			FROM jsonb_to_recordset(snap -> 'constraint') AS k(conname name, contype "char", conrelid oid, confrelid oid,
															   conkey int2[], confkey int2[])
			WHERE k.contype = 'f'
		)
		-- column names looked up by relation (tdgen.index_snapshot's
		-- attribute_by_rel), not joined: the planner guesses the arrays at
		-- a row or two and would loop over them
		SELECT DISTINCT r.nspname, r.relname, u.column_name, rr.nspname, rr.relname, u.ref_column, fk.conname
		FROM fk
		JOIN rel AS r ON r.oid = fk.conrelid
		JOIN rel AS rr ON rr.oid = fk.confrelid,
			 unnest(tdgen.attribute_names(snap, fk.conrelid, fk.conkey),
					tdgen.attribute_names(snap, fk.confrelid, fk.confkey)) AS u(column_name, ref_column);
END
$$;

-- Production's columns and foreign keys (tdgen.remote_columns and
-- tdgen.remote_foreign_keys) as jsonb, for the functions that consult them
-- many times: from a snapshot of production's catalog
-- (tdgen.remote_schema), read here when not given.
CREATE FUNCTION tdgen.production_columns(source text, snap jsonb DEFAULT NULL, OUT cols jsonb, OUT fks jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	snap := coalesce(snap, tdgen.remote_schema(source));
	cols := (SELECT coalesce(jsonb_agg(to_jsonb(c)), '[]') FROM tdgen.remote_columns(source, snap) AS c);
	fks := (SELECT coalesce(jsonb_agg(to_jsonb(f)), '[]') FROM tdgen.remote_foreign_keys(source, snap) AS f);
END
$$;

-- Production as a refresh, the gate and the plan see it, read once (in
-- the snapshot of tdgen's connection when one is open): its catalog
-- (snap: tdgen.remote_schema) and its columns and foreign keys as the
-- rules name them (cols, fks: tdgen.production_columns).
CREATE FUNCTION tdgen.read_production(source text)
RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT jsonb_build_object('snap', x.snap, 'cols', pc.cols, 'fks', pc.fks)
	FROM (SELECT tdgen.remote_schema(source) AS snap) AS x, tdgen.production_columns(source, x.snap) AS pc;
END;

-- ---------------------------------------------------------------------------
-- Privileges and comments
-- ---------------------------------------------------------------------------

-- All of it reads production: for tdgen's own functions (and the
-- environments' owners, granted what their refreshes run).
REVOKE ALL ON FUNCTION tdgen.remote_begin(name, text, boolean), tdgen.remote_export(), tdgen.remote_end(),
	tdgen.remote_server(), tdgen.remote_query(text), tdgen.remote_rows(text, text[]), tdgen.remote_send(text, text[]),
	tdgen.remote_take(), tdgen.remote_rows_read(), tdgen.remote_columns(text, jsonb),
	tdgen.remote_foreign_keys(text, jsonb), tdgen.production_columns(text, jsonb), tdgen.catalog_query(),
	tdgen.remote_schema(text), tdgen.read_production(text) FROM PUBLIC;

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
COMMENT ON FUNCTION tdgen.remote_rows_read() IS
	'how many rows the last tdgen.remote_rows or tdgen.remote_take of this backend returned';
COMMENT ON FUNCTION tdgen.remote_send(text, text[]) IS
	'sends one of tdgen''s own queries to production without waiting for its rows (two at most, the second on a second connection in the same snapshot)';
COMMENT ON FUNCTION tdgen.remote_take() IS
	'the rows of the oldest query tdgen.remote_send sent, typed by the caller''s column definition list';
COMMENT ON FUNCTION tdgen.remote_rows(text, text[]) IS
	'the rows of one of tdgen''s own queries on production, with text parameters, over tdgen''s connection, typed by the caller''s column definition list';
COMMENT ON FUNCTION tdgen.type_class(name, "char", text) IS
	'the kind of a type (text, integer, numeric, date, timestamp, network, uuid, json, text_array, binary, enum, boolean, other)';
COMMENT ON FUNCTION tdgen.remote_columns(text, jsonb) IS
	'every column of the source''s tables as production has it now: type, local type, class, NOT NULL, generated, in a unique key (in_unique), a unique key alone (unique_alone)';
COMMENT ON FUNCTION tdgen.remote_foreign_keys(text, jsonb) IS
	'the foreign keys between the source''s tables, one row per column pair';
COMMENT ON FUNCTION tdgen.production_columns(text, jsonb) IS
	'production''s columns and foreign keys now, as jsonb arrays of remote_columns and remote_foreign_keys rows';
COMMENT ON FUNCTION tdgen.catalog_query() IS
	'the one query that reads production''s catalog for a refresh, definitions deparsed by production';
COMMENT ON FUNCTION tdgen.index_snapshot(jsonb) IS
	'production''s catalog document with its lookups keyed once: attributes by relation, columns by table, types by OID, extension types, CHECK clauses by name, identity sequences';
COMMENT ON FUNCTION tdgen.reproduced(jsonb, name, regclass, oid) IS
	'whether a refresh reproduces an object of production: in one of the source''s schemas, or needed by them from another';
COMMENT ON FUNCTION tdgen.outside_needs(jsonb) IS
	'objects of production''s unlisted user schemas that objects of the source''s schemas use, directly or through one another';
COMMENT ON FUNCTION tdgen.remote_schema(text) IS
	'production''s catalog as one jsonb document: what the shadow schema is built from';
COMMENT ON FUNCTION tdgen.read_production(text) IS
	'production read once: its catalog (snap) and its columns and foreign keys as the rules name them (cols, fks)';
