-- ===========================================================================
-- schema/catalog.sql
--     What tdgen knows: sources, environments, sensitivity categories,
--     column rules, table modes, the production columns seen, alerts.
--
-- Every table the user configures is registered with
-- pg_extension_config_dump, so pg_dump of the staging database carries it
-- (built-in categories come back with CREATE EXTENSION instead).  Nothing
-- here holds a production value: names, types and counts only.
-- ===========================================================================

-- A production database: a postgres_fdw foreign server and the remote
-- schemas to read.  tdgen keeps its foreign tables for it in local_schema.
CREATE TABLE tdgen.source (
	name		text PRIMARY KEY
		CONSTRAINT source_name_simple CHECK (name ~ '^[a-z][a-z0-9_]{0,39}$'),
	server		name NOT NULL,
	schemas		name[] NOT NULL CHECK (cardinality(schemas) > 0),
	-- schemas whose functions and operators copied expressions may call,
	-- as staging has them; set by superusers only
	trusted_schemas name[] NOT NULL DEFAULT '{}',
	local_schema name NOT NULL UNIQUE,
	synced_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now()
);

-- A named, repeatable generation: which source, which target schema, the
-- role that owns it (never a superuser), and its policies (later: subset
-- targets, volume caps, cadence).
CREATE TABLE tdgen.environment (
	name		text PRIMARY KEY
		CONSTRAINT environment_name_simple CHECK (name ~ '^[a-z][a-z0-9_]{0,39}$'),
	source		text NOT NULL REFERENCES tdgen.source ON UPDATE CASCADE,
	target_schema name NOT NULL UNIQUE,
	owner		name NOT NULL,
	options		jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
	created_at	timestamptz NOT NULL DEFAULT now()
);

-- What other roles may do with an environment: refresh it, read its
-- target, or read and write it.
CREATE TABLE tdgen.environment_grant (
	environment	text NOT NULL REFERENCES tdgen.environment ON DELETE CASCADE ON UPDATE CASCADE,
	privilege	text NOT NULL CHECK (privilege IN ('refresh', 'read', 'write')),
	role		name NOT NULL,
	granted_at	timestamptz NOT NULL DEFAULT now(),
	granted_by	name NOT NULL,
	PRIMARY KEY (environment, privilege, role)
);

-- Sensitivity categories.  A column belongs to a category when its name
-- matches one of the category's column patterns or enough sampled values
-- match its value patterns (and validator); when the category has table
-- patterns, the table's name must match one of them too.
CREATE TABLE tdgen.category (
	name		text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
	description	text NOT NULL,
	type_classes text[] NOT NULL CHECK (type_classes <@ ARRAY['text', 'integer', 'numeric', 'date', 'timestamp',
																'network', 'uuid', 'json', 'text_array', 'binary',
																'enum', 'boolean', 'other']),
	validator	text CHECK (validator IN ('email', 'luhn', 'mod97', 'ssn', 'ip', 'phone')),
	confidence	real NOT NULL CHECK (confidence > 0 AND confidence <= 1),
	transform	text NOT NULL,
	params		jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object'),
	builtin		boolean NOT NULL DEFAULT false,
	CONSTRAINT category_no_decrypt CHECK (transform <> 'fpe_decrypt'
										  AND NOT jsonb_path_exists(params, '$.** ? (@ == "fpe_decrypt")'))
);

CREATE TABLE tdgen.category_pattern (
	category	text NOT NULL REFERENCES tdgen.category ON DELETE CASCADE,
	kind		text NOT NULL CHECK (kind IN ('column', 'value', 'table')),
	pattern		text NOT NULL CHECK (pattern <> ''),
	builtin		boolean NOT NULL DEFAULT false,
	PRIMARY KEY (category, kind, pattern)
);

-- Built-in categories are never edited; they are switched off here.
CREATE TABLE tdgen.category_disabled (
	category	text PRIMARY KEY REFERENCES tdgen.category ON DELETE CASCADE,
	reason		text NOT NULL CHECK (reason <> ''),
	disabled_at	timestamptz NOT NULL DEFAULT now(),
	disabled_by	name NOT NULL DEFAULT session_user
);

