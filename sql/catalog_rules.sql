-- The rule API that migrations call: validation with clear errors, weird
-- identifiers, idempotence, table modes, categories, export, privileges.
-- No production is needed: rules are written before their columns exist.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS tdgen CASCADE;
RESET client_min_messages;

-- Runs a statement; its error as SQLSTATE, message and hint (nothing when
-- it succeeds).
CREATE FUNCTION pg_temp.try(stmt text) RETURNS TABLE (state text, message text, hint text)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
	RETURN NEXT;
END
$$;
\pset format unaligned
\pset fieldsep ' | '

-- rules and keeps
SELECT tdgen_rule('public.customers.email', 'email');
SELECT tdgen_rule('public.customers.phone', 'phone', '{"keep_leading": 2}');
SELECT tdgen_keep('public.orders.status', 'order state, not personal');
SELECT tdgen_table_mode('public.audit_log', 'empty');
-- idempotent: the same call again changes nothing but the time
SELECT tdgen_rule('public.customers.email', 'email');
SELECT schema_name, table_name, column_name, environment, action, transform, params, reason
FROM tdgen.column_rule ORDER BY 1, 2, 3;

-- identifiers as SQL spells them: quoted parts kept, others folded
SELECT tdgen_rule('Public."Order Items"."Unit ""Price"""', 'noise');
SELECT tdgen_rule('"we.ird"."select"."from"', 'hash', '{"length": 8}');
SELECT tdgen_keep('public.' || repeat('x', 63) || '.id', 'a 63-byte table name');
SELECT schema_name, table_name, column_name FROM tdgen.column_rule WHERE transform IN ('noise', 'hash') OR table_name ~ '^x+$'
ORDER BY 1, 2;

-- bad input: SQLSTATE, message, hint; nothing written
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.email', 'no_such_transform')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.phone', 'phone', '{"keep_leading": -1}')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.phone', 'phone', '{"keep_leadin": 2}')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.phone', 'phone', '[1]')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.email', 'email', '{"keep_domain": "yes"}')$$);
-- fpe_decrypt turns pseudonyms back: no rule names it, at any depth, and
-- the catalog refuses one written around the functions
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.ssn', 'fpe_decrypt')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.tags', 'array_mask', '{"transform": "fpe_decrypt"}')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.profile', 'jsonb_mask', '{"spec": {"$.card": "fpe_decrypt"}}')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.profile', 'jsonb_mask', '{"spec": {"$.card": {"transform": "fpe_decrypt"}}}')$$);
SELECT * FROM pg_temp.try($$INSERT INTO tdgen.column_rule (schema_name, table_name, column_name, action, transform, params)
							VALUES ('public', 'customers', 'tags', 'mask', 'array_mask', '{"transform": "fpe_decrypt"}')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_category('reversed', 'fpe_decrypt', ARRAY['x'])$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.profile', 'jsonb_mask')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.profile', 'jsonb_mask', '{"spec": {"$.a b": "email"}}')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.other', 'array_mask', '{"transform": "uuid"}')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('customers.email', 'email')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.email; DROP TABLE tdgen.column_rule; --', 'email')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers."unterminated', 'email')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.' || repeat('y', 64), 'email')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.email', 'email', '{}', 'no_such_env')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_keep('public.orders.status', '  ')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_table_mode('public.audit_log', 'truncate')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_table_mode('audit_log', 'skip')$$);
SELECT count(*) AS rules_after_bad_calls FROM tdgen.column_rule;
SELECT count(*) AS tables_still_there FROM pg_tables WHERE schemaname = 'tdgen' AND tablename = 'column_rule';

-- removal
SELECT tdgen_drop_rule('"we.ird"."select"."from"') AS dropped, tdgen_drop_rule('"we.ird"."select"."from"') AS again;
SELECT tdgen_drop_table_mode('public.audit_log') AS mode_dropped;

-- categories: built-ins are read-only but can be switched off; own ones
-- can be added, with patterns checked at once
SELECT count(*) >= 30 AS at_least_30_builtin FROM tdgen.category WHERE builtin;
SELECT c.name, c.transform FROM tdgen.category AS c
WHERE NOT EXISTS (SELECT FROM tdgen.transform AS t WHERE t.name = c.transform);
SELECT count(*) AS builtin_params_invalid FROM tdgen.category AS c
WHERE NOT (SELECT true FROM (SELECT tdgen.validate_transform(c.transform, c.params)) AS v);
SELECT * FROM pg_temp.try($$UPDATE tdgen.category SET confidence = 0.1 WHERE name = 'email'$$);
SELECT * FROM pg_temp.try($$DELETE FROM tdgen.category_pattern WHERE category = 'email'$$);
SELECT tdgen_disable_category('cardholder_name', 'we have no cards');
SELECT tdgen_category('employee_badge', 'scramble', ARRAY['badge_?(no|id)'], ARRAY['^B-[0-9]{6}$'],
					  description => 'door badge numbers');
