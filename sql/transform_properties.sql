-- Properties of the keyed transforms under the test key: determinism and
-- consistency, scope and key separation, injectivity on 100,000 realistic
-- inputs, validity of what they produce, and very long values.
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS tdgen CASCADE;
RESET client_min_messages;

-- The g-th of a spread of distinct issuable SSNs (every area 001-899 but
-- 666, group and serial not zero).
CREATE FUNCTION pg_temp.issuable_ssn(g bigint) RETURNS text LANGUAGE sql AS $$
	SELECT format('%s-%s-%s', lpad((a + (a >= 666)::int)::text, 3, '0'),
				  lpad((1 + x / 9999 % 99)::text, 2, '0'), lpad((1 + x % 9999)::text, 4, '0'))
	FROM (SELECT x, 1 + x / 989901 AS a FROM (SELECT g * 104729 % 888931098 AS x) AS s) AS t
$$;

-- 100,000 distinct realistic values of each kind
CREATE TEMP TABLE sample AS
SELECT g,
	   'user' || g || '@' || (ARRAY['gmail.com', 'acme.com', 'mail.example'])[1 + g % 3] AS email,
	   format('+1 (%s) %s-%s', 200 + g % 800, 200 + (g / 800) % 800, lpad((g % 9973)::text, 4, '0')) AS phone,
	   -- SSNs with a first digit of 1: distinct in their last eight digits
	   '1' || lpad((g % 100)::text, 2, '0') || '-' || lpad((1 + (g / 100) % 99)::text, 2, '0') || '-' ||
		   lpad((1 + g / 9900)::text, 4, '0') AS ssn,
	   '4' || lpad((g * 7919)::text, 14, '0') || '0' AS card,
	   'DE' || '00' || lpad((g::bigint * 104729)::text, 18, '0') AS iban,
	   md5(g::text)::uuid AS uid,
	   lpad((g * 31)::text, 12, '0') AS digits,
	   pg_temp.issuable_ssn(g) AS any_ssn
FROM generate_series(1, 100000) AS g;
SELECT count(DISTINCT email) = 100000 AND count(DISTINCT phone) = 100000 AND count(DISTINCT ssn) = 100000
	   AND count(DISTINCT card) = 100000 AND count(DISTINCT iban) = 100000 AND count(DISTINCT uid) = 100000
	   AND count(DISTINCT any_ssn) = 100000 AND count(DISTINCT left(any_ssn, 1)) = 9
	   AS inputs_distinct
FROM sample;

-- injective: distinct in, distinct out
SELECT count(DISTINCT tdgen.email(email)) AS email,
	   count(DISTINCT tdgen.phone(phone)) AS phone,
	   count(DISTINCT tdgen.ssn(ssn)) AS ssn_same_first_digit,
	   count(DISTINCT tdgen.ssn(any_ssn, false)) AS ssn_issuable,
	   count(DISTINCT tdgen.credit_card(card)) AS credit_card,
	   count(DISTINCT tdgen.iban(iban)) AS iban,
	   count(DISTINCT tdgen.uuid(uid)) AS uuid,
	   count(DISTINCT tdgen.pseudo_int(g)) AS pseudo_int,
	   count(DISTINCT tdgen.pseudo_int((g % 32767)::smallint)) AS pseudo_int2_32767,
	   count(DISTINCT tdgen.fpe_encrypt(digits)) AS fpe
FROM sample;

-- valid, and in the input's format character class by character class
SELECT bool_and(tdgen.email(email) ~ '^[a-z]+\.[a-z]+\.[0-9a-z]+@example\.(com|net|org)$') AS emails_valid,
	   bool_and(regexp_replace(tdgen.phone(phone), '[0-9]', '9', 'g') = regexp_replace(phone, '[0-9]', '9', 'g')) AS phone_format,
	   bool_and(tdgen.ssn(ssn) ~ '^9[0-9]{2}-[0-9]{2}-[0-9]{4}$') AS ssn_area_9xx,
	   bool_and(tdgen.ssn(any_ssn) ~ '^9[0-9]{2}-[0-9]{2}-[0-9]{4}$') AS any_ssn_area_9xx,
	   bool_and(tdgen.ssn(any_ssn, false) ~ '^[0-8][0-9]{2}-[0-9]{2}-[0-9]{4}$'
				AND tdgen.ssn(any_ssn, false) !~ '^(000|666)|-00-|-0000$') AS ssn_issuable_stays_issuable
