-- ---------------------------------------------------------------------------
-- transforms.sql
--     Rows per second of every transform over 1,000,000 realistic values,
--     beside md5() over the same column in the same run (median of five
--     alternating runs), and injectivity of
--     the unique-preserving transforms at 1,000,000 values.  Run by
--     test/bench/transforms.sh.
-- ---------------------------------------------------------------------------
\set ON_ERROR_STOP on
SET max_parallel_workers_per_gather = 0;
SET jit = off;

CREATE TEMP TABLE v AS
SELECT g,
	   'user' || g || '.' || (ARRAY['smith', 'jones', 'garcia'])[1 + g % 3] || '@' ||
		   (ARRAY['gmail.com', 'acme.com', 'mail.example'])[1 + g % 3] AS email,
	   format('+1 (%s) %s-%s', 200 + g % 800, 200 + (g / 800) % 800, lpad((g % 9973)::text, 4, '0')) AS phone,
	   -- distinct issuable SSNs spread over every area 001-899 but 666
	   (SELECT format('%s-%s-%s', lpad((a + (a >= 666)::int)::text, 3, '0'),
					  lpad((1 + x / 9999 % 99)::text, 2, '0'), lpad((1 + x % 9999)::text, 4, '0'))
		FROM (SELECT x, 1 + x / 989901 AS a FROM (SELECT g::bigint * 104729 % 888931098 AS x) AS s) AS t) AS ssn,
	   -- SSNs sharing their first digit, distinct in the other eight
	   '1' || lpad((g % 100)::text, 2, '0') || '-' || lpad((1 + (g / 100) % 99)::text, 2, '0') || '-' ||
		   lpad((1 + g / 9900)::text, 4, '0') AS ssn_1xx,
	   '4' || lpad((g::bigint * 7919)::text, 14, '0') || '0' AS card,
	   'DE00' || lpad((g::bigint * 104729)::text, 18, '0') AS iban,
	   (ARRAY['Mary', 'James', 'Linda', 'Robert', 'Patricia'])[1 + g % 5] || ' ' ||
		   (ARRAY['Smith', 'Johnson', 'Williams', 'Brown'])[1 + g % 4] AS name,
	   (1 + g % 9999) || ' Main St, Springfield, IL 62704' AS address,
	   'Called ' || g || ' about the late delivery; reply to user' || g || '@gmail.com.' AS note,
	   jsonb_build_object('email', 'user' || g || '@gmail.com', 'phone', '617-555-' || lpad((g % 10000)::text, 4, '0'),
						  'city', 'Boston', 'vip', g % 2 = 0) AS profile,
	   ARRAY['user' || g || '@work.example', 'alt' || g || '@gmail.com'] AS emails,
	   g::integer AS i4,
	   g::bigint * 1000003 AS i8,
	   (g % 100000) / 100.0 AS num,
	   g / 7.0::float8 AS f8,
	   DATE '1940-01-01' + g % 30000 AS d,
	   TIMESTAMPTZ '2019-01-01 00:00+00' + g * INTERVAL '1 minute' AS ts,
	   '1.0.0.0'::inet + g * 977 AS ip,
	   -- version-4 layout, as gen_random_uuid() makes
	   overlay(overlay(md5(g::text) PLACING '4' FROM 13) PLACING '8' FROM 17)::uuid AS uid,
	   lpad((g::bigint * 31)::text, 12, '0') AS digits
FROM generate_series(1, 1000000) AS g;
ANALYZE v;

-- Seconds of SELECT count(<expr>) FROM v.
CREATE FUNCTION pg_temp.seconds(expr text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
	n bigint;
BEGIN
	EXECUTE format('SELECT count(%s) FROM v', expr) INTO n;
	RETURN extract(epoch FROM clock_timestamp() - t0)::float8;
END
$$;

-- md5 and the transform timed alternately five times: medians of rows/s
-- and of the per-pair ratio, so that a slow moment of the machine falls on
-- both sides.
CREATE FUNCTION pg_temp.compare(expr text, col text, OUT rate float8, OUT md5_rate float8, OUT ratio float8)
LANGUAGE plpgsql AS $$
DECLARE
	t float8[] := '{}';
	m float8[] := '{}';
	r float8[] := '{}';
BEGIN
	FOR i IN 1..5 LOOP
		m := m || pg_temp.seconds(format('md5(%I::text)', col));
		t := t || pg_temp.seconds(expr);
		r := r || m[i] / t[i];
	END LOOP;
	SELECT 1000000 / percentile_cont(0.5) WITHIN GROUP (ORDER BY x) INTO rate FROM unnest(t) AS x;
	SELECT 1000000 / percentile_cont(0.5) WITHIN GROUP (ORDER BY x) INTO md5_rate FROM unnest(m) AS x;
	SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) INTO ratio FROM unnest(r) AS x;