SELECT tdgen_category_pattern('email', 'column', '^contact_addr$');
SELECT * FROM pg_temp.try($$SELECT tdgen_category('bad_regex', 'hash', ARRAY['(unclosed'])$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_category('email', 'hash', ARRAY['x'])$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_category_pattern('nope', 'column', 'x')$$);

-- sources and environments; a rule for one environment overrides the
-- general one there (no connection is made: the server need not answer)
CREATE SERVER rules_nowhere FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '/nonexistent', dbname 'x');
SELECT tdgen_source('prod', 'rules_nowhere');
SELECT tdgen_environment('qa', 'prod');
SELECT tdgen_rule('public.customers.email', 'email', '{"keep_domain": true}', 'qa');
SELECT environment, params FROM tdgen.column_rule WHERE column_name = 'email' ORDER BY environment NULLS FIRST;
SELECT * FROM pg_temp.try($$SELECT tdgen_source('Prod!', 'rules_nowhere')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_source('prod2', 'no_such_server')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_environment('staging', 'prod', 'public')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_environment('staging', 'no_source')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_drop_source('prod')$$);
-- environments are owned by a role that is no superuser (tdgen makes one
-- for a superuser's); grants name existing roles and known privileges
SELECT name, owner, rolsuper, rolcanlogin FROM tdgen.environment JOIN pg_roles ON rolname = owner;
SELECT * FROM pg_temp.try($$SELECT tdgen_environment('staging', 'prod', owner => 'postgres')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_environment('staging', 'prod', owner => 'no_such_role')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_environment('staging', 'prod', options => '{"drop_dependents": "yes"}')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_environment('staging', 'prod', 'qa')$$);
CREATE SCHEMA rules_not_a_target;
SELECT * FROM pg_temp.try($$SELECT tdgen_environment('staging', 'prod', 'rules_not_a_target')$$);
DROP SCHEMA rules_not_a_target;
CREATE ROLE rules_reader;
SELECT tdgen_grant('qa', 'read', 'rules_reader'), tdgen_grant('qa', 'read', 'rules_reader');
SELECT * FROM pg_temp.try($$SELECT tdgen_grant('qa', 'admin', 'rules_reader')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_grant('qa', 'read', 'no_such_role')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_grant('nope', 'read', 'rules_reader')$$);
SELECT environment, privilege, role FROM tdgen.environment_grant;

-- export: a script that recreates every user setting
SELECT tdgen_table_mode('public.audit_log', 'skip', NULL);
SELECT regexp_replace(tdgen_export_rules(), '^-- tdgen rules, exported [^\n]*\n', '') AS script;

-- the script replays into an empty catalog to the same rules
CREATE TEMP TABLE before AS SELECT schema_name, table_name, column_name, environment, action, transform, params, reason
FROM tdgen.column_rule;
CREATE TEMP TABLE script AS SELECT tdgen_export_rules() AS s;
DELETE FROM tdgen.column_rule;
DELETE FROM tdgen.table_mode;
DELETE FROM tdgen.environment_grant;
SELECT tdgen_drop_category('employee_badge');
SELECT tdgen_enable_category('cardholder_name');
SELECT s FROM script \gset
:s
SELECT count(*) AS differences FROM (
	(SELECT schema_name, table_name, column_name, environment, action, transform, params, reason FROM tdgen.column_rule
	 EXCEPT SELECT * FROM before)
	UNION ALL
	(SELECT * FROM before
	 EXCEPT SELECT schema_name, table_name, column_name, environment, action, transform, params, reason FROM tdgen.column_rule)) AS d;
SELECT name FROM tdgen.category WHERE NOT builtin;
SELECT category FROM tdgen.category_disabled;
SELECT environment, privilege, role FROM tdgen.environment_grant;
SELECT tdgen_revoke('qa', 'read', 'rules_reader') AS revoked, tdgen_revoke('qa', 'read', 'rules_reader') AS again;
SELECT tdgen_drop_environment('qa') AS env_dropped, tdgen_drop_source('prod') AS source_dropped;
DROP OWNED BY rules_reader, tdgen_qa_owner;
DROP ROLE rules_reader, tdgen_qa_owner;
SELECT count(*) AS rules_of_dropped_env FROM tdgen.column_rule WHERE environment IS NOT NULL;
DROP SERVER rules_nowhere;

-- an ordinary role may not write rules: 42501
CREATE ROLE rule_outsider;
SET ROLE rule_outsider;
SELECT * FROM pg_temp.try($$SELECT tdgen_rule('public.customers.ssn', 'ssn')$$);
SELECT * FROM pg_temp.try($$SELECT tdgen_keep('public.customers.ssn', 'trust me')$$);
SELECT * FROM pg_temp.try($$INSERT INTO tdgen.column_rule (schema_name, table_name, column_name, action, reason)
VALUES ('public', 'customers', 'ssn', 'keep', 'trust me')$$);
SELECT * FROM pg_temp.try($$SELECT count(*) FROM tdgen.column_rule$$);
RESET ROLE;
DROP ROLE rule_outsider;