FROM sample;
-- not issuable in, not issuable out; still a bijection over all nine digits
SELECT count(DISTINCT m) AS ssn_unissuable_distinct,
	   bool_and(m ~ '^(000|666|9)' OR m ~ '-00-' OR m ~ '-0000$') AS ssn_unissuable_stays
FROM (SELECT tdgen.ssn(format('%s-%s-%s', a, lpad(grp::text, 2, '0'), '0000'), false) AS m
	  FROM unnest(ARRAY['000', '666', '901', '987']) AS a, generate_series(0, 99) AS grp) AS s;

CREATE FUNCTION pg_temp.luhn_ok(digits text) RETURNS boolean LANGUAGE sql AS $$
	SELECT sum(CASE WHEN (length(d) - i) % 2 = 1
					THEN (ARRAY[0, 2, 4, 6, 8, 1, 3, 5, 7, 9])[substr(d, i, 1)::int + 1]
					ELSE substr(d, i, 1)::int END) % 10 = 0
	FROM (SELECT regexp_replace(digits, '[^0-9]', '', 'g') AS d) AS x, generate_series(1, length(d)) AS i
$$;
-- IBAN mod 97: move the first four characters to the end, letters as 10..35
CREATE FUNCTION pg_temp.iban_ok(iban text) RETURNS boolean LANGUAGE sql AS $$
	SELECT (string_agg(CASE WHEN c ~ '[0-9]' THEN c ELSE (ascii(c) - 55)::text END, '' ORDER BY i))::numeric % 97 = 1
	FROM (SELECT upper(substr(r, 5) || substr(r, 1, 4)) AS s FROM (SELECT replace(iban, ' ', '') AS r) AS x) AS y,
		 LATERAL (SELECT substr(s, i, 1) AS c, i FROM generate_series(1, length(s)) AS i) AS z
$$;
SELECT bool_and(pg_temp.luhn_ok(tdgen.credit_card(card))) AS cards_pass_luhn,
	   bool_and(length(tdgen.credit_card(card)) = length(card)) AS cards_same_length,
	   bool_and(pg_temp.iban_ok(tdgen.iban(iban))) AS ibans_pass_mod97,
	   bool_and(left(tdgen.iban(iban), 2) = 'DE' AND length(tdgen.iban(iban)) = length(iban)) AS ibans_same_country
FROM (SELECT * FROM sample WHERE g <= 5000) AS s;
SELECT bool_and(substr(tdgen.uuid(uid)::text, 15, 1) = '4' AND substr(tdgen.uuid(uid)::text, 20, 1) IN ('8', '9', 'a', 'b'))
	   AS uuids_version_4
FROM sample;

-- fake phones stay valid: a country calling code is kept, and a North
-- American number valid under the NANP (area code and exchange from 2 to
-- 9, no N11) stays valid, distinct inputs distinct
SELECT count(*) FILTER (WHERE NOT (substr(p, 4, 3) ~ '^[2-9]' AND substr(p, 4, 3) !~ '^.11$'
								   AND substr(p, 8, 3) ~ '^[2-9]' AND substr(p, 8, 3) !~ '^.11$')) AS invalid_nanp,
	   count(DISTINCT p) = count(*) AS distinct_nanp
