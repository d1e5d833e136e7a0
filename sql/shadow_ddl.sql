-- Reproducing production's schema: partition bounds decoded from the text
-- of pg_class.relpartbound recreate the same bounds.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS tdgen CASCADE;
RESET client_min_messages;

CREATE SCHEMA bounds;
CREATE TABLE bounds.by_time (t timestamptz, v int) PARTITION BY RANGE (t);
CREATE TABLE bounds.by_time_2020 PARTITION OF bounds.by_time FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
CREATE TABLE bounds.by_time_low PARTITION OF bounds.by_time FOR VALUES FROM (MINVALUE) TO ('2020-01-01');
CREATE TABLE bounds.by_time_rest PARTITION OF bounds.by_time DEFAULT;
CREATE TABLE bounds.by_pair (a int, b text) PARTITION BY RANGE (a, b);
CREATE TABLE bounds.by_pair_1 PARTITION OF bounds.by_pair FOR VALUES FROM (-5, 'a''b') TO (10, MAXVALUE);
CREATE TABLE bounds.by_list (c text, n numeric) PARTITION BY LIST (c);
CREATE TABLE bounds.by_list_1 PARTITION OF bounds.by_list FOR VALUES IN ('x', 'O''Brien', NULL, 'é');
CREATE TABLE bounds.by_hash (id bigint) PARTITION BY HASH (id);
CREATE TABLE bounds.by_hash_1 PARTITION OF bounds.by_hash FOR VALUES WITH (MODULUS 4, REMAINDER 3);

-- each partition recreated from the decoded text has the same bound
SELECT c.relname, tdgen.partition_bound_sql(c.relpartbound::text) AS decoded
FROM pg_class AS c WHERE c.relnamespace = 'bounds'::regnamespace AND c.relispartition ORDER BY 1;
DO $$
DECLARE
	p record;
BEGIN
	FOR p IN SELECT c.relname, i.inhparent::regclass AS parent,
					tdgen.partition_bound_sql(c.relpartbound::text) AS decoded,
					pg_get_expr(c.relpartbound, c.oid) AS original
			 FROM pg_class AS c JOIN pg_inherits AS i ON i.inhrelid = c.oid
			 WHERE c.relnamespace = 'bounds'::regnamespace AND c.relispartition
	LOOP
		EXECUTE format('CREATE TABLE bounds.%I (LIKE %s)', 'copy_' || p.relname, p.parent);
		EXECUTE format('ALTER TABLE %s DETACH PARTITION bounds.%I', p.parent, p.relname);
		EXECUTE format('ALTER TABLE %s ATTACH PARTITION bounds.%I %s', p.parent, 'copy_' || p.relname, p.decoded);
		IF p.original <> (SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class AS c
						  WHERE c.relname = 'copy_' || p.relname AND c.relnamespace = 'bounds'::regnamespace) THEN
			RAISE EXCEPTION 'bound of % differs', p.relname;
		END IF;
	END LOOP;
END
$$;
SELECT count(*) AS partitions_recreated FROM pg_class
WHERE relnamespace = 'bounds'::regnamespace AND relname LIKE 'copy\_%' AND relispartition;

-- not a partition bound: 22P02, without a crash
\set VERBOSITY terse
SELECT tdgen.partition_bound_sql('{QUERY :commandType 1}');
SELECT tdgen.partition_bound_sql('hello');
\set VERBOSITY default
SET client_min_messages = warning;
DROP SCHEMA bounds CASCADE;

-- a foreign key added to a loaded table checks every row; past 100,000
-- referenced rows without hashing them, and merging both sides when the
-- checked table (a partitioned one's largest partition) has a tenth as many
-- rows or more; the planner's settings are as they were after it
CREATE SCHEMA fk;
CREATE TABLE fk.small (a integer, b integer, PRIMARY KEY (a, b));
CREATE TABLE fk.big (a integer, b integer, PRIMARY KEY (a, b));
CREATE TABLE fk.few (a integer, b integer);
CREATE TABLE fk.many (a integer, b integer, note text) PARTITION BY RANGE (a);
CREATE TABLE fk.many_low PARTITION OF fk.many FOR VALUES FROM (MINVALUE) TO (1000);
CREATE TABLE fk.many_high PARTITION OF fk.many FOR VALUES FROM (1000) TO (MAXVALUE);
INSERT INTO fk.small SELECT g, g % 7 FROM generate_series(1, 20000) AS g;
INSERT INTO fk.big SELECT g, g % 7 FROM generate_series(1, 150000) AS g;
INSERT INTO fk.few SELECT g, g % 7 FROM generate_series(1, 20000, 20) AS g;
INSERT INTO fk.many SELECT g, g % 7, 'n' FROM generate_series(1, 150000, 5) AS g;
ANALYZE fk.small, fk.big, fk.few, fk.many;
SELECT t AS checked, r AS referenced, array(SELECT format('%s=%s', s.name, s.setting)
										   FROM tdgen.foreign_key_settings(t, r) AS s) AS settings
FROM (VALUES ('fk.few'::regclass, 'fk.small'::regclass), ('fk.many', 'fk.small'), ('fk.few', 'fk.big'),
			 ('fk.many', 'fk.big'), ('fk.many_low', 'fk.big')) AS x(t, r);
-- the keys added, each through tdgen.add_foreign_key, twice: over clean
-- rows, then with an orphan in each table; the planner's settings read in
-- the same transaction, right after each
CREATE TABLE fk.keys (n integer, tbl regclass, referenced regclass, conname name);
INSERT INTO fk.keys VALUES (1, 'fk.few', 'fk.big', 'few_fkey'), (2, 'fk.many', 'fk.big', 'many_fkey'),
	(3, 'fk.few', 'fk.small', 'few_small_fkey');
\i test/fixtures/try.sql
CREATE FUNCTION pg_temp.add_keys()
RETURNS TABLE (conname name, state text, message text, hashjoin text, nestloop text)
LANGUAGE sql AS $$
	SELECT k.conname, t.state, t.message, current_setting('enable_hashjoin'), current_setting('enable_nestloop')
	FROM (SELECT * FROM fk.keys ORDER BY n) AS k
	LEFT JOIN LATERAL pg_temp.try(format('SELECT tdgen.add_foreign_key(%L, %L, %L)', k.tbl, k.referenced,
										 format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (a, b) REFERENCES %s (a, b)',
												k.tbl, k.conname, k.referenced))) AS t ON true
$$;
SELECT * FROM pg_temp.add_keys();
SELECT conrelid::regclass, conname, convalidated FROM pg_constraint
WHERE connamespace = 'fk'::regnamespace AND contype = 'f' AND conparentid = 0 ORDER BY 1, 2;
SHOW enable_hashjoin;
SHOW enable_nestloop;
-- a row without its parent: 23503, whichever way the check runs; the
-- settings are back after the error too
SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', tbl, conname) FROM fk.keys ORDER BY n
\gexec
INSERT INTO fk.few VALUES (150001, 3), (20001, 6);
INSERT INTO fk.many VALUES (150001, 3, 'orphan');
SELECT * FROM pg_temp.add_keys();
SHOW enable_hashjoin;
SHOW enable_nestloop;
SELECT count(*) AS foreign_keys_left FROM pg_constraint WHERE connamespace = 'fk'::regnamespace AND contype = 'f';
SET client_min_messages = warning;
DROP SCHEMA fk CASCADE;