END
$$;

CREATE TEMP TABLE case_list (name text, col text, expr text, bar float8);
INSERT INTO case_list VALUES
	('hash', 'email', 'tdgen.hash(email)', 1.5),
	('pseudo_int (int8)', 'i8', 'tdgen.pseudo_int(i8)', 1.5),
	('uuid', 'uid', 'tdgen.uuid(uid)', 1.5),
	('partial', 'card', 'tdgen.partial(card)', 1.5),
	('scramble', 'phone', 'tdgen.scramble(phone)', 1.5),
	('lorem', 'note', 'tdgen.lorem(note)', 1.5),
	('first_name', 'name', 'tdgen.first_name(name)', 1.5),
	('last_name', 'name', 'tdgen.last_name(name)', 1.5),
	('full_name', 'name', 'tdgen.full_name(name)', 1.5),
	('username', 'name', 'tdgen.username(name)', 1.5),
	('email', 'email', 'tdgen.email(email)', 1.5),
	('phone', 'phone', 'tdgen.phone(phone)', 1.5),
	('street_address', 'address', 'tdgen.street_address(address)', 1.5),
	('city', 'address', 'tdgen.city(address)', 1.5),
	('state', 'address', 'tdgen.state(address)', 1.5),
	('zip', 'address', 'tdgen.zip(address)', 1.5),
	('address', 'address', 'tdgen.address(address)', 1.5),
	('ssn', 'ssn', 'tdgen.ssn(ssn)', 1.5),
	('ssn (unissued => false)', 'ssn', 'tdgen.ssn(ssn, false)', 1.5),
	('credit_card', 'card', 'tdgen.credit_card(card)', 1.5),
	('iban', 'iban', 'tdgen.iban(iban)', 1.5),
	('ip', 'ip', 'tdgen.ip(ip)', 1.5),
	('date_shift (date)', 'd', 'tdgen.date_shift(d)', 1.5),
	('date_shift (timestamptz)', 'ts', 'tdgen.date_shift(ts)', 1.5),
	('birth_date', 'd', 'tdgen.birth_date(d)', 1.5),
	('generalize (date)', 'd', 'tdgen.generalize(d)', 1.5),
	('generalize (numeric)', 'num', 'tdgen.generalize(num, 10)', 1.5),
	('noise (int4)', 'i4', 'tdgen.noise(i4)', 1.5),
	('noise (numeric)', 'num', 'tdgen.noise(num)', 1.5),
	('noise (float8)', 'f8', 'tdgen.noise(f8)', 1.5),
	('array_mask (2 emails)', 'emails', 'tdgen.array_mask(emails, ''email'')', 1.5),
	('fpe_encrypt', 'digits', 'tdgen.fpe_encrypt(digits)', 0.3),
	('fpe_decrypt', 'digits', 'tdgen.fpe_decrypt(digits)', 0.3),
	('jsonb_mask (2 paths)', 'profile', 'tdgen.jsonb_mask(profile, ''{"$.email": "email", "$.phone": "phone"}'')', 0.3);

CREATE TEMP TABLE result AS
SELECT name, round(c.rate) AS rows_per_s, round(c.md5_rate) AS md5_rows_per_s,
	   round(c.ratio::numeric, 2) AS ratio, bar, c.ratio >= bar AS meets_bar
FROM case_list, LATERAL pg_temp.compare(expr, col) AS c;

\pset footer off
SELECT name AS transform, rows_per_s, md5_rows_per_s, ratio, bar, meets_bar FROM result ORDER BY ratio DESC;
SELECT count(*) FILTER (WHERE meets_bar) || ' of ' || count(*) || ' transforms meet their bar' AS summary FROM result;

-- injectivity at 1,000,000 distinct inputs; ssn in its injective setting,
-- and in its default one (area 900-999) on SSNs sharing their first digit
-- and on SSNs spread over every area
SELECT count(DISTINCT email) AS inputs,
	   count(DISTINCT tdgen.email(email)) AS email,
	   count(DISTINCT tdgen.phone(phone)) AS phone,
	   count(DISTINCT tdgen.ssn(ssn, false)) AS ssn,
	   count(DISTINCT tdgen.ssn(ssn_1xx)) AS ssn_9xx_same_first,
	   count(DISTINCT tdgen.ssn(ssn)) AS ssn_9xx_any_first,
	   count(DISTINCT tdgen.credit_card(card)) AS credit_card,
	   count(DISTINCT tdgen.iban(iban)) AS iban,
	   count(DISTINCT tdgen.uuid(uid)) AS uuid,
	   count(DISTINCT tdgen.pseudo_int(i8)) AS pseudo_int,
	   count(DISTINCT tdgen.fpe_encrypt(digits)) AS fpe_encrypt
FROM v;
