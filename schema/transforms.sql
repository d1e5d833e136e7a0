-- ===========================================================================
-- schema/transforms.sql
--     The masking transforms (C), their registry view, who may run them.
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- C functions
-- ---------------------------------------------------------------------------

CREATE FUNCTION tdgen_version()
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_version'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen_key_status(OUT version integer, OUT versions integer[], OUT fingerprint text)
AS 'MODULE_PATHNAME', 'tdgen_key_status'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- Transforms.  Keyed ones are STABLE, not IMMUTABLE: their result depends
-- on the key settings.  The scope argument separates consistency domains:
-- equal inputs map to equal outputs only within one scope.

CREATE FUNCTION tdgen.hash(value text, length integer DEFAULT 16, scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_hash'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.pseudo_int(value smallint, scope text DEFAULT '')
RETURNS smallint
AS 'MODULE_PATHNAME', 'tdgen_pseudo_int2'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.pseudo_int(value integer, scope text DEFAULT '')
RETURNS integer
AS 'MODULE_PATHNAME', 'tdgen_pseudo_int4'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.pseudo_int(value bigint, scope text DEFAULT '')
RETURNS bigint
AS 'MODULE_PATHNAME', 'tdgen_pseudo_int8'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.uuid(value uuid, scope text DEFAULT '')
RETURNS uuid
AS 'MODULE_PATHNAME', 'tdgen_uuid'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.partial(value text, keep_first integer DEFAULT 0,
							  keep_last integer DEFAULT 4, mask text DEFAULT '*')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_partial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.scramble(value text, scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_scramble'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.first_name(value text, scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_first_name'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.last_name(value text, scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_last_name'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.full_name(value text, scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_full_name'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.username(value text, scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_username'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.email(value text, keep_domain boolean DEFAULT false, scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_email'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.street_address(value text, entity text DEFAULT '', scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_street_address'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.city(value text, entity text DEFAULT '', scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_city'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.state(value text, entity text DEFAULT '', scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_state'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.zip(value text, entity text DEFAULT '', scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_zip'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.address(value text, entity text DEFAULT '', scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_address'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.lorem(value text, scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_lorem'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.phone(value text, keep_leading integer DEFAULT 0, scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_phone'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.ssn(value text, unissued boolean DEFAULT true, scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_ssn'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.credit_card(value text, keep_bin boolean DEFAULT false, scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_credit_card'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.iban(value text, scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_iban'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.ip(value inet, keep_prefix integer DEFAULT 0, scope text DEFAULT '')
RETURNS inet
AS 'MODULE_PATHNAME', 'tdgen_ip'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.fpe_encrypt(value text, alphabet text DEFAULT '0123456789',
								  tweak text DEFAULT '', scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_fpe_encrypt'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.fpe_decrypt(value text, alphabet text DEFAULT '0123456789',
								  tweak text DEFAULT '', scope text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_fpe_decrypt'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.ff1_raw(aes_key bytea, tweak bytea, alphabet text, value text,
							  decrypt boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_ff1_raw'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.date_shift(value date, max_days integer DEFAULT 30,
								 entity text DEFAULT '', scope text DEFAULT '')
RETURNS date
AS 'MODULE_PATHNAME', 'tdgen_date_shift_date'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.date_shift(value timestamp, max_days integer DEFAULT 30,
								 entity text DEFAULT '', scope text DEFAULT '')
RETURNS timestamp
AS 'MODULE_PATHNAME', 'tdgen_date_shift_timestamp'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.date_shift(value timestamptz, max_days integer DEFAULT 30,
								 entity text DEFAULT '', scope text DEFAULT '')
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'tdgen_date_shift_timestamptz'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.birth_date(value date, year_band integer DEFAULT 1, scope text DEFAULT '')
RETURNS date
AS 'MODULE_PATHNAME', 'tdgen_birth_date'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- A birth timestamp: its day as the date's, its time of day kept (in the
-- session's time zone, as tdgen.birth_part reads a birth column).
CREATE FUNCTION tdgen.birth_date(value timestamp, year_band integer DEFAULT 1, scope text DEFAULT '')
RETURNS timestamp
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN tdgen.birth_date(value::date, year_band, scope) + value::time;

CREATE FUNCTION tdgen.birth_date(value timestamptz, year_band integer DEFAULT 1, scope text DEFAULT '')
RETURNS timestamptz
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN (tdgen.birth_date(value::date, year_band, scope) + value::time)::timestamptz;

-- The date a text (a date or timestamp column read as text, ISO style)
-- starts with, or NULL: never an error, which would quote the value.
CREATE FUNCTION tdgen.leading_date(stamp text)
RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT make_date(m[1]::int, m[2]::int, m[3]::int)
		FROM regexp_match(stamp, '^\s*([0-9]{4})-([0-9]{2})-([0-9]{2})') AS m
		WHERE m[1]::int >= 1 AND m[2]::int BETWEEN 1 AND 12 AND m[3]::int >= 1
		  AND m[3]::int <= extract(day FROM make_date(m[1]::int, m[2]::int, 1) + interval '1 month - 1 day'));

-- birth_part: the year, month or day of a date of birth stored apart,
-- masked as tdgen.birth_date masks the whole date, so that the parts and
-- the date of one row still agree.  The date is taken from the row: the
-- column born (a date or timestamp), else the columns year, month and
-- day; the part is then the part of that date masked.  A row without a
-- whole date masks the part alone: the year as birth_date masks years, a
-- month or a day as a keyed other one.  A column not given, or NULL in the
-- row, is passed as ''.
CREATE FUNCTION tdgen.birth_part(value text, part text, born text DEFAULT '', year text DEFAULT '',
								 month text DEFAULT '', day text DEFAULT '', year_band integer DEFAULT 1,
								 scope text DEFAULT '')
RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	d date := tdgen.leading_date(born);
	v integer;
	result integer;
BEGIN
	IF part NOT IN ('year', 'month', 'day') THEN
		RAISE EXCEPTION 'part must be "year", "month" or "day"' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF d IS NULL AND year ~ '^\s*[0-9]{1,4}\s*$' AND month ~ '^\s*[0-9]{1,2}\s*$' AND day ~ '^\s*[0-9]{1,2}\s*$' THEN
		d := tdgen.leading_date(format('%s-%s-%s', lpad(trim(year), 4, '0'), lpad(trim(month), 2, '0'),
									   lpad(trim(day), 2, '0')));
	END IF;
	IF d IS NOT NULL THEN
		result := date_part(part, tdgen.birth_date(d, year_band, scope));
	ELSIF value ~ '^\s*[0-9]{1,4}\s*$' THEN
		v := trim(value)::integer;
		result := CASE WHEN part = 'year' AND v >= 1
					   THEN extract(year FROM tdgen.birth_date(make_date(v, 1, 1), year_band, scope))
					   WHEN part = 'month' AND v BETWEEN 1 AND 12
					   THEN extract(month FROM tdgen.birth_date(make_date(2000, v, 1), 1, scope))
					   WHEN part = 'day' AND v BETWEEN 1 AND 31
					   THEN 1 + extract(doy FROM tdgen.birth_date(make_date(2000, 1, v), 1, scope))::integer % 28 END;
	END IF;
	IF result IS NULL THEN
		-- not a part of a date: nothing of it is kept
		RETURN tdgen.scramble(value, scope);
	END IF;
	RETURN CASE WHEN value ~ '^0' THEN lpad(result::text, length(value), '0') ELSE result::text END;
END
$$;

CREATE FUNCTION tdgen.noise(value integer, pct double precision DEFAULT 10,
							allow_sign_change boolean DEFAULT false, scope text DEFAULT '')
RETURNS integer
AS 'MODULE_PATHNAME', 'tdgen_noise_int4'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.noise(value bigint, pct double precision DEFAULT 10,
							allow_sign_change boolean DEFAULT false, scope text DEFAULT '')
RETURNS bigint
AS 'MODULE_PATHNAME', 'tdgen_noise_int8'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.noise(value double precision, pct double precision DEFAULT 10,
							allow_sign_change boolean DEFAULT false, scope text DEFAULT '')
RETURNS double precision
AS 'MODULE_PATHNAME', 'tdgen_noise_float8'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.noise(value numeric, pct double precision DEFAULT 10,
							allow_sign_change boolean DEFAULT false, scope text DEFAULT '')
RETURNS numeric
AS 'MODULE_PATHNAME', 'tdgen_noise_numeric'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.jsonb_mask(value jsonb, spec jsonb, scope text DEFAULT '')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'tdgen_jsonb_mask'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.array_mask(value text[], transform text, params jsonb DEFAULT '{}',
								 scope text DEFAULT '')
RETURNS text[]
AS 'MODULE_PATHNAME', 'tdgen_array_mask'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.transform_registry(OUT name text, OUT input_types text[], OUT parameters jsonb,
										 OUT keyed boolean, OUT injective boolean, OUT injective_with jsonb,
										 OUT reversible boolean, OUT format_preserving boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tdgen_transform_registry'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION tdgen.generalize(value numeric, bucket numeric)
RETURNS numeric
AS 'MODULE_PATHNAME', 'tdgen_generalize_numeric'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Truncation of dates and times is date_trunc's: these inline into the
-- query.  An unknown unit is date_trunc's error (22023).
CREATE FUNCTION tdgen.generalize(value date, unit text DEFAULT 'month')
RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pg_catalog.date_trunc(unit, value::timestamp)::date;

CREATE FUNCTION tdgen.generalize(value timestamptz, unit text DEFAULT 'month')
RETURNS timestamptz
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN pg_catalog.date_trunc(unit, value);

-- Drops the value: for columns nothing should carry over (photos, card
-- security codes).  Any type.
CREATE FUNCTION tdgen.nullify(value anyelement)
RETURNS anyelement
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS 'SELECT NULL';

CREATE FUNCTION tdgen.in_transaction_block()
RETURNS boolean
AS 'MODULE_PATHNAME', 'tdgen_in_transaction_block'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- ---------------------------------------------------------------------------
-- Views
-- ---------------------------------------------------------------------------

CREATE VIEW tdgen.transform AS
	SELECT name, input_types, parameters, keyed, injective, injective_with, reversible, format_preserving
	FROM tdgen.transform_registry();

-- ---------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------

-- Every function with a "scope" argument is keyed: none for PUBLIC, all for
-- tdgen_admin.
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN
		SELECT p.oid::regprocedure
		FROM pg_catalog.pg_proc AS p
		WHERE p.pronamespace = 'tdgen'::regnamespace AND 'scope' = ANY (p.proargnames)
	LOOP
		EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
		EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO tdgen_admin', f);
	END LOOP;
END
$$;

-- Decryption turns every pseudonym back into its original: superusers only,
-- unless one grants it deliberately.
REVOKE EXECUTE ON FUNCTION tdgen.fpe_decrypt(text, text, text, text) FROM tdgen_admin;

REVOKE EXECUTE ON FUNCTION tdgen_key_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tdgen_key_status() TO tdgen_admin;

-- ---------------------------------------------------------------------------
-- Comments
-- ---------------------------------------------------------------------------

COMMENT ON SCHEMA tdgen IS
	'tdgen catalog (sources, environments, rules, runs, alerts) and internal helpers';
COMMENT ON FUNCTION tdgen_version() IS
	'version of the loaded tdgen library; equals the extension version when SQL objects and library match';
COMMENT ON FUNCTION tdgen_key_status() IS
	'masking key in use: its version, the versions in the key file, and a fingerprint that identifies it without revealing it';
COMMENT ON FUNCTION tdgen.hash(text, integer, text) IS
	'keyed pseudonym: the first LENGTH hex digits of keyed BLAKE2b over the value';
COMMENT ON FUNCTION tdgen.pseudo_int(smallint, text) IS
	'keyed bijection on smallint that keeps the sign; unique in, unique out';
COMMENT ON FUNCTION tdgen.pseudo_int(integer, text) IS
	'keyed bijection on integer that keeps the sign; unique in, unique out';
COMMENT ON FUNCTION tdgen.pseudo_int(bigint, text) IS
	'keyed bijection on bigint that keeps the sign; unique in, unique out';
COMMENT ON FUNCTION tdgen.uuid(uuid, text) IS
	'keyed version-4 uuid; distinct version-4 inputs give distinct outputs';
COMMENT ON FUNCTION tdgen.partial(text, integer, integer, text) IS
	'keeps the first and last characters and masks the rest; not keyed';
COMMENT ON FUNCTION tdgen.scramble(text, text) IS
	'keyed: same length, digits stay digits, letters stay letters of the same case, the rest kept';
COMMENT ON FUNCTION tdgen.first_name(text, text) IS
	'keyed: a first name drawn by census frequency; case follows the input';
COMMENT ON FUNCTION tdgen.last_name(text, text) IS
	'keyed: a surname drawn by census frequency; case follows the input';
COMMENT ON FUNCTION tdgen.full_name(text, text) IS
	'keyed: "First Last" drawn by census frequency; case follows the input';
COMMENT ON FUNCTION tdgen.username(text, text) IS
	'keyed: a login made from a fake name (jsmith, john.smith, johnsmith42, smithj); not injective';
COMMENT ON FUNCTION tdgen.email(text, boolean, text) IS
	'keyed: first.last.SUFFIX@example.com/.net/.org (or the original domain); unique-preserving';
COMMENT ON FUNCTION tdgen.street_address(text, text, text) IS
	'keyed: "1234 Maple Ave"; the same value or entity gives the same place in every address transform';
COMMENT ON FUNCTION tdgen.city(text, text, text) IS
	'keyed: a census place name, consistent with state/zip/address of the same value or entity';
COMMENT ON FUNCTION tdgen.state(text, text, text) IS
	'keyed: the state of the same fake place; a USPS code for two-letter input, else the full name';
COMMENT ON FUNCTION tdgen.zip(text, text, text) IS
	'keyed: a five-digit ZIP code (ZIP+4 for ZIP+4 input) of the same fake place';
COMMENT ON FUNCTION tdgen.address(text, text, text) IS
	'keyed: a one-line postal address "1234 Maple Ave, City, ST 01234"';
COMMENT ON FUNCTION tdgen.lorem(text, text) IS
	'keyed: placeholder sentences of about the same length; nothing of the text survives';
COMMENT ON FUNCTION tdgen.phone(text, integer, text) IS
	'keyed, format-preserving, unique-preserving: digits permuted, layout and leading + kept';
COMMENT ON FUNCTION tdgen.ssn(text, boolean, text) IS
	'keyed, format-preserving: AAA-GG-SSSS with area 900-999 (never issued), unique among inputs sharing their first digit; with unissued => false a bijection onto issuable SSNs, unique-preserving';
COMMENT ON FUNCTION tdgen.credit_card(text, boolean, text) IS
	'keyed, format-preserving, unique-preserving, Luhn-valid; optionally keeps the six-digit BIN';
COMMENT ON FUNCTION tdgen.iban(text, text) IS
	'keyed, format-preserving, unique-preserving: same country and length, valid mod-97 check digits';
COMMENT ON FUNCTION tdgen.ip(inet, integer, text) IS
	'keyed: same family and netmask, optional kept prefix; unique within the kept prefix';
COMMENT ON FUNCTION tdgen.fpe_encrypt(text, text, text, text) IS
	'keyed, reversible, format-preserving: NIST SP 800-38G FF1 with AES-256 over the alphabet';
COMMENT ON FUNCTION tdgen.fpe_decrypt(text, text, text, text) IS
	'inverse of fpe_encrypt; superusers only unless granted';
COMMENT ON FUNCTION tdgen.ff1_raw(bytea, bytea, text, text, boolean) IS
	'FF1 under a caller-supplied AES key, to check the cipher against published test vectors; not keyed by tdgen';
COMMENT ON FUNCTION tdgen.date_shift(date, integer, text, text) IS
	'keyed: moves the date by a non-zero number of days within +-max_days; one offset per entity when given';
COMMENT ON FUNCTION tdgen.date_shift(timestamp, integer, text, text) IS
	'keyed: moves the timestamp by whole days within +-max_days; one offset per entity when given';
COMMENT ON FUNCTION tdgen.date_shift(timestamptz, integer, text, text) IS
	'keyed: moves the timestamp by whole days within +-max_days; one offset per entity when given';
COMMENT ON FUNCTION tdgen.birth_date(date, integer, text) IS
	'keyed: another day of the same year, or of a year in the same band of year_band years';
COMMENT ON FUNCTION tdgen.birth_date(timestamp, integer, text) IS
	'keyed: birth_date of the day, the time of day kept';
COMMENT ON FUNCTION tdgen.birth_date(timestamptz, integer, text) IS
	'keyed: birth_date of the day in the session''s time zone, the time of day kept';
COMMENT ON FUNCTION tdgen.leading_date(text) IS
	'the date an ISO date or timestamp text starts with, or NULL; never an error';
COMMENT ON FUNCTION tdgen.birth_part(text, text, text, text, text, text, integer, text) IS
	'keyed: a year, month or day of birth masked as birth_date masks the whole date of the row (from its columns born, or year, month and day), so the parts and the date agree';
COMMENT ON FUNCTION tdgen.noise(integer, double precision, boolean, text) IS
	'keyed: the value times 1 +- up to pct percent, rounded; keeps the sign unless allowed';
COMMENT ON FUNCTION tdgen.noise(bigint, double precision, boolean, text) IS
	'keyed: the value times 1 +- up to pct percent, rounded; keeps the sign unless allowed';
COMMENT ON FUNCTION tdgen.noise(double precision, double precision, boolean, text) IS
	'keyed: the value times 1 +- up to pct percent; keeps the sign unless allowed';
COMMENT ON FUNCTION tdgen.noise(numeric, double precision, boolean, text) IS
	'keyed: the value times 1 +- up to pct percent, at the value''s scale; keeps the sign unless allowed';
COMMENT ON FUNCTION tdgen.generalize(numeric, numeric) IS
	'rounds down to a multiple of bucket; not keyed';
COMMENT ON FUNCTION tdgen.generalize(date, text) IS
	'truncates to the unit (year, quarter, month, week, day...); not keyed';
COMMENT ON FUNCTION tdgen.generalize(timestamptz, text) IS
	'truncates to the unit (year, quarter, month, week, day, hour...); not keyed';
COMMENT ON FUNCTION tdgen.jsonb_mask(jsonb, jsonb, text) IS
	'applies the spec''s transforms ({"$.path": "transform" or {"transform": ..., params}}) at JSON paths, the rest unchanged';
COMMENT ON FUNCTION tdgen.array_mask(text[], text, jsonb, text) IS
	'applies a named text transform, with jsonb parameters, to every element; NULL elements stay NULL';
COMMENT ON FUNCTION tdgen.nullify(anyelement) IS
	'replaces any value with NULL; not keyed';
COMMENT ON FUNCTION tdgen.in_transaction_block() IS
	'whether the session is inside BEGIN ... COMMIT, where a procedure cannot commit';
COMMENT ON FUNCTION tdgen.transform_registry() IS
	'the transforms compiled into the library; read it through the view tdgen.transform';
COMMENT ON VIEW tdgen.transform IS
	'every transform: name, input types, parameters with types and defaults, keyed, injective, the parameters that make a non-injective transform injective (injective_with), reversible, format-preserving';