FROM (SELECT tdgen.phone(format('+1 %s %s %s', a, x, lpad((g % 9973)::text, 4, '0'))) AS p
	  FROM (SELECT g, 200 + g % 800 AS a, 200 + (g / 800) % 800 AS x FROM generate_series(1, 50000) AS g) AS n
	  WHERE a % 100 <> 11 AND x % 100 <> 11) AS fake;
SELECT bool_and(left(tdgen.phone(v), strpos(v, ' ')) = left(v, strpos(v, ' '))) AS country_code_kept
FROM unnest(ARRAY['+44 20 7946 0958', '+49 30 1234567', '+353 1 234 5678', '+1 617 555 0134', '+7 495 123 4567']) AS v;

-- fakes pass the validators applications use, written here on their own:
-- mobile numbers as libphonenumber's metadata describes them per country
-- (the national number after the country code, or after the trunk 0)
CREATE TEMP TABLE mobile_plan (country text, code text, pattern text, prefix text, digits int);
INSERT INTO mobile_plan VALUES
	('AU', '61', '^4[0-9]{8}$', '412', 9),
	('BR', '55', '^[1-9]{2}9[0-9]{8}$', '119', 11),
	('DE', '49', '^1(?:5[0-25-9][0-9]{8}|(?:6[023]|7[0-9])[0-9]{7,8})$', '151', 11),
	('ES', '34', '^(?:6[0-9]{2}|7[1-4][0-9])[0-9]{6}$', '612', 9),
	('FR', '33', '^(?:6[0-9]|7[3-9])[0-9]{7}$', '612', 9),
	('GB', '44', '^7(?:[1-57-9][0-9]{8}|624[0-9]{6})$', '740', 10),
	('IN', '91', '^[6-9][0-9]{9}$', '987', 10),
	('IT', '39', '^3[1-9][0-9]{8}$', '312', 10);
SELECT m.country,
	   count(*) FILTER (WHERE n ~ m.pattern) AS valid_inputs,
	   count(*) FILTER (WHERE regexp_replace(substr(f, length(m.code) + 2), '[^0-9]', '', 'g') ~ m.pattern) AS valid_fakes,
	   count(*) FILTER (WHERE substr(t, 2) ~ m.pattern) AS valid_trunk_fakes,
	   count(DISTINCT f) AS distinct_fakes,
	   count(*) FILTER (WHERE f = '+' || m.code || ' ' || n) AS unchanged
FROM mobile_plan AS m,
	 LATERAL (SELECT m.prefix || lpad((g * 7919 % (10 ^ (m.digits - 3))::bigint)::text, m.digits - 3, '0') AS n
			  FROM generate_series(1, 2000) AS g) AS x,
	 LATERAL (SELECT tdgen.phone('+' || m.code || ' ' || x.n) AS f,
					 regexp_replace(tdgen.phone('0' || x.n), '[^0-9]', '', 'g') AS t) AS y
GROUP BY m.country ORDER BY m.country;

-- emails as the HTML living standard's valid e-mail address, at most 64
-- characters before the @ and 254 in all
SELECT count(*) FILTER (WHERE f ~ '^[a-zA-Z0-9.!#$%&''*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$'
						   AND length(split_part(f, '@', 1)) <= 64 AND length(f) <= 254
						   AND f !~ '^\.|\.\.|\.@') AS valid_emails,
	   count(*) AS emails
FROM (SELECT tdgen.email(v) AS f
	  FROM unnest(ARRAY['mary.smith42@example.com', 'O''Brien@mail.ie', 'a+tag@sub.domain.org', 'x@y.z',
						 'JOSE.GARCIA@EMPRESA.ES', 'very.long.local.part.of.an.address.that.goes.on@example.net']) AS v) AS e;

-- cards keep their network's prefix (its first four digits) and pass Luhn
SELECT count(*) FILTER (WHERE pg_temp.luhn_ok(f) AND left(f, 4) = left(v, 4) AND length(f) = length(v)) AS valid_cards,
	   count(*) AS cards
