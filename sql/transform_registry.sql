-- The registry lists exactly the transforms the schema holds, and every
-- keyed one is closed to PUBLIC.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS tdgen CASCADE;
RESET client_min_messages;

SELECT name, input_types, keyed, injective, reversible, format_preserving
FROM tdgen.transform ORDER BY name;

-- every transform has a function of its name in schema tdgen, and back
-- (a transform's first argument is its value)
SELECT t.name AS registered_without_function
FROM tdgen.transform AS t
WHERE NOT EXISTS (SELECT FROM pg_proc WHERE pronamespace = 'tdgen'::regnamespace AND proname = t.name);
SELECT DISTINCT proname AS function_not_registered
FROM pg_proc
WHERE pronamespace = 'tdgen'::regnamespace AND proargnames[1] = 'value'
  AND proname NOT IN (SELECT name FROM tdgen.transform)
ORDER BY 1;

-- keyed transforms: no EXECUTE for PUBLIC; unkeyed ones open
SELECT p.oid::regprocedure AS function,
	   has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute
FROM pg_proc AS p
JOIN tdgen.transform AS t ON t.name = p.proname
WHERE p.pronamespace = 'tdgen'::regnamespace AND t.keyed = has_function_privilege('public', p.oid, 'EXECUTE')
ORDER BY 1;

-- every transform is STRICT and PARALLEL SAFE
SELECT p.oid::regprocedure AS not_strict_or_parallel_safe
FROM pg_proc AS p
WHERE p.pronamespace = 'tdgen'::regnamespace AND p.proname IN (SELECT name FROM tdgen.transform)
  AND (NOT p.proisstrict OR p.proparallel <> 's')
ORDER BY 1;

-- transforms that are injective only with some parameters
SELECT name, injective, injective_with FROM tdgen.transform WHERE injective_with IS NOT NULL;

-- every registered parameter, and every parameter of injective_with, is an
-- argument of a function of the transform's name
SELECT t.name, k AS parameter_without_argument
FROM tdgen.transform AS t,
	 LATERAL (SELECT jsonb_object_keys(t.parameters)
			  UNION SELECT jsonb_object_keys(coalesce(t.injective_with, '{}'))) AS keys(k)
WHERE NOT EXISTS (SELECT FROM pg_proc
				  WHERE pronamespace = 'tdgen'::regnamespace AND proname = t.name AND k = ANY (proargnames))
ORDER BY 1, 2;

-- a transform reached through jsonb_mask or array_mask takes EXECUTE on the
-- transform itself: fpe_decrypt (granted to nobody) is no more reachable
-- indirectly than directly, for tdgen_admin as for anyone
\set VERBOSITY terse
CREATE ROLE registry_admin IN ROLE tdgen_admin;
SET ROLE registry_admin;
SELECT tdgen.fpe_decrypt('4111111111111111');
SELECT tdgen.array_mask(ARRAY['4111111111111111'], 'fpe_decrypt');
SELECT tdgen.array_mask(ARRAY['4111111111111111'], 'fpe_decrypt', '{"alphabet": "0123456789"}');
SELECT tdgen.jsonb_mask('{"c": "4111111111111111"}', '{"$.c": "fpe_decrypt"}');
SELECT tdgen.jsonb_mask('{"c": "4111111111111111"}', '{"$.c": {"transform": "fpe_decrypt"}}');
-- what the role may run directly, it may run inside values
SELECT tdgen.array_mask(ARRAY['alice@example.com'], 'email') = ARRAY[tdgen.email('alice@example.com')] AS same;
RESET ROLE;
-- a grant of one transform opens it inside values too, and its revoke closes it
GRANT EXECUTE ON FUNCTION tdgen.fpe_decrypt(text, text, text, text) TO registry_admin;
SET ROLE registry_admin;
SELECT tdgen.array_mask(ARRAY[tdgen.fpe_encrypt('4111111111111111')], 'fpe_decrypt') AS round_trip;
RESET ROLE;
REVOKE EXECUTE ON FUNCTION tdgen.fpe_decrypt(text, text, text, text) FROM registry_admin;
SET ROLE registry_admin;
SELECT tdgen.array_mask(ARRAY['4111111111111111'], 'fpe_decrypt');
RESET ROLE;
DROP ROLE registry_admin;
\set VERBOSITY default
