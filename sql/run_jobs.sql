-- Statements side by side in background workers: each in a transaction of
-- its own, after the earlier ones it names; results in statement order;
-- the first error raised again whole; the same results with one worker
-- (the caller runs them); wrong orders refused.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS tdgen CASCADE;
RESET client_min_messages;

\i test/fixtures/try.sql

CREATE SCHEMA jobs;
CREATE TABLE jobs.log (job integer, at timestamptz DEFAULT clock_timestamp());
CREATE FUNCTION jobs.refuse() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'job two refused', DETAIL = 'its detail', HINT = 'its hint';
END
$$;

-- each result is the first column of the first row of the statement's
-- last command, in statement order, with two workers and with one
SELECT job, result, seconds >= 0 AS timed
FROM tdgen.run_jobs(ARRAY['SELECT 1', 'SELECT 2; SELECT ''two'', 3', 'SELECT NULL', 'SELECT g FROM generate_series(4, 6) AS g'],
					'{0,0,0,0}', 2, '{}');
SELECT job, result
FROM tdgen.run_jobs(ARRAY['SELECT 1', 'SELECT 2; SELECT ''two'', 3', 'SELECT NULL', 'SELECT g FROM generate_series(4, 6) AS g'],
					'{0,0,0,0}', 1, '{}');

-- workers build indexes without parallel workers of their own (they
-- already run side by side); the caller keeps its setting
SET max_parallel_maintenance_workers = 2;
SELECT job, result FROM tdgen.run_jobs(ARRAY['SHOW max_parallel_maintenance_workers', 'SELECT 1'], '{0,0}', 2, '{}');
SELECT job, result FROM tdgen.run_jobs(ARRAY['SHOW max_parallel_maintenance_workers'], '{0}', 1, '{}');
RESET max_parallel_maintenance_workers;

-- a statement starts once all it comes after have committed (a
-- two-dimensional after, 0 where there is none): 3 waits for the slow 1
-- and for 2, and sees both rows
SELECT job, result
FROM tdgen.run_jobs(ARRAY['SELECT pg_sleep(0.5); INSERT INTO jobs.log (job) VALUES (1) RETURNING job',
						  'INSERT INTO jobs.log (job) VALUES (2) RETURNING job',
						  'INSERT INTO jobs.log (job) SELECT 3 WHERE (SELECT count(*) FROM jobs.log) = 2 RETURNING job'],
					'{{0,0},{0,0},{1,2}}', 2, '{}');
SELECT array_agg(job ORDER BY at) AS committed_in_order FROM jobs.log;

-- with a one-dimensional after, each statement names one
TRUNCATE jobs.log;
SELECT count(*)
FROM tdgen.run_jobs(ARRAY['SELECT pg_sleep(0.3); INSERT INTO jobs.log (job) VALUES (1)',
						  'INSERT INTO jobs.log (job) VALUES (2)',
						  'INSERT INTO jobs.log (job) VALUES (3)'],
					'{0,0,1}', 2, '{}');
SELECT array_position(array_agg(job ORDER BY at), 1) < array_position(array_agg(job ORDER BY at), 3) AS three_after_one
FROM jobs.log;

-- notices are raised by the caller as their statements start
SET client_min_messages = notice;
SELECT count(*) FROM tdgen.run_jobs(ARRAY['SELECT 1', 'SELECT 2'], '{0,1}', 2, ARRAY['first starts', NULL]);
RESET client_min_messages;

-- the first error is raised here with its SQLSTATE, message, detail and
-- hint; what committed before it stays, the statement that failed left
-- nothing, the one after it never ran
TRUNCATE jobs.log;
SELECT * FROM pg_temp.try($$
	SELECT * FROM tdgen.run_jobs(ARRAY[
		'INSERT INTO jobs.log (job) VALUES (1)',
		'INSERT INTO jobs.log (job) VALUES (2); SELECT jobs.refuse()',
		'INSERT INTO jobs.log (job) VALUES (3)'],
		'{0,1,2}', 2, '{}')$$);
SELECT array_agg(job ORDER BY job) AS committed FROM jobs.log;
-- with one worker the caller runs the statements in its own transaction,
-- which the error rolls back whole
TRUNCATE jobs.log;
SELECT * FROM pg_temp.try($$
	SELECT * FROM tdgen.run_jobs(ARRAY[
		'INSERT INTO jobs.log (job) VALUES (1)',
		'SELECT 1 / 0',
		'INSERT INTO jobs.log (job) VALUES (3)'],
		'{0,1,2}', 1, '{}')$$);
SELECT array_agg(job ORDER BY job) AS committed FROM jobs.log;
-- an error stops the workers still at work: the slow statement is not
-- left running
SELECT * FROM pg_temp.try($$
	SELECT * FROM tdgen.run_jobs(ARRAY['SELECT pg_sleep(30)', 'SELECT 1 / 0'], '{0,0}', 2, '{}')$$);
DO $$
BEGIN
	FOR i IN 1..100 LOOP
		EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'tdgen worker');
		PERFORM pg_sleep(0.1);
	END LOOP;
END
$$;
SELECT count(*) AS workers_left FROM pg_stat_activity WHERE backend_type = 'tdgen worker';

-- wrong orders: a statement after itself or a later one, after lists of
-- the wrong length or shape, workers out of range, a null statement
SELECT * FROM pg_temp.try($$SELECT * FROM tdgen.run_jobs(ARRAY['SELECT 1'], '{1}', 2, '{}')$$);
SELECT * FROM pg_temp.try($$SELECT * FROM tdgen.run_jobs(ARRAY['SELECT 1', 'SELECT 2'], '{{0,2},{0,0}}', 2, '{}')$$);
SELECT * FROM pg_temp.try($$SELECT * FROM tdgen.run_jobs(ARRAY['SELECT 1', 'SELECT 2'], '{0}', 2, '{}')$$);
SELECT * FROM pg_temp.try($$SELECT * FROM tdgen.run_jobs(ARRAY['SELECT 1', 'SELECT 2'], '{{0,0,0}}', 2, '{}')$$);
SELECT * FROM pg_temp.try($$SELECT * FROM tdgen.run_jobs(ARRAY['SELECT 1'], '{{{0}}}', 2, '{}')$$);
SELECT * FROM pg_temp.try($$SELECT * FROM tdgen.run_jobs(ARRAY['SELECT 1'], '{0}', 0, '{}')$$);
SELECT * FROM pg_temp.try($$SELECT * FROM tdgen.run_jobs(ARRAY['SELECT 1', NULL], '{0,0}', 2, '{}')$$);
-- no statements, no work
SELECT count(*) FROM tdgen.run_jobs('{}', '{}', 2, '{}');

-- the label a refresh's sessions carry keeps the refresh's PID whole when
-- the table's name is cut to fit
SELECT split_part(l, '|', 5) = pg_backend_pid()::text AS pid_whole, octet_length(l) <= 63 AS fits,
	   split_part(l, '|', 2) AS phase, split_part(l, '|', 3) AS n
FROM (SELECT tdgen.session_label('load', 3, 12, 'public.' || repeat('x', 80)) AS l) AS s;

DROP SCHEMA jobs CASCADE;