FROM (SELECT v, tdgen.credit_card(v) AS f
	  FROM unnest(ARRAY['4111 1111 1111 1111', '5555-5555-5555-4444', '378282246310005', '6011111111111117',
						 '3530111333300000', '2223003122003222', '4000056655665556', '36227206271667']) AS v) AS c;

-- IBANs of several countries keep country, length and bank layout, and pass mod 97
CREATE FUNCTION pg_temp.make_iban(country text, bban text) RETURNS text LANGUAGE sql AS $$
	SELECT country || lpad((98 - (string_agg(CASE WHEN c ~ '[0-9]' THEN c ELSE (ascii(c) - 55)::text END, '' ORDER BY i))::numeric % 97)::text, 2, '0') || bban
	FROM (SELECT upper(bban || country || '00') AS s) AS y,
		 LATERAL (SELECT substr(y.s, i, 1) AS c, i FROM generate_series(1, length(y.s)) AS i) AS z
$$;
SELECT left(v, 2) AS country, length(v) AS length, pg_temp.iban_ok(v) AS input_valid,
	   pg_temp.iban_ok(f) AS fake_valid, left(f, 2) = left(v, 2) AND length(f) = length(v)
	   AND translate(f, '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', '9999999999AAAAAAAAAAAAAAAAAAAAAAAAAA')
		   = translate(v, '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', '9999999999AAAAAAAAAAAAAAAAAAAAAAAAAA') AS layout_kept
FROM (SELECT v, tdgen.iban(v) AS f
	  FROM unnest(ARRAY[pg_temp.make_iban('DE', '370400440532013000'), pg_temp.make_iban('GB', 'NWBK60161331926819'),
						 pg_temp.make_iban('FR', '20041010050500013M02606'), pg_temp.make_iban('NL', 'ABNA0417164300'),
						 pg_temp.make_iban('ES', '21000418450200051332'), pg_temp.make_iban('IT', 'X0542811101000000123456')]) AS v) AS i
ORDER BY 1;

-- an output equals its input no more often than chance
SELECT count(*) FILTER (WHERE tdgen.phone(phone) = phone) AS phone_same,
	   count(*) FILTER (WHERE tdgen.credit_card(card) = card) AS card_same,
	   count(*) FILTER (WHERE tdgen.pseudo_int(g) = g) AS int_same,
	   count(*) FILTER (WHERE tdgen.date_shift(DATE '2020-01-01' + g % 1000) = DATE '2020-01-01' + g % 1000) AS date_same,
	   count(*) FILTER (WHERE tdgen.birth_date(DATE '1950-01-01' + g) = DATE '1950-01-01' + g) < 100000 / 365 * 1.3
		   AS birth_date_near_chance
FROM sample;

-- deterministic and consistent: equal inputs in two tables map alike
CREATE TEMP TABLE a AS SELECT email FROM sample WHERE g % 2 = 0;
CREATE TEMP TABLE b AS SELECT email FROM sample WHERE g % 3 = 0;
SELECT count(*) AS joined_after_masking
FROM (SELECT tdgen.email(email) AS m FROM a) AS x
JOIN (SELECT tdgen.email(email) AS m FROM b) AS y USING (m);
SELECT count(*) AS joined_before_masking FROM a JOIN b USING (email);

-- scopes and key versions separate
SELECT tdgen.hash('x') <> tdgen.hash('x', scope => 'other') AS scope_differs,
	   tdgen.email('x@y.z') <> tdgen.email('x@y.z', scope => 'other') AS email_scope_differs;
SELECT tdgen.hash('alice@example.com') AS newest_key FROM (SELECT) AS x;
SET tdgen.key_version = 1;
SELECT tdgen.hash('alice@example.com') AS key_version_1, version FROM tdgen_key_status();
SET tdgen.key_version = 3;
SELECT tdgen.hash('x');
\echo :LAST_ERROR_SQLSTATE
RESET tdgen.key_version;
SELECT version, versions FROM tdgen_key_status();

