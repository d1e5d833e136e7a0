-- A staging database reaches the production database through a
-- postgres_fdw server, and remote failures surface with their SQLSTATE.
\set VERBOSITY terse

CREATE EXTENSION tdgen CASCADE;

-- a loopback server to the "prod" database of this cluster
DO $$
BEGIN
	EXECUTE format('CREATE SERVER prod FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host %L, port %L, dbname %L)',
				   current_setting('unix_socket_directories'), current_setting('port'), 'prod');
END
$$;
CREATE USER MAPPING FOR CURRENT_USER SERVER prod;

CREATE SCHEMA prod_public;
-- (tables whose columns use only built-in types: an enum or domain of
-- production would have to exist locally first)
IMPORT FOREIGN SCHEMA public LIMIT TO (countries, customers, payment_cards)
	FROM SERVER prod INTO prod_public;

SELECT code, name FROM prod_public.countries ORDER BY code LIMIT 3;
SELECT count(*) AS countries FROM prod_public.countries;
SELECT count(*) > 0 AS has_customers FROM prod_public.customers;

-- a join between two remote tables runs on production
SELECT count(*) = (SELECT count(*) FROM prod_public.payment_cards) AS every_card_has_its_customer
FROM prod_public.payment_cards AS p
JOIN prod_public.customers AS c ON c.id = p.customer_id;

-- a production column of a type staging does not have
IMPORT FOREIGN SCHEMA public LIMIT TO (orders) FROM SERVER prod INTO prod_public;
\echo :LAST_ERROR_SQLSTATE

-- a table missing on production
CREATE FOREIGN TABLE prod_public.missing (x int)
	SERVER prod OPTIONS (schema_name 'public', table_name 'no_such_table');
SELECT * FROM prod_public.missing;
\echo :LAST_ERROR_SQLSTATE

-- a server nobody listens on
DO $$
BEGIN
	EXECUTE format('CREATE SERVER nowhere FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host %L, port %L, dbname %L)',
				   current_setting('unix_socket_directories'), '1', 'prod');
END
$$;
CREATE USER MAPPING FOR CURRENT_USER SERVER nowhere;
CREATE FOREIGN TABLE prod_public.unreachable (x int) SERVER nowhere;
SELECT * FROM prod_public.unreachable;
\echo :LAST_ERROR_SQLSTATE

DROP SCHEMA prod_public CASCADE;
DROP EXTENSION tdgen;
DROP EXTENSION postgres_fdw CASCADE;