-- What to do with one production column: mask it with a transform, or keep
-- it as it is for a stated reason.  environment NULL: every environment;
-- a row for one environment overrides it there.
CREATE TABLE tdgen.column_rule (
	schema_name	name NOT NULL,
	table_name	name NOT NULL,
	column_name	name NOT NULL,
	environment	text REFERENCES tdgen.environment ON DELETE CASCADE ON UPDATE CASCADE,
	action		text NOT NULL CHECK (action IN ('mask', 'keep')),
	transform	text,
	params		jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object'),
	reason		text,
	column_type	text,				-- production type when last reviewed
	updated_at	timestamptz NOT NULL DEFAULT now(),
	updated_by	name NOT NULL DEFAULT session_user,
	CONSTRAINT column_rule_one UNIQUE NULLS NOT DISTINCT (schema_name, table_name, column_name, environment),
	CONSTRAINT column_rule_mask_has_transform CHECK ((action = 'mask') = (transform IS NOT NULL)),
	CONSTRAINT column_rule_keep_has_reason CHECK (action = 'mask' OR coalesce(reason, '') <> ''),
	CONSTRAINT column_rule_no_decrypt CHECK (transform IS DISTINCT FROM 'fpe_decrypt'
											 AND NOT jsonb_path_exists(params, '$.** ? (@ == "fpe_decrypt")'))
);

-- copy (the default): rows are copied and masked; empty: the table is
-- created without rows; skip: the table is left out.
CREATE TABLE tdgen.table_mode (
	schema_name	name NOT NULL,
	table_name	name NOT NULL,
	environment	text REFERENCES tdgen.environment ON DELETE CASCADE ON UPDATE CASCADE,
	mode		text NOT NULL CHECK (mode IN ('copy', 'empty', 'skip')),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	updated_by	name NOT NULL DEFAULT session_user,
	CONSTRAINT table_mode_one UNIQUE NULLS NOT DISTINCT (schema_name, table_name, environment)
);

-- Production columns tdgen has seen, to tell new ones apart.
CREATE TABLE tdgen.seen_column (
	source		text NOT NULL REFERENCES tdgen.source ON DELETE CASCADE ON UPDATE CASCADE,
	schema_name	name NOT NULL,
	table_name	name NOT NULL,
	column_name	name NOT NULL,
	column_type	text NOT NULL,
	first_seen	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (source, schema_name, table_name, column_name)
);

-- The foreign table tdgen keeps for each production table, and the column
-- list it was made with, to re-create it when production changes.
CREATE TABLE tdgen.source_relation (
	source		text NOT NULL REFERENCES tdgen.source ON DELETE CASCADE ON UPDATE CASCADE,
	schema_name	name NOT NULL,
	table_name	name NOT NULL,
	local_name	name NOT NULL,
	columns		text NOT NULL,
	PRIMARY KEY (source, schema_name, table_name),
	UNIQUE (source, local_name)
);

