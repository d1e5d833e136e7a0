-- ---------------------------------------------------------------------------
-- shop_data.sql
--     Fill the demo shop with made-up but realistic-looking people and orders.
--
-- psql -v scale=S: S = 1 gives 1,000,000 customers and about 13 million rows
-- in all.  Every value is a function of the row number (keyed hashes), so a
-- scale always gives the same data.  Names and places are drawn from data/,
-- weighted by their frequency in the census.  Run from the repository root.
-- ---------------------------------------------------------------------------

\set ON_ERROR_STOP on
SET synchronous_commit = off;
SET work_mem = '256MB';

-- Row counts; customers is a multiple of 4 so every derived count is exact.
SELECT greatest(100, (round(:scale * 250000))::bigint * 4) AS customers,
	   greatest(100, round(:scale * 10000))::int AS products,
	   greatest(5, round(:scale * 100))::int AS stores
\gset

-- Pseudo-random integer in [0, 2^63) from a row number and a salt.
CREATE FUNCTION pg_temp.rnd(g bigint, salt bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT hashint8extended(g, salt) & 9223372036854775807 $$;

-- payload || Luhn check digit
CREATE FUNCTION pg_temp.with_luhn(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT p || ((10 - sum(CASE WHEN (length(p) - i) % 2 = 0
							   THEN (ARRAY[0, 2, 4, 6, 8, 1, 3, 5, 7, 9])[substr(p, i, 1)::int + 1]
							   ELSE substr(p, i, 1)::int END) % 10) % 10)::text
	FROM generate_series(1, length(p)) AS i
$$;

-- Dictionaries, each name repeated by its weight so a uniform draw over
-- "slot" is a frequency-weighted draw over names.
CREATE TEMP TABLE first_name_src (name text, sex char(1), weight int);
\copy first_name_src FROM 'data/first_names.tsv' WITH (FORMAT csv, DELIMITER E'\t', HEADER true)
CREATE TEMP TABLE last_name_src (name text, weight int);
\copy last_name_src FROM 'data/last_names.tsv' WITH (FORMAT csv, DELIMITER E'\t', HEADER true)
CREATE TEMP TABLE place (state text, city text, latitude float8, longitude float8);
\copy place FROM 'data/places.tsv' WITH (FORMAT csv, DELIMITER E'\t', HEADER true)

CREATE TEMP TABLE first_name AS
	SELECT (row_number() OVER () - 1)::int AS slot, name
	FROM first_name_src, generate_series(1, weight);
CREATE TEMP TABLE last_name AS
	SELECT (row_number() OVER () - 1)::int AS slot, name
	FROM last_name_src, generate_series(1, weight);
CREATE TEMP TABLE place_slot AS
	SELECT (row_number() OVER (ORDER BY state, city) - 1)::int AS slot, state, city
	FROM place;
ANALYZE first_name, last_name, place_slot;
SELECT count(*) AS first_slots FROM first_name \gset
SELECT count(*) AS last_slots FROM last_name \gset
SELECT count(*) AS place_slots FROM place_slot \gset

BEGIN;

INSERT INTO countries (code, name) VALUES
	('US', 'United States'), ('CA', 'Canada'), ('MX', 'Mexico'),
	('GB', 'United Kingdom'), ('IE', 'Ireland'), ('FR', 'France'),
	('DE', 'Germany'), ('NL', 'Netherlands'), ('BE', 'Belgium'),
	('ES', 'Spain'), ('PT', 'Portugal'), ('IT', 'Italy'),
	('CH', 'Switzerland'), ('AT', 'Austria'), ('SE', 'Sweden'),
	('NO', 'Norway'), ('DK', 'Denmark'), ('PL', 'Poland'),
	('AU', 'Australia'), ('JP', 'Japan');

INSERT INTO products (id, sku, name, category, price)
SELECT p,
	   'SKU-' || lpad(p::text, 6, '0'),
	   (ARRAY['Classic', 'Deluxe', 'Compact', 'Organic', 'Rugged', 'Smart', 'Vintage', 'Eco'])[1 + pg_temp.rnd(p, 1) % 8]
	   || ' ' ||
	   (ARRAY['Kettle', 'Backpack', 'Lamp', 'Blender', 'Jacket', 'Chair', 'Headphones', 'Mug', 'Tent', 'Watch'])[1 + pg_temp.rnd(p, 2) % 10],
	   (ARRAY['home', 'outdoor', 'kitchen', 'apparel', 'electronics'])[1 + pg_temp.rnd(p, 3) % 5],
	   (100 + pg_temp.rnd(p, 4) % 49900) / 100.0
FROM generate_series(1, :products) AS p;

-- Store s is run by employee 20s-19; each store has 20 employees: the
-- manager, three supervisors who report to the manager, and sixteen staff
-- who report to a supervisor.
INSERT INTO stores (id, name, city, state, manager_id, opened_on)
SELECT s, pl.city || ' Store #' || s, pl.city, pl.state, (s - 1) * 20 + 1,
	   DATE '2005-01-01' + (pg_temp.rnd(s, 5) % 5000)::int
FROM generate_series(1, :stores) AS s
JOIN place_slot AS pl ON pl.slot = pg_temp.rnd(s, 6) % :place_slots;

INSERT INTO employees (id, store_id, manager_id, first_name, last_name, email, ssn, salary, hired_on)
SELECT e, (e - 1) / 20 + 1,
	   CASE WHEN (e - 1) % 20 = 0 THEN NULL
			WHEN (e - 1) % 20 < 4 THEN (e - 1) / 20 * 20 + 1
			ELSE (e - 1) / 20 * 20 + 2 + (e - 1) % 3 END,
	   f.name, l.name,
	   lower(f.name) || '.' || lower(l.name) || '.' || e || '@shop.example.com',
	   lpad((1 + pg_temp.rnd(e, 7) % 665)::text, 3, '0') || '-' ||
	   lpad((1 + pg_temp.rnd(e, 8) % 99)::text, 2, '0') || '-' ||
	   lpad((1 + pg_temp.rnd(e, 9) % 9999)::text, 4, '0'),
	   (2500000 + pg_temp.rnd(e, 10) % 9000000) / 100.0,
	   DATE '2008-01-01' + (pg_temp.rnd(e, 11) % 6000)::int
FROM generate_series(1, :stores * 20) AS e
JOIN first_name AS f ON f.slot = pg_temp.rnd(e, 12) % :first_slots
JOIN last_name AS l ON l.slot = pg_temp.rnd(e, 13) % :last_slots;

-- Customers, with one card for three customers out of four (card id =
-- customer id).  Most columns come from a per-row "person" built once.
WITH person AS (
	SELECT g, f.name AS first, l.name AS last, pl.city, pl.state,
		   lower(f.name) ||
		   (ARRAY['.', '_', '', '.'])[1 + g % 4] ||
		   CASE WHEN g % 3 = 0 THEN lower(left(l.name, 1)) ELSE lower(l.name) END ||
		   g || '@' ||
		   (ARRAY['gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'aol.com', 'icloud.com', 'comcast.net', 'protonmail.com'])[1 + pg_temp.rnd(g, 14) % 8] AS email,
		   CASE WHEN g % 20 = 0 THEN NULL
				ELSE format((ARRAY['(%s) %s-%s', '%s-%s-%s', '+1 %s %s %s', '%s.%s.%s'])[1 + g % 4],
							201 + pg_temp.rnd(g, 15) % 798,
							200 + pg_temp.rnd(g, 16) % 800,
							lpad((pg_temp.rnd(g, 17) % 10000)::text, 4, '0')) END AS phone
	FROM generate_series(1, :customers) AS g
	JOIN first_name AS f ON f.slot = pg_temp.rnd(g, 18) % :first_slots
	JOIN last_name AS l ON l.slot = pg_temp.rnd(g, 19) % :last_slots
	JOIN place_slot AS pl ON pl.slot = pg_temp.rnd(g, 20) % :place_slots
), inserted AS (
	INSERT INTO customers (id, first_name, last_name, email, phone, birth_date, ssn,
						   signup_ip, notes, profile, other_emails, created_at)
	OVERRIDING SYSTEM VALUE
	SELECT g, first, last, email, phone,
		   DATE '1940-01-01' + (pg_temp.rnd(g, 21) % 23000)::int,
		   CASE WHEN g % 10 = 0 THEN NULL
				ELSE lpad((1 + pg_temp.rnd(g, 22) % 665)::text, 3, '0') || '-' ||
					 lpad((1 + pg_temp.rnd(g, 23) % 99)::text, 2, '0') || '-' ||
					 lpad((1 + pg_temp.rnd(g, 24) % 9999)::text, 4, '0') END,
		   CASE WHEN g % 10 = 0 THEN '2001:db8::'::inet + pg_temp.rnd(g, 25) % 4294967296
				ELSE '1.0.0.0'::inet + pg_temp.rnd(g, 25) % 3690987520 END,
		   CASE g % 10
				WHEN 1 THEN format('%s %s called about a late delivery; reply to %s.', first, last, email)
				WHEN 4 THEN format('Prefers phone contact (%s). Ask for %s.', coalesce(phone, 'none'), first)
				WHEN 7 THEN format('VIP since %s. Spouse %s %s also shops here.', 2010 + g % 14, (ARRAY['Anna', 'James', 'Maria', 'David'])[1 + g % 4], last)
				END,
		   jsonb_build_object('name', jsonb_build_object('first', first, 'last', last),
							  'contact', jsonb_build_object('email', email, 'phone', phone),
							  'home', jsonb_build_object('city', city, 'state', state),
							  'newsletter', g % 3 = 0,
							  'interests', jsonb_build_array((ARRAY['hiking', 'cooking', 'music', 'gaming', 'travel'])[1 + g % 5])),
		   CASE WHEN g % 5 = 0 THEN ARRAY[lower(first) || '.' || g || '@work.example.net',
										  lower(last) || g || '@gmail.com'] END,
		   TIMESTAMPTZ '2018-01-01 00:00:00+00' + (pg_temp.rnd(g, 26) % 252000000) * INTERVAL '1 second'
	FROM person
	RETURNING id, first_name, last_name
)
INSERT INTO payment_cards (id, customer_id, card_number, cardholder, expires_on)
SELECT id, id,
	   pg_temp.with_luhn((ARRAY['4', '51', '37', '6011'])[1 + id % 4] ||
						 lpad((pg_temp.rnd(id, 27) % 100000000000000)::text, 14, '0')),
	   upper(first_name || ' ' || last_name),
	   DATE '2026-01-31' + (pg_temp.rnd(id, 28) % 48)::int * 30
FROM inserted
WHERE id % 4 <> 0;

-- Every customer has a billing address (id = customer id); even-numbered
-- customers also a shipping address.
INSERT INTO addresses (id, customer_id, kind, street, city, state, zip, country_code)
SELECT CASE WHEN a.kind = 'billing' THEN a.g ELSE :customers + a.g / 2 END,
	   a.g, a.kind,
	   (1 + pg_temp.rnd(a.g, 29 + a.k) % 9899) || ' ' || l.name || ' ' ||
	   (ARRAY['St', 'Ave', 'Rd', 'Ln', 'Dr', 'Blvd', 'Ct', 'Way'])[1 + pg_temp.rnd(a.g, 31 + a.k) % 8],
	   pl.city, pl.state,
	   lpad((501 + pg_temp.rnd(a.g, 33 + a.k) % 99000)::text, 5, '0'),
	   CASE WHEN a.g % 40 = 0 THEN 'CA' ELSE 'US' END
FROM (SELECT g, 'billing' AS kind, 0 AS k FROM generate_series(1, :customers) AS g
	  UNION ALL
	  SELECT g, 'shipping', 1 FROM generate_series(2, :customers, 2) AS g) AS a
JOIN last_name AS l ON l.slot = pg_temp.rnd(a.g, 35 + a.k) % :last_slots
JOIN place_slot AS pl ON pl.slot = CASE WHEN a.k = 0 THEN pg_temp.rnd(a.g, 20) ELSE pg_temp.rnd(a.g, 37) END % :place_slots;

-- Two orders per customer on average; one in three is a web order (no
-- store, shipped to the billing address).
INSERT INTO orders (id, customer_id, store_id, shipping_address_id, status, ordered_at, total)
SELECT o, c,
	   CASE WHEN o % 3 = 0 THEN NULL ELSE 1 + pg_temp.rnd(o, 41) % :stores END,
	   CASE WHEN o % 3 = 0 THEN c END,
	   (ARRAY['delivered', 'delivered', 'delivered', 'delivered', 'delivered', 'delivered',
			  'shipped', 'shipped', 'paid', 'pending', 'cancelled', 'returned']::order_status[])[1 + pg_temp.rnd(o, 42) % 12],
	   TIMESTAMPTZ '2019-01-01 00:00:00+00' + (pg_temp.rnd(o, 43) % 246000000) * INTERVAL '1 second',
	   (500 + pg_temp.rnd(o, 44) % 200000) / 100.0
FROM (SELECT o, 1 + pg_temp.rnd(o, 40) % :customers AS c
	  FROM generate_series(1, :customers * 2) AS o) AS x;

-- Order o has 1 + o % 4 lines: 5 per customer on average.
INSERT INTO order_items (order_id, line_no, product_sku, quantity, unit_price)
SELECT o, line, p.sku, 1 + pg_temp.rnd(o * 4 + line, 45) % 5, p.price
FROM generate_series(1, :customers * 2) AS o,
	 generate_series(1, 1 + o % 4) AS line,
	 LATERAL (SELECT 1 + pg_temp.rnd(o * 4 + line, 46) % :products AS pid) AS pick
JOIN products AS p ON p.id = pick.pid;

INSERT INTO returns (order_id, line_no, reason, returned_at)
SELECT order_id, line_no,
	   (ARRAY['damaged in transit', 'wrong size', 'changed my mind', NULL])[1 + order_id % 4],
	   TIMESTAMPTZ '2019-02-01 00:00:00+00' + (pg_temp.rnd(order_id, 47) % 240000000) * INTERVAL '1 second'
FROM order_items
WHERE (order_id + line_no) % 40 = 0
ORDER BY order_id, line_no;

-- One payment per order that got past checkout; store orders by customers
-- without a card, and half of the others, paid cash.
INSERT INTO payments (order_id, card_id, amount, paid_at)
SELECT id,
	   CASE WHEN customer_id % 4 = 0 OR (store_id IS NOT NULL AND id % 2 = 0) THEN NULL
			ELSE customer_id END,
	   total,
	   least(ordered_at + (pg_temp.rnd(id, 48) % 7200) * INTERVAL '1 second',
			 TIMESTAMPTZ '2026-12-31 23:59:59+00')
FROM orders
WHERE status NOT IN ('pending', 'cancelled')
ORDER BY id;

INSERT INTO customer_events (customer_id, kind, ip, user_agent, occurred_at)
SELECT 1 + pg_temp.rnd(e, 50) % :customers,
	   (ARRAY['login', 'login', 'view', 'view', 'view', 'cart', 'logout'])[1 + pg_temp.rnd(e, 51) % 7],
	   '1.0.0.0'::inet + pg_temp.rnd(e, 52) % 3690987520,
	   (ARRAY['Mozilla/5.0 (Windows NT 10.0; Win64; x64)', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2)',
		  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)', 'Mozilla/5.0 (X11; Linux x86_64)'])[1 + pg_temp.rnd(e, 53) % 4],
	   TIMESTAMPTZ '2019-01-01 00:00:00+00' + (pg_temp.rnd(e, 54) % 246000000) * INTERVAL '1 second'
FROM generate_series(1, :customers) AS e;

COMMIT;
