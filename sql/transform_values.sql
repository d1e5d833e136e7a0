-- Every transform on fixed inputs under the test key: outputs, formats,
-- NULL handling, empty and multibyte strings, and errors on bad input.
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS tdgen CASCADE;
RESET client_min_messages;

-- pseudonyms
SELECT tdgen.hash('alice@example.com') AS h16, tdgen.hash('alice@example.com', 40) AS h40,
	   tdgen.hash('alice@example.com', 8, 'crm') AS scoped, tdgen.hash('') AS empty;
SELECT tdgen.pseudo_int(1::smallint) AS i2, tdgen.pseudo_int(1) AS i4, tdgen.pseudo_int(1::bigint) AS i8,
	   tdgen.pseudo_int(-1) AS negative, tdgen.pseudo_int(0) AS zero,
	   tdgen.pseudo_int(2147483647) AS max4, tdgen.pseudo_int(-9223372036854775808) AS min8;
SELECT tdgen.uuid('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') AS v4,
	   tdgen.uuid('00000000-0000-0000-0000-000000000000') AS nil;

-- character masks
SELECT tdgen.partial('4111 1111 1111 1234') AS card, tdgen.partial('Zoë Ünïcödé', 1, 1, '•') AS unicode,
	   tdgen.partial('abc') AS too_short, tdgen.partial('') AS empty;
SELECT tdgen.scramble('Call 555-123-4567 ASAP, ok? Zoë') AS scrambled, tdgen.scramble('') AS empty;

-- fake values
SELECT tdgen.first_name('Alice') AS first, tdgen.first_name('ALICE') AS upper, tdgen.last_name('smith') AS lower,
	   tdgen.full_name('Alice Smith') AS full, tdgen.username('asmith') AS login;
SELECT tdgen.email('alice.smith@acme.com') AS email, tdgen.email('alice.smith@acme.com', true) AS kept_domain,
	   tdgen.email('no at sign', true) AS no_domain;
SELECT tdgen.street_address('1 Main St') AS street, tdgen.city('Boston') AS city,
	   tdgen.state('MA') AS code, tdgen.state('Massachusetts') AS name,
	   tdgen.zip('02134') AS zip, tdgen.zip('02134-1234') AS zip4;
-- one entity, one place across columns
SELECT tdgen.city('Boston', 'customer 42') AS city, tdgen.state('MA', 'customer 42') AS state,
	   tdgen.zip('02134', 'customer 42') AS zip, tdgen.address('anything', 'customer 42') AS address;
SELECT tdgen.lorem('Called Mary Smith about the late delivery; reply to mary@x.com.') AS lorem,
	   tdgen.lorem('') AS empty, tdgen.lorem('Çà et là, Zoë.') AS multibyte;

-- identifiers
SELECT tdgen.phone('+1 (617) 555-0134') AS phone, tdgen.phone('+1 (617) 555-0134', 4) AS kept,
	   tdgen.phone('n/a') AS no_digits, tdgen.phone('') AS empty;
SELECT tdgen.ssn('123-45-6789') AS dashed, tdgen.ssn('123456789') AS plain,
	   tdgen.ssn('123-45-6789', unissued => false) AS issuable;
SELECT tdgen.credit_card('4111 1111 1111 1111') AS card, tdgen.credit_card('4111-1111-1111-1111', true) AS bin_kept,
	   tdgen.credit_card('378282246310005') AS amex;
SELECT tdgen.iban('GB82 WEST 1234 5698 7654 32') AS gb, tdgen.iban('DE89370400440532013000') AS de,
	   tdgen.iban('fr1420041010050500013m02606') AS lower_case;
SELECT tdgen.ip('192.168.1.10') AS v4, tdgen.ip('192.168.1.10/24', 16) AS prefix_kept,
	   tdgen.ip('2001:db8::1') AS v6, tdgen.ip('2001:db8::1', 32) AS v6_prefix;

-- dates and numbers
SELECT tdgen.date_shift(date '2024-02-29') AS d, tdgen.date_shift(date '2024-02-29', 5, 'patient 1') AS d_entity,
	   tdgen.date_shift(timestamp '2024-03-10 12:00', 5, 'patient 1') AS ts_entity,
	   tdgen.date_shift('infinity'::date) AS inf;
