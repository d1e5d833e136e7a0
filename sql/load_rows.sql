-- The load step: a query's rows into a table in batches, partitions
-- routed, generated columns computed, NOT NULL and CHECK constraints
-- checked without quoting the row; a query of the wrong shape refused.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS tdgen CASCADE;
RESET client_min_messages;

\i test/fixtures/try.sql

CREATE SCHEMA load;
CREATE DOMAIN load.code AS text CHECK (VALUE ~ '^[A-Z]{3}$');
CREATE TABLE load.people (
	id		bigint GENERATED ALWAYS AS IDENTITY,
	first	text NOT NULL,
	last	text,
	full_name text GENERATED ALWAYS AS (first || ' ' || coalesce(last, '?')) STORED,
	code	load.code,
	tag		varchar(4)
);

-- more rows than a batch, so several batches; identity values given
SELECT tdgen.load_rows('load.people',
	$$SELECT g::bigint, 'F' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'L' || g END, 'ABC'::load.code, 'x'::varchar(4)
	  FROM generate_series(1, 2500) AS g$$);
SELECT count(*), count(DISTINCT id), min(id), max(id), count(last) FROM load.people;
SELECT * FROM load.people WHERE id IN (1, 7) ORDER BY id;

-- a column dropped before the load is skipped
ALTER TABLE load.people DROP COLUMN tag;
SELECT tdgen.load_rows('load.people', $$SELECT 3000::bigint, 'a', 'b', NULL::load.code$$);
SELECT full_name FROM load.people WHERE id = 3000;

-- the wrong shape: refused before a row moves
SELECT * FROM pg_temp.try($q$SELECT tdgen.load_rows('load.people', $$SELECT 1::bigint, 'a', 'b'$$)$q$);
SELECT * FROM pg_temp.try($q$SELECT tdgen.load_rows('load.people', $$SELECT 1::int, 'a', 'b', NULL::load.code$$)$q$);
SELECT * FROM pg_temp.try($q$SELECT tdgen.load_rows('load.people', $$SELECT 1::bigint, 'a', 'b', 'ABC'$$)$q$);
SELECT * FROM pg_temp.try($q$SELECT tdgen.load_rows('load.people', $$DELETE FROM load.people RETURNING id, first, last, code$$)$q$);
SELECT * FROM pg_temp.try($q$SELECT tdgen.load_rows('load.people', $$SELECT 1; SELECT 2$$)$q$);
SELECT * FROM pg_temp.try($q$SELECT tdgen.load_rows('load.people', $$SELECT 1::bigint, 'a', 'b', NULL::load.code FROM load.nowhere$$)$q$);
SELECT * FROM pg_temp.try($q$SELECT tdgen.load_rows('load.people_id_seq', $$SELECT 1$$)$q$);

-- NOT NULL and domain violations name the column, never the row
SELECT * FROM pg_temp.try($q$SELECT tdgen.load_rows('load.people', $$SELECT 4000::bigint, NULL::text, 'secret-last-name', NULL::load.code$$)$q$);
SELECT * FROM pg_temp.try($q$SELECT tdgen.load_rows('load.people', $$SELECT 4001::bigint, 'secret-first', 'x', 'abc'::load.code$$)$q$);
SELECT count(*) FROM load.people WHERE id >= 4000;

-- partitions: each row goes where its key says, at any depth, also when
-- a partition's columns are in another order
CREATE TABLE load.events (at date NOT NULL, kind text, n int) PARTITION BY RANGE (at);
CREATE TABLE load.events_old PARTITION OF load.events FOR VALUES FROM (MINVALUE) TO ('2020-01-01');
CREATE TABLE load.events_new (n int, kind text, at date NOT NULL) PARTITION BY LIST (kind);
ALTER TABLE load.events ATTACH PARTITION load.events_new FOR VALUES FROM ('2020-01-01') TO (MAXVALUE);
CREATE TABLE load.events_new_a PARTITION OF load.events_new FOR VALUES IN ('a');
CREATE TABLE load.events_new_rest PARTITION OF load.events_new DEFAULT;
CREATE INDEX ON load.events (n);
SELECT tdgen.load_rows('load.events',
	$$SELECT date '2018-01-01' + g * 3, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END, g FROM generate_series(1, 2000) AS g$$);