-- date shifts: one offset per entity
SELECT count(DISTINCT tdgen.date_shift(d, 10, 'patient 7') - d) AS offsets_for_one_entity,
	   count(DISTINCT tdgen.date_shift(d, 10) - d) AS offsets_without_entity
FROM (SELECT DATE '2020-01-01' + i AS d FROM generate_series(0, 365) AS i) AS days;

-- noise stays within its bounds and keeps the sign
SELECT bool_and(tdgen.noise(v, 10) BETWEEN v * 0.9 AND v * 1.1) AS within_10_percent,
	   bool_and(sign(tdgen.noise(-v::numeric, 500)) <= 0) AS sign_kept
FROM generate_series(1000, 2000) AS v;

-- very long values
SELECT length(tdgen.hash(repeat('a', 1048576))) AS hash_1mb,
	   length(tdgen.scramble(repeat('ab1-', 262144))) AS scramble_1mb,
	   length(tdgen.partial(repeat('é', 1048576), 2, 2)) AS partial_1m_chars,
	   length(tdgen.lorem(repeat('word ', 209715))) BETWEEN 1048570 AND 1048600 AS lorem_1mb,
	   length(tdgen.phone(repeat('5', 1048576))) AS phone_1m_digits,
	   tdgen.email(repeat('x', 1048576) || '@example.com') ~ '@example\.(com|net|org)$' AS email_1mb;
SELECT tdgen.ssn(repeat('1', 1048576));
\echo :LAST_ERROR_SQLSTATE

-- birth parts agree with the birth date of their row: from the date
-- column (read through jsonb, as a refresh reads it: ISO whatever the
-- DateStyle), or from the parts when there is none; a part alone stays a
-- valid part; anything else keeps nothing
SELECT count(*) FILTER (WHERE tdgen.birth_date(d)
						= make_date(tdgen.birth_part(y, 'year', born => to_jsonb(d) #>> '{}')::int,
									tdgen.birth_part(m, 'month', born => to_jsonb(d) #>> '{}')::int,
									tdgen.birth_part(dd, 'day', born => to_jsonb(d) #>> '{}')::int)) AS agree_with_date,
	   count(*) FILTER (WHERE tdgen.birth_date(d)
						= make_date(tdgen.birth_part(y, 'year', year => y, month => m, day => dd)::int,
									tdgen.birth_part(m, 'month', year => y, month => m, day => dd)::int,
									tdgen.birth_part(dd, 'day', year => y, month => m, day => dd)::int)) AS agree_by_parts,
	   count(*) FILTER (WHERE tdgen.birth_date(d::timestamp + time '10:30')
						= (tdgen.birth_date(d) + time '10:30')) AS timestamps_keep_time,
	   count(*) AS born
FROM (SELECT d, extract(year FROM d)::text AS y, extract(month FROM d)::text AS m, extract(day FROM d)::text AS dd
	  FROM generate_series(DATE '1930-01-01', DATE '2010-12-31', interval '97 days') AS g(d)) AS x;
SELECT bool_and(tdgen.birth_part(v::text, 'month')::int BETWEEN 1 AND 12) AS months_alone_valid,
	   bool_and(tdgen.birth_part(v::text, 'day')::int BETWEEN 1 AND 28) AS days_alone_valid,
	   bool_and(tdgen.birth_part('19' || lpad(v::text, 2, '0'), 'year') = '19' || lpad(v::text, 2, '0')) AS years_alone_kept,
	   count(DISTINCT tdgen.birth_part(v::text, 'month')) > 1 AS months_change
FROM generate_series(1, 12) AS v;
SELECT tdgen.birth_part('05', 'month', born => '1980-02-30') ~ '^[0-9]{2}$' AS bad_date_read_as_none,
	   tdgen.birth_part('unknown', 'year') <> 'unknown' AS not_a_part_scrambled;
SELECT tdgen.birth_part('5', 'week');
\echo :LAST_ERROR_SQLSTATE