SELECT tdgen.birth_date(date '1980-06-15') AS same_year, tdgen.birth_date(date '1980-06-15', 5) AS band;
SELECT tdgen.noise(100) AS i4, tdgen.noise(100::bigint, 50) AS i8, tdgen.noise(1234.56::numeric) AS num,
	   tdgen.noise(-3.5::float8, 200) AS floor_zero, tdgen.noise(2147483647, 50) AS clamped,
	   tdgen.noise('NaN'::numeric) AS nan;
SELECT tdgen.generalize(date '2024-05-17') AS month, tdgen.generalize(timestamptz '2024-05-17 13:45+00', 'year') AS year,
	   tdgen.generalize(47.5, 10) AS bucket, tdgen.generalize(-47.5, 10) AS negative;

-- containers
SELECT tdgen.jsonb_mask('{"name": {"first": "Mary", "last": "Smith"}, "contact": {"email": "mary@x.com", "phone": "617-555-0134"},
						  "cards": [{"number": "4111 1111 1111 1111"}, {"number": "5500 0000 0000 0004"}],
						  "age": 42, "vip": true, "ssn": 123456789, "odd key": "secret"}',
						'{"$.name.first": "first_name", "$.name.last": "last_name", "$.contact.email": "email",
						  "$.contact.phone": {"transform": "phone", "keep_leading": 3},
						  "$.cards[*].number": {"transform": "credit_card", "keep_bin": true},
						  "$.ssn": "hash", "$.\"odd key\"": "scramble"}') AS masked;
SELECT tdgen.jsonb_mask('{"a": {"b": ["x", {"c": "y"}]}}', '{"$.a": "hash"}') AS subtree,
	   tdgen.jsonb_mask('"top secret"', '{"$": "lorem"}') AS scalar,
	   tdgen.jsonb_mask('[]', '{"$[*]": "hash"}') AS empty;
SELECT tdgen.array_mask(ARRAY['a@x.com', NULL, 'b@y.org'], 'email') AS emails,
	   tdgen.array_mask(ARRAY['hello world'], 'partial', '{"keep_last": 2}') AS partial,
	   tdgen.array_mask('{}'::text[], 'hash') AS empty;

-- NULL in, NULL out
SELECT tdgen.hash(NULL) IS NULL AND tdgen.email(NULL) IS NULL AND tdgen.phone(NULL) IS NULL
	   AND tdgen.ip(NULL) IS NULL AND tdgen.date_shift(NULL::date) IS NULL
	   AND tdgen.jsonb_mask(NULL, '{}') IS NULL AND tdgen.partial(NULL) IS NULL AS all_null;

-- bad input: SQLSTATE 22023, and no message quotes the value
SELECT tdgen.ssn('12-345-6789');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.credit_card('4111 1111');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.credit_card('4111/1111/1111/1111');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.iban('GB82-WEST');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.hash('x', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.partial('x', -1);
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.partial('x', 0, 0, '**');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.phone('617', -2);
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.ip('10.0.0.1', 33);
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.date_shift(date '2024-01-01', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.birth_date(date '2024-01-01', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.noise(1, -5);
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.generalize(10.0, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.generalize(date '2024-01-01', 'fortnight');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.jsonb_mask('{}', '{"contact.email": "email"}');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.jsonb_mask('{}', '{"$.a[x]": "email"}');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.jsonb_mask('{}', '{"$.a": "no_such_transform"}');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.jsonb_mask('{}', '{"$.a": "pseudo_int"}');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.jsonb_mask('{}', '{"$.a": {"transform": "partial", "keep_lst": 1}}');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.jsonb_mask('{}', '{"$.a": {"transform": "partial", "keep_last": "two"}}');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.jsonb_mask('{}', '["$.a"]');
\echo :LAST_ERROR_SQLSTATE
SELECT tdgen.array_mask(ARRAY['x'], 'partial', '[1]');
\echo :LAST_ERROR_SQLSTATE