-- Alerts: a new production column, a refused refresh.  Also sent as
-- NOTIFY tdgen_alert with the row as JSON.
CREATE TABLE tdgen.alert (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	raised_at	timestamptz NOT NULL DEFAULT now(),
	kind		text NOT NULL CHECK (kind IN ('new_column', 'gate_refused')),
	source		text,
	environment	text,
	message		text NOT NULL,
	detail		jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_raised_at ON tdgen.alert (raised_at);

SELECT pg_catalog.pg_extension_config_dump('tdgen.source', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.environment', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.environment_grant', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.category', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('tdgen.category_pattern', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('tdgen.category_disabled', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.column_rule', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.table_mode', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.seen_column', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.source_relation', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.alert', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.alert_id_seq', '');

-- The catalog is read by tdgen_admin and written only through tdgen's
-- functions, which validate what they write.
REVOKE ALL ON ALL TABLES IN SCHEMA tdgen FROM PUBLIC;
GRANT SELECT ON tdgen.source, tdgen.environment, tdgen.environment_grant, tdgen.category, tdgen.category_pattern,
	tdgen.category_disabled, tdgen.column_rule, tdgen.table_mode, tdgen.seen_column,
	tdgen.source_relation, tdgen.alert TO tdgen_admin;

-- ---------------------------------------------------------------------------
-- Built-in categories
-- ---------------------------------------------------------------------------

-- (name, description, type classes, validator, confidence, transform,
-- params, column patterns, value patterns, table patterns).  Patterns are
-- case-insensitive POSIX regular expressions; column names are matched
-- with underscores, so "_" and word ends mark the parts of a name.
CREATE FUNCTION tdgen.builtin_category(name text, description text, type_classes text[], validator text,
									   confidence real, transform text, params jsonb,
									   column_patterns text[], value_patterns text[] DEFAULT '{}',
									   table_patterns text[] DEFAULT '{}')
RETURNS void
LANGUAGE sql
BEGIN ATOMIC
	INSERT INTO tdgen.category VALUES (name, description, type_classes, validator, confidence, transform,
									   params, true);
	INSERT INTO tdgen.category_pattern
	SELECT name, k.kind, k.pattern, true
	FROM (SELECT 'column', unnest(column_patterns)
		  UNION ALL SELECT 'value', unnest(value_patterns)
		  UNION ALL SELECT 'table', unnest(table_patterns)) AS k(kind, pattern);
END;

-- Tables about people, where a plain "name", "city" or "photo" is a
-- person's; elsewhere (products, stores, a film's actors) it usually is not.
CREATE FUNCTION tdgen.person_tables() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY['(^|_)(customer|client|user|staff|employee|person|people|member|patient|contact|account|applicant|'
			 || 'student|guest|passenger|subscriber|owner|driver|cardholder|buyer|tenant|resident|beneficiary|'
			 || 'profile|identity|individual|signup|recipient|sender|borrower|debtor|candidate|volunteer|donor)s?(_|$)',
			 '(^|_)(address|addresses|residence|location|shipping|billing)(_|$)'];

SELECT tdgen.builtin_category('first_name', 'a person''s given or middle name', '{text}', NULL, 0.9,
	'first_name', '{}', ARRAY['^(first|given|fore|middle|christian|nick)_?names?$', '^f_?name$'],
	'{}', tdgen.person_tables());
SELECT tdgen.builtin_category('last_name', 'a person''s family name', '{text}', NULL, 0.9,
	'last_name', '{}', ARRAY['^(last|family|sur|maiden|second)_?names?$', '^l_?name$'], '{}', tdgen.person_tables());
SELECT tdgen.builtin_category('full_name', 'a person''s whole name', '{text}', NULL, 0.75,
	'full_name', '{}', ARRAY['^(full_?|display_?|legal_?|contact_?|person_?|customer_?|employee_?|user_?|real_?)?name$'],
	'{}', tdgen.person_tables());
SELECT tdgen.builtin_category('cardholder_name', 'the name printed on a payment card', '{text}', NULL, 0.9,
	'full_name', '{}', ARRAY['card_?holder', 'name_?on_?card', 'holder_?name', 'account_?holder']);
SELECT tdgen.builtin_category('email', 'an email address', '{text,text_array}', 'email', 0.95,
	'email', '{}', ARRAY['e_?mail', '^mail(_?address)?$'],
	ARRAY['^[A-Za-z0-9._%+''-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$']);
SELECT tdgen.builtin_category('phone', 'a telephone or fax number', '{text}', 'phone', 0.9,
	'phone', '{}', ARRAY['phone', 'mobile', '(^|_)cell(_|$)', '(^|_)fax(_|$)', '(^|_)tel(_|$)', 'msisdn'],
	ARRAY['^\+?[0-9][0-9 ().-]{6,20}[0-9]$']);
SELECT tdgen.builtin_category('street_address', 'a street address line', '{text}', NULL, 0.85,
	'street_address', '{}', ARRAY['^(street|address|addr)(_?line)?_?[0-9]?$', 'street_?(address|name|line)',
								  'address_?line', '^(house|home|postal|mailing|billing|shipping)_?address$']);
SELECT tdgen.builtin_category('city', 'the city or town of a person''s address', '{text}', NULL, 0.8,
	'city', '{}', ARRAY['^(city|town|locality|municipality|village)(_?name)?$'], '{}', tdgen.person_tables());
SELECT tdgen.builtin_category('region', 'the state, province, county or district of a person''s address',
	'{text}', NULL, 0.75, 'state', '{}',
	ARRAY['^(state|province|region|county|district|prefecture|canton)(_?(code|name))?$'], '{}', tdgen.person_tables());
SELECT tdgen.builtin_category('postal_code', 'a ZIP or postal code', '{text,integer}', NULL, 0.85,
	'zip', '{}', ARRAY['(^|_)zip(_?code)?(_|$)', 'postal', 'post_?code', '(^|_)plz(_|$)'],
	ARRAY['^[0-9]{5}(-[0-9]{4})?$', '^[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9]$', '^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$']);
SELECT tdgen.builtin_category('birth_date', 'a date of birth', '{date,timestamp,text}', NULL, 0.9,
	'birth_date', '{}', ARRAY['birth', '(^|_)dob(_|$)', 'born', 'birthday']);
SELECT tdgen.builtin_category('age', 'a person''s age', '{integer,numeric}', NULL, 0.6,
	'noise', '{"pct": 10}', ARRAY['^age(_?years)?$'], '{}', tdgen.person_tables());
SELECT tdgen.builtin_category('ssn', 'a US social security number', '{text}', 'ssn', 0.95,
	'ssn', '{}', ARRAY['(^|_)ssn(_|$)', 'social_?security', '(^|_)sin_?(no|num|number)?$'],
	ARRAY['^[0-9]{3}-?[0-9]{2}-?[0-9]{4}$']);
SELECT tdgen.builtin_category('national_id', 'a national identity number', '{text}', NULL, 0.85,
	'scramble', '{}', ARRAY['national_?id', '(^|_)nin(o)?(_|$)', 'citizen_?id', 'personal_?(id|number|code)',
							'identity_?(card|number|no)', 'id_?card', '(^|_)(nid|pesel|cpf|nric|aadhaar|bsn|curp)(_|$)']);
SELECT tdgen.builtin_category('passport', 'a passport number', '{text}', NULL, 0.9,
	'scramble', '{}', ARRAY['passport']);
SELECT tdgen.builtin_category('driver_license', 'a driving licence number', '{text}', NULL, 0.9,
	'scramble', '{}', ARRAY['driv(er|ing)s?_?licen[cs]e', '(^|_)licen[cs]e_?(no|num|number|id)(_|$)',
							'(^|_)dl_?(no|num|number)(_|$)']);
SELECT tdgen.builtin_category('tax_id', 'a tax or VAT identifier', '{text}', NULL, 0.85,
	'scramble', '{}', ARRAY['tax_?(id|no|num|number|code)', '(^|_)(tin|ein|itin|vat_?(id|no|number))(_|$)']);
SELECT tdgen.builtin_category('credit_card', 'a payment card number', '{text}', 'luhn', 0.95,
	'credit_card', '{}', ARRAY['card_?(no|num|number|pan)', 'credit_?card', '(^|_)(pan|ccn|cc_?(no|num|number))(_|$)'],
	ARRAY['^[0-9]{4}([ -]?[0-9]{4}){2}[ -]?[0-9]{1,7}$', '^[0-9]{13,19}$']);
SELECT tdgen.builtin_category('card_security_code', 'a card verification code', '{text,integer}', NULL, 0.9,
	'nullify', '{}', ARRAY['(^|_)(cvv|cvc|cvv2|csc|cid)(_|$)', 'security_?code', 'card_?code']);
SELECT tdgen.builtin_category('iban', 'an international bank account number', '{text}', 'mod97', 0.95,
	'iban', '{}', ARRAY['iban'], ARRAY['^[A-Z]{2}[0-9]{2}( ?[A-Z0-9]){11,30}$']);
SELECT tdgen.builtin_category('bank_account', 'a bank account, routing or sort code', '{text}', NULL, 0.85,
	'scramble', '{}', ARRAY['(bank_?)?account_?(no|num|number)', '(^|_)acct_?(no|num|number)?(_|$)', 'routing',
							'sort_?code', '(^|_)(bic|swift)(_?code)?(_|$)', 'bank_?account']);
SELECT tdgen.builtin_category('ip_address', 'an IP address', '{network,text}', 'ip', 0.9,
	'ip', '{}', ARRAY['(^|_)ip(_?addr(ess)?)?(_|$)', 'ip_?address', 'remote_?addr', 'client_?addr'],
	ARRAY['^([0-9]{1,3}\.){3}[0-9]{1,3}(/[0-9]{1,2})?$', '^[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7}(/[0-9]{1,3})?$']);
SELECT tdgen.builtin_category('mac_address', 'a network hardware address', '{text,other}', NULL, 0.85,
	'scramble', '{}', ARRAY['(^|_)mac(_?addr(ess)?)?(_|$)', 'hw_?addr', 'hardware_?address'],
	ARRAY['^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$']);
SELECT tdgen.builtin_category('geo_coordinates', 'a latitude, longitude or position', '{numeric,text,other}', NULL,
	0.8, 'noise', '{"pct": 1}', ARRAY['(^|_)(lat|latitude|lon|lng|long|longitude)(_|$)', 'geo_?(location|point|coord)',
									   'coordinates', '(^|_)(gps|geom|geog)(_|$)']);
SELECT tdgen.builtin_category('username', 'a login or user handle', '{text}', NULL, 0.85,
	'username', '{}', ARRAY['user_?name', '(^|_)login(_?name)?$', 'screen_?name', '(^|_)handle(_|$)', 'nick_?name']);
SELECT tdgen.builtin_category('password', 'a password or password hash', '{text,binary}', NULL, 0.95,
	'hash', '{}', ARRAY['pass_?(word|wd|phrase|hash)?(_|$)', '(^|_)pwd(_|$)', 'pw_?hash']);
SELECT tdgen.builtin_category('secret', 'a secret, token or key', '{text,binary}', NULL, 0.9,
	'hash', '{}', ARRAY['secret', 'token', 'api_?key', 'access_?key', 'private_?key', 'session_?(id|key)',
						'(^|_)(otp|salt|nonce|credential|credentials|auth_?code)(_|$)']);
SELECT tdgen.builtin_category('free_text', 'notes and comments that may name people', '{text}', NULL, 0.75,
	'lorem', '{}', ARRAY['(^|_)(note|notes|comment|comments|remark|remarks|memo|message|bio|biography|feedback|'
						 || 'annotation|free_?text|complaint|diary|journal)(_|$)']);
SELECT tdgen.builtin_category('url_credentials', 'a URL with a user name or password in it', '{text}', NULL, 0.8,
	'hash', '{}', ARRAY['(^|_)(url|uri|dsn|connection_?string|conn_?str|webhook)(_|$)'],
	ARRAY['^[a-z][a-z0-9+.-]*://[^/@:]+(:[^/@]*)?@']);
SELECT tdgen.builtin_category('compensation', 'a salary, wage or income', '{numeric,integer}', NULL, 0.8,
	'noise', '{"pct": 10}', ARRAY['salary', 'wage', 'income', 'compensation', 'pay_?rate', 'bonus']);
SELECT tdgen.builtin_category('health', 'health or medical data', '{text,text_array}', NULL, 0.85,
	'lorem', '{}', ARRAY['diagnos', 'medical', 'allerg', 'medication', 'prescription', 'symptom', 'blood_?type',
						 '(^|_)(icd|disease|disability|treatment)(_|$)']);
SELECT tdgen.builtin_category('special_category', 'ethnicity, religion, politics, sexuality: special category data',
	'{text,enum}', NULL, 0.85, 'nullify', '{}',
	ARRAY['ethnic', '(^|_)race(_|$)', 'religio', 'political', 'sexual', 'orientation', 'trade_?union']);
SELECT tdgen.builtin_category('vehicle', 'a vehicle identification or plate number', '{text}', NULL, 0.85,
	'scramble', '{}', ARRAY['(^|_)vin(_|$)', 'licen[cs]e_?plate', '(^|_)plate_?(no|num|number)?(_|$)', 'registration_?(no|number)']);
SELECT tdgen.builtin_category('device_id', 'a device or advertising identifier', '{text,uuid}', NULL, 0.85,
	'hash', '{}', ARRAY['device_?id', '(^|_)(imei|imsi|idfa|gaid|udid|advertising_?id)(_|$)']);
SELECT tdgen.builtin_category('photo', 'a photo, signature or biometric of a person', '{binary,text}', NULL, 0.85,
	'nullify', '{}', ARRAY['picture', 'photo', 'avatar', 'portrait', 'selfie', 'fingerprint', 'signature',
						   'biometric', '(^|_)(face|image|headshot|mugshot)(_|$)'], '{}', tdgen.person_tables());
SELECT tdgen.builtin_category('personal_json', 'a JSON document with personal fields', '{json}', NULL, 0.85,
	'jsonb_mask', '{}', ARRAY['profile', 'personal', 'contact', 'customer_?data', 'user_?data', 'kyc']);

DROP FUNCTION tdgen.builtin_category(text, text, text[], text, real, text, jsonb, text[], text[], text[]);

-- Built-ins are read-only: disable one with tdgen_disable_category().
CREATE FUNCTION tdgen.protect_builtin() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF (TG_OP <> 'INSERT' AND OLD.builtin) OR (TG_OP <> 'DELETE' AND NEW.builtin) THEN
		RAISE EXCEPTION 'built-in sensitivity categories cannot be changed'
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Switch a built-in category off with tdgen_disable_category(), or add your own with tdgen_category().';
	END IF;
	RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER category_builtin BEFORE INSERT OR UPDATE OR DELETE ON tdgen.category
	FOR EACH ROW EXECUTE FUNCTION tdgen.protect_builtin();
CREATE TRIGGER category_pattern_builtin BEFORE INSERT OR UPDATE OR DELETE ON tdgen.category_pattern
	FOR EACH ROW EXECUTE FUNCTION tdgen.protect_builtin();

-- ---------------------------------------------------------------------------
-- Comments
-- ---------------------------------------------------------------------------

COMMENT ON TABLE tdgen.source IS
	'production databases: a postgres_fdw server, the remote schemas to read, the local schema of tdgen''s foreign tables for it';
COMMENT ON TABLE tdgen.environment IS
	'named generations (qa, staging...): the source, the target schema, the owning role, and policy options';
COMMENT ON TABLE tdgen.environment_grant IS
	'per environment, the roles that may refresh it, read its target, or read and write it';
COMMENT ON TABLE tdgen.category IS
	'sensitivity categories the scan recognises, with their default transform; built-in rows are read-only';
COMMENT ON TABLE tdgen.category_pattern IS
	'case-insensitive regular expressions of a category: over column names, sampled values, or table names';
COMMENT ON TABLE tdgen.category_disabled IS
	'categories switched off, built-in or not, with the reason';
COMMENT ON TABLE tdgen.column_rule IS
	'per production column: mask with a transform and parameters, or keep with a reason; an environment row overrides the general one';
COMMENT ON TABLE tdgen.table_mode IS
	'per production table: copy (default), empty (schema only) or skip; an environment row overrides the general one';
COMMENT ON TABLE tdgen.seen_column IS
	'production columns seen by a check, with their type, so that new ones raise an alert';
COMMENT ON TABLE tdgen.source_relation IS
	'the foreign table tdgen keeps for each production table, and the column list it was built with';
COMMENT ON TABLE tdgen.alert IS
	'new production columns and refused refreshes; each is also sent as NOTIFY tdgen_alert';
COMMENT ON SEQUENCE tdgen.alert_id_seq IS
	'numbers the alerts';
COMMENT ON FUNCTION tdgen.person_tables() IS
	'table-name patterns of tables about people, where names, places and photos are personal';
COMMENT ON FUNCTION tdgen.protect_builtin() IS
	'trigger: refuses changes to built-in categories and their patterns';
