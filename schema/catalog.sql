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
-- matches one of the category's column patterns (in the context the
-- pattern asks for) or enough sampled values show its signal or match its
-- value patterns; when the category has table patterns, the table's name
-- must match one of them too.  The scan weighs these (tdgen.judge_column).
CREATE TABLE tdgen.category (
	name		text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
	description	text NOT NULL,
	type_classes text[] NOT NULL CHECK (type_classes <@ ARRAY['text', 'integer', 'numeric', 'date', 'timestamp',
																'network', 'uuid', 'json', 'text_array', 'binary',
																'enum', 'boolean', 'other']),
	signal		text CHECK (signal IN ('email', 'luhn', 'mod97', 'npi', 'dea', 'ssn', 'ip', 'mac', 'phone', 'zip',
									  'full_name', 'first_name', 'last_name', 'place', 'street', 'url_credentials',
									  'name_handle')),
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
	context		text CHECK (context IS NULL OR (context IN ('person', 'related') AND kind = 'column')),
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
-- created without rows; skip: the table is left out; lookup: copied whole
-- in a subset, whose rows bring their parents but never their children.
CREATE TABLE tdgen.table_mode (
	schema_name	name NOT NULL,
	table_name	name NOT NULL,
	environment	text REFERENCES tdgen.environment ON DELETE CASCADE ON UPDATE CASCADE,
	mode		text NOT NULL CHECK (mode IN ('copy', 'empty', 'skip', 'lookup')),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	updated_by	name NOT NULL DEFAULT session_user,
	CONSTRAINT table_mode_one UNIQUE NULLS NOT DISTINCT (schema_name, table_name, environment)
);

-- The rows a subset starts from, a table at a time per environment (the
-- targets of an environment are combined by union): the rows matching
-- "where", of those the sampled percent (by a seeded hash of the key), of
-- those the first "limit" by order_by then key.  An environment without
-- targets copies every table whole.
CREATE TABLE tdgen.subset_target (
	environment	text NOT NULL REFERENCES tdgen.environment ON DELETE CASCADE ON UPDATE CASCADE,
	schema_name	name NOT NULL,
	table_name	name NOT NULL,
	percent		numeric CHECK (percent BETWEEN 0 AND 100),
	"where"		text,
	"limit"		bigint CHECK ("limit" >= 0),
	order_by	text,
	updated_at	timestamptz NOT NULL DEFAULT now(),
	updated_by	name NOT NULL DEFAULT session_user,
	PRIMARY KEY (environment, schema_name, table_name),
	CONSTRAINT subset_target_order_needs_limit CHECK (order_by IS NULL OR "limit" IS NOT NULL)
);

-- References production does not declare (virtual relations): rows of
-- schema_name.table_name whose columns, all non-NULL and where "when"
-- holds, equal ref_columns of a row of the referenced table.  A subset
-- follows them as foreign keys and checks them after the load.
CREATE TABLE tdgen.relation (
	schema_name	name NOT NULL,
	name		name NOT NULL,
	environment	text REFERENCES tdgen.environment ON DELETE CASCADE ON UPDATE CASCADE,
	table_name	name NOT NULL,
	columns		name[] NOT NULL,
	ref_schema	name NOT NULL,
	ref_table	name NOT NULL,
	ref_columns	name[] NOT NULL CHECK (cardinality(ref_columns) = cardinality(columns) AND cardinality(columns) > 0),
	"when"		text,
	updated_at	timestamptz NOT NULL DEFAULT now(),
	updated_by	name NOT NULL DEFAULT session_user,
	CONSTRAINT relation_one UNIQUE NULLS NOT DISTINCT (schema_name, name, environment)
);

-- How a subset follows one foreign key (schema_name.name, the constraint's
-- schema and name, or a relation's), per environment: downward (from a parent row to its
-- children) or not, only to the children matching "where", at most
-- per_parent children a parent (the first by order_by then key), at most
-- max_depth steps down from a target; on_absent 'null' sets the key
-- columns to NULL where the parent is not otherwise in the subset, instead
-- of bringing it.
CREATE TABLE tdgen.subset_edge (
	environment	text NOT NULL REFERENCES tdgen.environment ON DELETE CASCADE ON UPDATE CASCADE,
	schema_name	name NOT NULL,
	name		name NOT NULL,
	downward	boolean NOT NULL DEFAULT true,
	"where"		text,
	per_parent	integer CHECK (per_parent >= 0),
	order_by	text,
	max_depth	integer CHECK (max_depth >= 1),
	on_absent	text CHECK (on_absent IN ('include', 'null')),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	updated_by	name NOT NULL DEFAULT session_user,
	PRIMARY KEY (environment, schema_name, name),
	CONSTRAINT subset_edge_order_needs_per_parent CHECK (order_by IS NULL OR per_parent IS NOT NULL)
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

-- When an environment refreshes by itself: cron's five fields read in the
-- time zone tz, whether the schedule is on, and the role that made it,
-- which its refreshes run for (it needs refresh).  job_id: the pg_cron
-- job derived from it (tdgen_schedule, tdgen_restore_schedules).
CREATE TABLE tdgen.environment_schedule (
	environment	text PRIMARY KEY REFERENCES tdgen.environment ON DELETE CASCADE ON UPDATE CASCADE,
	cron		text NOT NULL,
	tz			text NOT NULL DEFAULT 'UTC',
	active		boolean NOT NULL DEFAULT true,
	role		name NOT NULL,
	job_id		bigint,
	updated_at	timestamptz NOT NULL DEFAULT now()
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
SELECT pg_catalog.pg_extension_config_dump('tdgen.environment_schedule', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.category', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('tdgen.category_pattern', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('tdgen.category_disabled', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.column_rule', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.table_mode', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.subset_target', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.subset_edge', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.relation', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.seen_column', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.source_relation', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.alert', '');
SELECT pg_catalog.pg_extension_config_dump('tdgen.alert_id_seq', '');

-- The catalog is read by tdgen_admin and written only through tdgen's
-- functions, which validate what they write.
REVOKE ALL ON ALL TABLES IN SCHEMA tdgen FROM PUBLIC;
GRANT SELECT ON tdgen.source, tdgen.environment, tdgen.environment_grant, tdgen.environment_schedule, tdgen.category,
	tdgen.category_pattern,
	tdgen.category_disabled, tdgen.column_rule, tdgen.table_mode, tdgen.seen_column,
	tdgen.source_relation, tdgen.alert, tdgen.subset_target, tdgen.subset_edge, tdgen.relation TO tdgen_admin;

-- ---------------------------------------------------------------------------
-- Built-in categories
-- ---------------------------------------------------------------------------

-- Names of tables about people, where a plain "name", "state" or "age" is
-- a person's; elsewhere (products, stores, a film's actors) it usually is
-- not.  tdgen.scan_context also finds such tables by their columns.
CREATE FUNCTION tdgen.person_tables() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY['(^|_)(customer|client|user|staff|employee|person|persons|people|member|patient|contact|applicant|'
			 || 'student|guest|passenger|subscriber|owner|driver|cardholder|buyer|tenant|resident|beneficiary|'
			 || 'profile|identity|individual|signup|recipient|sender|borrower|debtor|candidate|volunteer|donor|'
			 || 'provider|physician|doctor|prescriber|clinician|nurse|dependant|dependent|guardian|lead|prospect|'
			 || 'traveler|traveller|worker|teacher|author|kunde|kunden|mitarbeiter|cliente|paciente|persona|'
			 || 'empleado|salarie|utilisateur|usuario|benutzer|emergency_contact|next_of_kin)s?(_|$)',
			 '(^|_)(address|addresses|residence|residences)(_|$)'];

-- (name, description, type classes, signal, confidence, transform, params,
-- column patterns, value patterns).  Patterns are case-insensitive POSIX
-- regular expressions over column names written in lower case with
-- underscores (firstName is read as first_name), so "_" and word ends mark
-- the parts of a name.  A column pattern written "person:..." counts only
-- in tables about people, "related:..." also in tables that reference one
-- (tdgen.scan_context).  signal: the value signal of tdgen.value_profile
-- that confirms the category in a sample.
CREATE FUNCTION tdgen.builtin_category(name text, description text, type_classes text[], signal text,
									   confidence real, transform text, params jsonb,
									   column_patterns text[], value_patterns text[] DEFAULT '{}')
RETURNS void
LANGUAGE sql
BEGIN ATOMIC
	INSERT INTO tdgen.category VALUES (name, description, type_classes, signal, confidence, transform,
									   params, true);
	INSERT INTO tdgen.category_pattern (category, kind, pattern, context, builtin)
	SELECT name, k.kind, regexp_replace(k.pattern, '^(person|related):', ''),
		   substring(k.pattern FROM '^(person|related):'), true
	FROM (SELECT 'column', unnest(column_patterns)
		  UNION ALL SELECT 'value', unnest(value_patterns)) AS k(kind, pattern);
END;

-- Names, in several languages.
SELECT tdgen.builtin_category('first_name', 'a person''s given or middle name', '{text,text_array}', 'first_name', 0.9,
	'first_name', '{}', ARRAY['^(first|given|fore|middle|christian|nick|preferred|pref|birth)_?names?$', '^[fm]_?name$',
							  '^(first|given|middle)_?name_?(phonetic|kana|romaji|latin|native|local)$',
							  '^(first|given|middle)_?name_?phonetic', '^(firstname|givenname|middlename)[a-z]*$',
							  '^name_?(first|given|middle)$', '^(firstname|forename|givenname)$',
							  '^(vorname|prenom|prénom|voornaam|fornavn|imie|jmeno|etunimi)$', 'person:^(nombre|nome)$']);
SELECT tdgen.builtin_category('last_name', 'a person''s family name', '{text,text_array}', 'last_name', 0.9,
	'last_name', '{}', ARRAY['^(last|family|sur|maiden|second|birth_?last)_?names?$', '^l_?name$', '^surname$',
							 '^(last|family|sur)_?name_?(phonetic|kana|romaji|latin|native|local)$',
							 '^(lastname|familyname|surname)[a-z]*$',
							 '^name_?(last|family)$', '^(lastname|familyname)$',
							 '^(nachname|familienname|apellidos?|sobrenome|cognome|achternaam|nazwisko|sukunimi)$',
							 'person:^nom$']);
SELECT tdgen.builtin_category('full_name', 'a person''s whole name', '{text,text_array}', 'full_name', 0.8,
	'full_name', '{}', ARRAY['related:^(full|display|legal|real)_?names?$',
							 '^(contact|person|customer|client|patient|employee|member|'
							 || 'ship|shipping|bill|billing|recipient|sender|consignee|attention|attn|guardian|spouse|'
							 || 'parent|mother|father|beneficiary|referrer|signatory|author|owner|manager|physician|'
							 || 'doctor|provider|prescriber|nurse|reviewer|assignee|driver|insured|subscriber|holder|'
							 || 'emergency|kin|next_?of_?kin|witness|applicant|candidate|tenant|guest|passenger|officer|agent|'
							 || 'advisor|adviser|rep|representative|clerk|teller|courier|rider|signer|approver|requester|'
							 || 'traveller|traveler|student|teacher|instructor|addressee|cardholder|analyst|'
							 || 'reporter|owner)_?names?$',
							 '^(assigned|responsible|reporting)_?(analyst|agent|officer|advisor|adviser|manager|nurse|'
							 || 'physician|doctor|clerk|rep|user|person)(_?name)?$',
							 'person:^(fullname|displayname|name_?full)$',
							 '^(kontakt|ansprechpartner|nom_?complet|nombre_?completo|nome_?completo|atena|shimei|seimei)$',
							 '^(signed|received|approved|entered|checked|recorded|accepted|collected|witnessed|verified|'
							 || 'prepared|issued|requested|referred|treated|seen|handled|delivered_?to|signed_?for)_?by(_?name)?$',
							 'person:^name$']);
SELECT tdgen.builtin_category('cardholder_name', 'the name printed on a payment card', '{text}', 'full_name', 0.9,
	'full_name', '{}', ARRAY['card_?holder', 'name_?on_?card', 'holder_?name', 'account_?holder']);
SELECT tdgen.builtin_category('username', 'a login or user handle', '{text,text_array}', 'name_handle', 0.85,
	'username', '{}', ARRAY['user_?name', '^(login|login_?name|login_?id|screen_?name|handle|nick_?name|nickname)$',
							'^(benutzer(name)?|usuario|utilisateur|pseudo)$', 'person:^(login|user|nick)$']);

-- Contact.
SELECT tdgen.builtin_category('email', 'an email address', '{text,text_array}', 'email', 0.95,
	'email', '{}', ARRAY['e_?mail', '^mail(_?(address|addr))?$', '^(correo|courriel)(_?electronico)?$']);
SELECT tdgen.builtin_category('phone', 'a telephone or fax number', '{text,text_array}', 'phone', 0.9,
	'phone', '{}', ARRAY['related:phone', 'mobile', '^(cell|msisdn|handy|movil|celular|portable|gsm)(_?(no|num|number|nr))?$',
						 'related:^(fax|tel|tele|telno|ph)(_?(no|num|number|nr))?$', 'related:(^|_)(cell|fax|tel)_?(no|num|number|nr)?$',
						 'related:telefon', 'related:telephone', 'whatsapp',
						 '(home|private|personal|mobile|cell|emergency|private)_?(phone|tel|telephone)']);

-- Address parts.
SELECT tdgen.builtin_category('street_address', 'a street address line', '{text}', 'street', 0.85,
	'street_address', '{}', ARRAY['related:^(street|address|addr|adr)(_?line)?_?[0-9]?$', 'related:street', 'related:address_?line',
								  'related:^(bairro|barrio|quartier|stadtteil|complemento|tatemono|banchi|choiki|chome|choume|'
								  || 'logradouro|numero|colonia|kvartal|wijk)(_?[0-9])?$',
								  '^(house|home|postal|mailing|billing|shipping|residential|residence|delivery|'
								  || 'permanent|current|work|office|ship|bill)_?(address|addr)(_?[0-9])?$',
								  '^(strasse|straße|str|hausnummer|adresse|direccion|dirección|calle|endereco|endereço|'
								  || 'indirizzo|rue|domicilio|anschrift)(_?[0-9])?$',
								  '^(house|building)_?(number|no|num)$', '^(apt|apartment|suite|flat)(_?(no|num|number))?$',
								  '^po_?box$']);
SELECT tdgen.builtin_category('city', 'the city or town of a person''s address', '{text}', 'place', 0.8,
	'city', '{}', ARRAY['person:^(city|town|locality|municipality|village|suburb)(_?name)?$',
						'person:^(shikuchoson|municipio|cidade|ciudad|localidade|comune|gemeinde)$',
						'related:^geo_?(city|town|locality)$',
						'person:^(location|hometown|home_?town|residence)$',
						'person:^(ort|stadt|wohnort|ville|ciudad|cidade|citta|città|localidad|gemeinde|plaats)$',
						'^(ship|shipping|bill|billing|mailing|home|delivery|residence|birth|postal)_?(city|town|place)$']);
SELECT tdgen.builtin_category('region', 'the state, province, county or district of a person''s address',
	'{text}', NULL, 0.75, 'state', '{}',
	ARRAY['related:^(province|region|county|district|prefecture|canton|bundesland|departement|provincia|estado|todofuken|uf)(_?(code|name))?$',
		  'person:^state(_?(code|name))?$',
		  '^(ship|shipping|bill|billing|mailing|home|delivery)_?(state|region|province|county)$']);
SELECT tdgen.builtin_category('postal_code', 'a ZIP or postal code', '{text,integer}', 'zip', 0.85,
	'zip', '{}', ARRAY['related:(^|_)zip(_?code)?(_|$)', 'related:^zip_?[0-9]$', 'related:postal', 'related:post_?code',
						'related:(^|_)(plz|cep)(_|$)', 'related:code_?postal', 'related:codigo_?postal', 'related:postleitzahl',
						'^(ship|shipping|bill|billing|mailing|home|delivery|residence|residential)_?(address_?)?(zip|postal|post)']);
SELECT tdgen.builtin_category('geo_coordinates', 'a person''s latitude, longitude or position', '{numeric,text,other}', NULL,
	0.8, 'noise', '{"pct": 1}', ARRAY['related:(^|_)(lat|latitude|lon|lng|long|longitude)(_|$)',
									  'related:(polyline|route_?(geometry|path|trace|shape)|gps_?trace|breadcrumbs?)$',
									  'related:^(ip_?geo|geo_?ip|geo_?location|geo_?point|geo_?position)$',
									  'related:geo_?(location|point|coord)', 'related:coordinates',
									  'related:(^|_)(gps|geom|geog|geolocation|position)(_|$)']);

-- Birth and age.
SELECT tdgen.builtin_category('birth_date', 'a date of birth', '{date,timestamp,text}', NULL, 0.9,
	'birth_date', '{}', ARRAY['birth', '(^|_)dob(_|$)', 'born', 'birthday', 'geburt', 'naissance', 'nacimiento',
							  'nascimento']);
SELECT tdgen.builtin_category('birth_part', 'the year, month or day of a date of birth', '{integer,numeric,text}', NULL,
	0.92, 'birth_part', '{}', ARRAY['(birth|dob|geburts)_?(year|month|day|yr|mo|dy|jahr|monat|tag)',
									 '(year|month|day)s?_?of_?birth', '^(yob|mob)$']);
SELECT tdgen.builtin_category('age', 'a person''s age', '{integer,numeric}', NULL, 0.6,
	'noise', '{"pct": 10}', ARRAY['person:^age(_?(years|yrs|in_?years))?$', 'person:^(alter|edad|idade|eta)$',
								  'related:(^|_)(child|children|kid|kids|guest|guests|passenger|dependant|dependent)s?_?ages?$']);

-- Identity numbers.
SELECT tdgen.builtin_category('ssn', 'a US social security number', '{text}', 'ssn', 0.95,
	'ssn', '{"unissued": false}', ARRAY['(^|_)ssn(_|$)', 'social_?security', 's[eé]curit[eé]_?sociale', 'seguridad_?social',
										 'seguro_?social', '(^|_)(sin|svnr|sozialversicherung|ahv|nir)(_?(no|num|number|nr))?$']);
SELECT tdgen.builtin_category('national_id', 'a national identity number', '{text}', NULL, 0.85,
	'scramble', '{}', ARRAY['national_?id', '(^|_)nin(o)?(_|$)', 'citizen_?id', 'personal_?(id|number|code|nr)',
							'identity_?(card|number|no)', 'id_?card', 'ausweis', 'personnummer',
							'redress', 'known_?travell?er', '(^|_)ktn(_|$)', 'global_?entry', 'related:^(document|doc|id)_?(no|num|number|nr)$',
							'(^|_)(nid|pesel|cpf|nric|aadhaar|bsn|curp|dni|nie|rut|cnp|pps|hetu|rg)(_|$)']);
SELECT tdgen.builtin_category('passport', 'a passport number', '{text}', NULL, 0.9,
	'scramble', '{}', ARRAY['passport', 'reisepass', 'pasaporte', 'passeport']);
SELECT tdgen.builtin_category('driver_license', 'a driving or professional licence number', '{text}', NULL, 0.9,
	'scramble', '{}', ARRAY['driv(er|ing)s?_?licen[cs]e', '(^|_)licen[cs]e_?(no|num|number|id|nr)(_|$)',
							'(state|professional|medical|nursing)_?licen[cs]e', '(^|_)dl_?(no|num|number)(_|$)',
							'f(ue|ü)hrerschein', 'permis_?de_?conduire']);
SELECT tdgen.builtin_category('tax_id', 'a tax or VAT identifier', '{text}', NULL, 0.85,
	'scramble', '{}', ARRAY['tax_?(id|no|num|number|code)', '(^|_)(tin|ein|itin|vat_?(id|no|number))(_|$)',
							'steuer_?(id|nummer|nr|identifikation)', 'steuernummer', 'ust_?id', '(^|_)(siret|siren|nif|cif)(_|$)',
							'codice_?fiscale', 'partita_?iva']);

-- Health care.
SELECT tdgen.builtin_category('health_id', 'a health-care identifier: NPI, medical record, insurance member or policy number',
	'{text,integer}', 'npi', 0.9, 'scramble', '{}',
	ARRAY['(^|_)(npi|upin|mrn|medicare|medicaid|ehic)(_|$)', 'medical_?record', '(^|_)chart_?(no|num|number)(_|$)',
		  'insurance_?(member|subscriber|policy|id|no|num|number)', '(member|subscriber|policy|group)_?(no|num|number)$',
		  'health_?(card|id|insurance_?(no|number))', 'patient_?(no|num|number|identifier)', '(^|_)nhs_?(no|number)?(_|$)',
		  'versicherten_?(nr|nummer)', 'krankenversicherung']);
SELECT tdgen.builtin_category('dea_number', 'a DEA registration number of a prescriber', '{text}', 'dea', 0.9,
	'scramble', '{}', ARRAY['(^|_)dea(_?(no|num|number|id|reg|registration))?(_|$)']);
SELECT tdgen.builtin_category('health', 'health or medical data', '{text,text_array,boolean,enum}', NULL, 0.85,
	'lorem', '{}', ARRAY['diagnos', 'medical', 'allerg', 'medication', 'prescription', 'symptom', 'blood_?type',
						 '(^|_)(icd|disease|disability|treatment|condition|vaccin|immuniz|pregnan|smok|alcohol|drug|medicine|'
						 || 'dosage|dose)', 'lab_?result', 'test_?result', 'clinical',
						 'special_?(needs|assistance)', 'requires_?assistance', 'wheelchair', 'mobility_?aid', 'accessibility_?needs']);
SELECT tdgen.builtin_category('body_measure', 'a person''s weight, height or vital signs', '{integer,numeric,text}', NULL,
	0.8, 'noise', '{"pct": 10}', ARRAY['person:^(weight|height|bmi)(_?(kg|lb|lbs|cm|in|m))?$',
										'(^|_)(bmi|blood_?pressure|systolic|diastolic|pulse|heart_?rate|glucose|cholesterol)(_|$)']);

-- Payment.
SELECT tdgen.builtin_category('credit_card', 'a payment card number', '{text}', 'luhn', 0.95,
	'credit_card', '{}', ARRAY['card_?(no|num|number|pan)', 'credit_?card', '(^|_)(pan|ccn|cc_?(no|num|number))(_|$)']);
SELECT tdgen.builtin_category('card_security_code', 'a card verification code', '{text,integer}', NULL, 0.9,
	'nullify', '{}', ARRAY['(^|_)(cvv|cvc|cvv2|csc|cid)(_|$)', 'security_?code', 'card_?code']);
SELECT tdgen.builtin_category('iban', 'an international bank account number', '{text}', 'mod97', 0.95,
	'iban', '{}', ARRAY['iban']);
SELECT tdgen.builtin_category('bank_account', 'a bank account, routing or sort code', '{text}', NULL, 0.85,
	'scramble', '{}', ARRAY['(bank_?)?account_?(no|num|number|nr)', '(^|_)acct_?(no|num|number)?(_|$)',
							'bank_?account', '(^|_)konto', 'kontonummer']);
SELECT tdgen.builtin_category('compensation', 'a salary, wage or income', '{numeric,integer}', NULL, 0.8,
	'noise', '{"pct": 10}', ARRAY['salary', 'wage', 'income', 'compensation', 'pay_?rate', 'bonus', 'gehalt',
								  '(^|_)lohn', 'salaire', 'salario', 'sueldo', 'remuneration',
								  '(^|_)(renda|renta|ingreso|ingresos|revenu|revenus|einkommen)(_|$)']);

-- Network, devices, accounts.
SELECT tdgen.builtin_category('ip_address', 'an IP address', '{network,text}', 'ip', 0.9,
	'ip', '{}', ARRAY['(^|_)ip(_?addr(ess)?)?(_|$)', 'ip_?address', 'remote_?addr', 'client_?addr', '(^|_)ipv[46](_|$)']);
SELECT tdgen.builtin_category('mac_address', 'a network hardware address', '{text,other}', 'mac', 0.85,
	'scramble', '{}', ARRAY['(^|_)mac(_?addr(ess)?)?(_|$)', 'hw_?addr', 'hardware_?address']);
SELECT tdgen.builtin_category('device_id', 'a device or advertising identifier', '{text,uuid}', NULL, 0.85,
	'hash', '{}', ARRAY['related:device_?id', '(^|_)(idfa|gaid|udid|advertising_?id|push_?token|fcm_?token|apns_?token|push_?id)(_|$)',
						'related:(^|_)(imei|imsi)(_|$)']);
SELECT tdgen.builtin_category('external_id', 'a person''s identifier at an external login or payment provider',
	'{text,integer,uuid}', NULL, 0.85, 'hash', '{}',
	ARRAY['(^|_)(oauth|openid|oidc|sso|saml|ldap|social|federated|google|github|gitlab|facebook|twitter|'
		  || 'apple|microsoft|azure|ad|aad|okta|auth0|linkedin|discord|slack|keycloak)_?(uid|user_?id|id|sub|subject|'
		  || 'account_?id|login|guid|oid|object_?id|identifier|username|user)$',
		  '(^|_)(provider|identity|idp)_?(uid|user_?id|sub|subject|account_?id|login|guid|oid|identifier|username)$',
		  'person:^(uid|sub|subject_?id|external_?(uid|user_?id|id|ref|reference|key|identifier))$']);
SELECT tdgen.builtin_category('source_value', 'a value copied from a source system, which may carry a person''s original identifier',
	'{text}', NULL, 0.8, 'hash', '{}',
	ARRAY['(^|_)(person|patient|provider|member|user|customer|employee|subject|participant|client)_?source_?(value|id|key)?$',
		  'person:source_?value$', 'person:^(source|original|legacy|orig|src)_?(id|identifier|key|ref|value)$']);
SELECT tdgen.builtin_category('password', 'a password or password hash', '{text,binary}', NULL, 0.95,
	'hash', '{}', ARRAY['pass_?(word|wd|phrase|hash)?(_|$)', '(^|_)pwd(_|$)', 'pw_?hash', 'passwort', 'contrase']);
SELECT tdgen.builtin_category('secret', 'a secret, token or key', '{text,binary}', NULL, 0.9,
	'hash', '{}', ARRAY['secret', 'token', 'api_?key', 'access_?key', 'private_?key', 'session_?(id|key)', '^(sid|sess_?id|session)$',
						'(^|_)(otp|credential|credentials|auth_?code|totp|mfa_?seed|recovery_?codes?)(_|$)']);
SELECT tdgen.builtin_category('url_credentials', 'a URL or connection string with a user name or password in it', '{text}',
	'url_credentials', 0.8, 'hash', '{}', ARRAY['(^|_)(dsn|connection_?string|conn_?str|jdbc_?url|database_?url|db_?url)(_|$)']);

-- Free text, photos, special categories.
SELECT tdgen.builtin_category('free_text', 'text written by or about people: notes, messages, reviews', '{text}', NULL, 0.75,
	'lorem', '{}', ARRAY['(^|_)(note|notes|comment|comments|remark|remarks|memo|feedback|annotation|free_?text|complaint|'
						 || 'diary|journal|bio|biography|about_?me|anamnesis|narrative|transcript|chief_?complaint|'
						 || 'bemerkung|kommentar|notiz|commentaire|comentario|observaciones)(_|$)',
						 '(^|_)(old|new|before|after|previous|prior|changed)_?(value|values|data|text|content|row)s?$',
						 '(^|_)raw_?(line|data|record|row|payload|body|text)$',
						 'related:^(body|content|contents|text|message|msg|subject|title|description|summary|details?|'
						 || 'reason|story|raw|cooked|excerpt|entry|post|reply|answer|question|statement|headline|about|'
						 || 'caption|review|motivation|value_?as_?string|value_?text|beschreibung|grund|motif|motivo)$']);
SELECT tdgen.builtin_category('photo', 'a photo, signature or biometric of a person', '{binary,text}', NULL, 0.85,
	'nullify', '{}', ARRAY['related:picture', 'related:photo', 'avatar', 'portrait', 'selfie', 'fingerprint', 'related:signature',
						   'biometric', 'related:(^|_)(face|image|headshot|mugshot)(_|$)']);
SELECT tdgen.builtin_category('special_category', 'ethnicity, religion, politics, sexuality: special category data',
	'{text,enum,boolean,integer}', NULL, 0.85, 'nullify', '{}',
	ARRAY['ethnic', '(^|_)race(_|$)', 'religio', 'political', 'sexual', 'orientation', 'trade_?union', 'konfession',
		  'diet', 'meal_?(code|pref|preference|request|type)', 'kosher', 'halal']);
SELECT tdgen.builtin_category('vehicle', 'a vehicle identification or plate number', '{text}', NULL, 0.85,
	'scramble', '{}', ARRAY['related:(^|_)vin(_|$)', 'related:licen[cs]e_?plate', 'related:(^|_)plate_?(no|num|number)?(_|$)',
							'related:registration_?(no|number)', 'related:kennzeichen']);
SELECT tdgen.builtin_category('personal_json', 'a JSON document with personal fields', '{json}', NULL, 0.85,
	'jsonb_mask', '{}', ARRAY['profile', 'personal', 'contact', 'customer_?data', 'user_?data', 'kyc']);

SELECT tdgen.builtin_category('demographic', 'a person''s gender, nationality, citizenship or marital status',
	'{text,enum,integer,boolean}', NULL, 0.8, 'nullify', '{}',
	ARRAY['person:^(gender|sex|sexo|geschlecht|genre|nationality|nationalite|nationalité|nacionalidad|nacionalidade|'
		  || 'staatsangehoerigkeit|staatsangehörigkeit|citizenship|marital_?status|civil_?status|estado_?civil|'
		  || 'familienstand|situation_?familiale)(_?(code|id))?$']);
-- Found by context alone (tdgen.judge_column).
SELECT tdgen.builtin_category('personal_date', 'a date in the life of a person: hired, left, married, died, admitted...',
	'{date,timestamp,text}', NULL, 0.7, 'date_shift', '{}',
	ARRAY['person:(^|_)(hire|hired|hiring|joined|termination|terminated|leaving|death|deceased|died|marriage|married|'
		  || 'wedding|anniversary|graduation|retirement|retired|enrollment|enrolment|admission|admitted|discharge|'
		  || 'discharged|onset|eintritt|austritt|embauche|sortie)(_|$)']);
SELECT tdgen.builtin_category('personal_identifier', 'an identifier of a person: a member, loyalty or staff number',
	'{text}', NULL, 0.75, 'hash', '{}',
	ARRAY['(^|_)(member|membership|loyalty|frequent_?fl[iy]er|ff|customer|client|patient|employee|staff|student|'
		  || 'passenger|traveller|traveler|badge)_?(no|num|number|nr|code|id)$', 'person:^id_?number$']);

DROP FUNCTION tdgen.builtin_category(text, text, text[], text, real, text, jsonb, text[], text[]);

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
COMMENT ON TABLE tdgen.environment_schedule IS
	'per environment, when it refreshes by itself: cron fields read in a time zone, on or off, the role its refreshes run for, and the pg_cron job derived from it';
COMMENT ON TABLE tdgen.category IS
	'sensitivity categories the scan recognises, with their default transform; built-in rows are read-only';
COMMENT ON TABLE tdgen.category_pattern IS
	'case-insensitive regular expressions of a category: over column names, sampled values, or table names';
COMMENT ON TABLE tdgen.category_disabled IS
	'categories switched off, built-in or not, with the reason';
COMMENT ON TABLE tdgen.column_rule IS
	'per production column: mask with a transform and parameters, or keep with a reason; an environment row overrides the general one';
COMMENT ON TABLE tdgen.table_mode IS
	'per production table: copy (default), empty (schema only), skip, or lookup (whole in a subset, never expanded from); an environment row overrides the general one';
COMMENT ON TABLE tdgen.subset_target IS
	'per environment and table, the rows a subset starts from: where, percent (seeded hash of the key), limit by order_by';
COMMENT ON TABLE tdgen.relation IS
	'references production does not declare (polymorphic ones with "when"): a subset follows them as foreign keys and checks them after the load';
COMMENT ON TABLE tdgen.subset_edge IS
	'per environment and foreign key, how a subset follows it: downward or not, where, per_parent by order_by, max_depth, on_absent';
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