SELECT tableoid::regclass AS partition, count(*), min(at), max(at), sum(n)
FROM load.events GROUP BY 1 ORDER BY 1;
-- the index was kept up to date along the way
SET enable_seqscan = off;
SELECT count(*) FROM load.events WHERE n BETWEEN 100 AND 199;
RESET enable_seqscan;
SELECT * FROM pg_temp.try($q$SELECT tdgen.load_rows('load.events', $$SELECT NULL::date, 'a', 1$$)$q$);
CREATE TABLE load.bounded (k int NOT NULL) PARTITION BY RANGE (k);
CREATE TABLE load.bounded_low PARTITION OF load.bounded FOR VALUES FROM (0) TO (10);
SELECT * FROM pg_temp.try($q$SELECT tdgen.load_rows('load.bounded', $$SELECT 5 UNION ALL SELECT 50$$)$q$);
SELECT count(*) FROM load.bounded;

-- CHECK constraints: checked row by row, also a partition's (and its
-- parent's), named without the row; NOT VALID ones are not checked
CREATE TABLE load.checked (id int, score int CONSTRAINT score_positive CHECK (score > 0), note text,
						   CONSTRAINT note_short CHECK (length(note) < 5)) PARTITION BY RANGE (id);
CREATE TABLE load.checked_low PARTITION OF load.checked (CONSTRAINT low_ids CHECK (id < 100)) FOR VALUES FROM (0) TO (1000);
ALTER TABLE load.checked ADD CONSTRAINT legacy_even CHECK (score % 2 = 0) NOT VALID;
SELECT tdgen.load_rows('load.checked', $$SELECT 1, 3, 'ok' UNION ALL SELECT 2, NULL, NULL$$);
SELECT * FROM pg_temp.try($q$SELECT tdgen.load_rows('load.checked', $$SELECT 3, -7, 'ok'$$)$q$);
SELECT * FROM pg_temp.try($q$SELECT tdgen.load_rows('load.checked', $$SELECT 4, 8, 'secret-note'$$)$q$);
SELECT * FROM pg_temp.try($q$SELECT tdgen.load_rows('load.checked', $$SELECT 500, 8, 'fine'$$)$q$);
SELECT id, score, note FROM load.checked ORDER BY id;

-- a wide row ends its batch early, memory stays bounded
CREATE TABLE load.wide (id int, body text);
SELECT tdgen.load_rows('load.wide', $$SELECT g, repeat('x', 100000) FROM generate_series(1, 300) AS g$$);
SELECT count(*), sum(length(body)) FROM load.wide;

-- only what the caller may insert into
CREATE ROLE load_reader;
GRANT USAGE ON SCHEMA load TO load_reader;
GRANT EXECUTE ON FUNCTION tdgen.load_rows(regclass, text) TO load_reader;
SET ROLE load_reader;
SELECT tdgen.load_rows('load.wide', $$SELECT 1, 'y'$$);
RESET ROLE;
REVOKE ALL ON FUNCTION tdgen.load_rows(regclass, text) FROM load_reader;
SET ROLE load_reader;
SELECT tdgen.load_rows('load.wide', $$SELECT 1, 'y'$$);
RESET ROLE;

-- an error mid-load leaves nothing behind
BEGIN;
SELECT tdgen.load_rows('load.wide', $$SELECT g, CASE WHEN g < 1500 THEN 'ok' ELSE (1 / (g - g))::text END FROM generate_series(1, 2000) AS g$$);
ROLLBACK;
SELECT count(*) FROM load.wide;

-- a table made in this transaction takes its rows frozen, on pages marked
-- all-visible; rows into an older table are written as any insert's
CREATE EXTENSION pg_visibility;
BEGIN;
CREATE TABLE load.fresh (n integer, t text);
SELECT tdgen.load_rows('load.fresh', $$SELECT g, repeat('x', 100) FROM generate_series(1, 5000) AS g$$);
COMMIT;
SELECT all_visible = pg_relation_size('load.fresh') / current_setting('block_size')::integer AS all_visible,
	   all_frozen = all_visible AS all_frozen
FROM pg_visibility_map_summary('load.fresh');
SELECT tdgen.load_rows('load.fresh', $$SELECT g, repeat('y', 100) FROM generate_series(1, 5000) AS g$$);
SELECT all_frozen < pg_relation_size('load.fresh') / current_setting('block_size')::integer AS later_rows_not_frozen
FROM pg_visibility_map_summary('load.fresh');
SELECT count(*), count(DISTINCT t) FROM load.fresh;
DROP EXTENSION pg_visibility;

-- the tables that hold a table's rows, which a foreign key's check is
-- planned by: a plain table itself, a partitioned table's leaves
SELECT relname FROM tdgen.leaf_tables('load.fresh') ORDER BY 1;
SELECT relname FROM tdgen.leaf_tables('load.events') ORDER BY 1;

DROP SCHEMA load CASCADE;
DROP ROLE load_reader;
