# ----------------------------------------------------------------------------
# The security model, played by an attacker: a member of tdgen_admin, a
# staging role with CREATE on the database, and a victim role.  Each
# attempt is refused or made harmless; after each, no role gained an
# attribute or a membership, the target's data is unchanged, and the
# attempt is on record.  Then the access matrix of tdgen_grant: refresh
# and read grantees do what their grants say and no more, grants hold
# across refreshes, and a revoke takes effect at the next refresh.
# ----------------------------------------------------------------------------
use strict;
use warnings;
use Test::More;
use TdgenTest;

# Every role with an attribute beyond LOGIN, and every membership: what an
# attack would change (roles made meanwhile without either do not count).
sub roles
{
	return sql('staging', q{SELECT string_agg(format('%s:%s%s%s%s%s', r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb,
		r.rolbypassrls, (SELECT string_agg(m.roleid::regrole::text, '+' ORDER BY 1) FROM pg_auth_members AS m WHERE m.member = r.oid)),
		',' ORDER BY r.rolname)
		FROM pg_roles AS r
		WHERE r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolbypassrls
		   OR EXISTS (SELECT FROM pg_auth_members AS m WHERE m.member = r.oid)});
}

sub fingerprint
{
	return sql('staging', q{SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM sec.countries AS t})
		. sql('staging', q{SELECT count(*) FROM sec.customers});
}

# Every message an attempt gets back, searched for production's canary at
# the end.
my @messages;
sub attempt
{
	my ($rc, $out, $err) = sql_result(@_);
	push @messages, $out, $err;
	return ($rc, $out, $err);
}

sub last_run
{
	return sql('staging', q{SELECT status || ' ' || coalesce(sqlstate, '-') || ' ' || role FROM tdgen.run
		WHERE environment = 'sec' ORDER BY id DESC LIMIT 1});
}

sql('staging', q{
	CREATE ROLE sec_admin LOGIN IN ROLE tdgen_admin;
	CREATE ROLE sec_stager LOGIN;
	GRANT CREATE ON DATABASE staging TO sec_stager;
	CREATE ROLE sec_victim LOGIN;
	CREATE ROLE sec_reader LOGIN;
	CREATE ROLE sec_refresher LOGIN;
	CREATE SCHEMA billing AUTHORIZATION sec_victim;
	CREATE TABLE billing.invoices (n int);
	ALTER TABLE billing.invoices OWNER TO sec_victim;
	INSERT INTO billing.invoices VALUES (1), (2);
});
# A canary in a masked production column: it must appear nowhere in
# staging, whatever the attacks below do.
my $canary = 'canary-010-' . join('', map { ('a' .. 'z')[rand 26] } 1 .. 12);
sql('prod', qq{CREATE TABLE sec_people (id int PRIMARY KEY, email text); INSERT INTO sec_people VALUES (1, '$canary\@example.com')});
sql('staging', q{SELECT tdgen_keep('public.sec_people.id', 'a surrogate key'), tdgen_rule('public.sec_people.email', 'email')});
sql('staging', q{SELECT tdgen_environment('sec', 'prod', options => '{"jobs": 1}')});
owner_mapping('sec');
is(sql('staging', q{SELECT owner FROM tdgen.environment WHERE name = 'sec'}), 'tdgen_sec_owner',
	"a superuser's environment is owned by a NOLOGIN role made for it");
is(sql('staging', q{SELECT rolsuper::text || rolcanlogin::text FROM pg_roles WHERE rolname = 'tdgen_sec_owner'}), 'falsefalse',
	'which is no superuser');
my ($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')});
is($rc, 0, 'the first refresh of sec succeeds') or diag($err);
is(sql('staging', q{SELECT string_agg(DISTINCT r.rolname, ',') FROM pg_class AS c JOIN pg_roles AS r ON r.oid = c.relowner
	WHERE c.relnamespace = 'sec'::regnamespace}) . ' ' . sql('staging', q{SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'sec'}),
	'tdgen_sec_owner tdgen_sec_owner', 'the target and everything in it belong to the owner');
my $roles = roles();
my $data = fingerprint();

# D1: no step of the refresh, and no state, can be handed in by a caller.
for my $call (q{SELECT tdgen.refresh_prepare(1)}, q{SELECT tdgen.refresh_build(1)},
	q{SELECT tdgen.run_start('sec', 'fail', 10, 'manual', false, NULL)}, q{SELECT tdgen.run_finish(1, NULL, NULL, NULL)},
	q{SELECT tdgen.environment_by('sec_admin', 'x', 'prod', NULL, '{}', NULL)})
{
	($rc, $out, $err) = attempt('staging', $call, user => 'sec_admin');
	is(sqlstate($err), '42501', "D1: tdgen_admin may not call $call");
}
($rc, $out, $err) = attempt('staging', q{SELECT tdgen.refresh_build(1, '{"plan": [], "snap": {"indexes": [{"indexdef": "ALTER ROLE sec_admin SUPERUSER"}]}}')},
	user => 'sec_admin');
is(sqlstate($err), '42883', 'D1: no step takes plan state any more');
is(roles(), $roles, 'D1: no role gained anything');

# D3: fpe_decrypt through the dispatching transforms.
for my $call (q{SELECT tdgen.array_mask(ARRAY['4111111111111111'], 'fpe_decrypt')},
	q{SELECT tdgen.jsonb_mask('{"c": "4111111111111111"}', '{"$.c": "fpe_decrypt"}')})
{
	($rc, $out, $err) = attempt('staging', $call, user => 'sec_admin');
	is(sqlstate($err), '42501', "D3: $call is refused");
}

# D4: another role's schema as a target.
($rc, $out, $err) = attempt('staging', q{SELECT tdgen_environment('bill', 'prod', 'billing')}, user => 'sec_admin');
is(sqlstate($err), '42P06', "D4: another role's schema cannot be a target");
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('bill')}, user => 'sec_admin');
is(sqlstate($err), '42704', 'D4: so there is no environment bill to refresh');
is(sql('staging', q{SELECT count(*) FROM billing.invoices}), '2', "D4: the victim's table is untouched");
($rc, $out, $err) = attempt('staging', q{SELECT tdgen_environment('sec', 'prod', 'billing')}, user => 'sec_admin');
is(sqlstate($err), '42501', "D4: nor can tdgen_admin re-point someone else's environment");
($rc, $out, $err) = attempt('staging', q{SELECT tdgen_environment('mine', 'prod', owner => 'sec_victim')}, user => 'sec_admin');
is(sqlstate($err), '42501', 'D4: nor make a role it is no member of an owner');

# A view outside the target on one of its tables: refused with 2BP01
# listing it, the view and the target kept; dropped only when the
# environment says so.
sql('staging', q{CREATE VIEW public.sec_countries AS SELECT * FROM sec.countries});
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')});
is(sqlstate($err), '2BP01', 'a refresh that would drop a view outside its target is refused (2BP01)');
like($err, qr/view public\.sec_countries/, 'naming the view');
is(last_run(), 'failed 2BP01 postgres', 'and recorded as failed');
is(fingerprint(), $data, 'the target keeps its data');
is(sql('staging', q{SELECT count(*) FROM pg_views WHERE viewname = 'sec_countries'}), '1', 'the view is still there');
sql('staging', q{SELECT tdgen_environment('sec', 'prod', options => '{"jobs": 1, "drop_dependents": true}')});
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')});
is($rc, 0, 'with drop_dependents the refresh goes ahead') or diag($err);
is(sql('staging', q{SELECT count(*) FROM pg_views WHERE viewname = 'sec_countries'}), '0', 'and drops the view');
sql('staging', q{SELECT tdgen_environment('sec', 'prod', options => '{"jobs": 1}')});

# D2: production's copied expressions call functions of a schema the
# source does not list, which a staging role has planted functions of the
# same names in: a refresh makes production's own (in sec_util, owned by
# the environment's owner) and never reaches staging's.
sql('prod', q{
	CREATE ROLE sec_app;
	CREATE SCHEMA util;
	CREATE FUNCTION util.ok(v int) RETURNS boolean LANGUAGE sql IMMUTABLE RETURN v >= 0;
	CREATE FUNCTION util.k(v int) RETURNS int LANGUAGE sql IMMUTABLE RETURN v % 10;
	CREATE FUNCTION util.eq(a int, b int) RETURNS boolean LANGUAGE sql IMMUTABLE RETURN a = b;
	CREATE OPERATOR util.=== (FUNCTION = util.eq, LEFTARG = int, RIGHTARG = int);
	CREATE DOMAIN util.posint AS int CHECK (util.ok(VALUE));
	CREATE TABLE sec_checked (id int PRIMARY KEY, v int CHECK (util.ok(v)), w int CHECK (w OPERATOR(util.===) w),
		d util.posint, f int DEFAULT util.k(7));
	CREATE INDEX sec_checked_k ON sec_checked (util.k(v));
	ALTER TABLE sec_checked OWNER TO sec_app;
	INSERT INTO sec_checked VALUES (1, 1, 1, 1);
});
sql('staging', q{SELECT tdgen_keep('public.sec_checked.' || c, 'test data') FROM unnest(ARRAY['id', 'v', 'w', 'd', 'f']) AS c});
sql('staging', q{
	SET ROLE sec_stager;
	CREATE SCHEMA util;
	CREATE FUNCTION util.ok(v int) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN ALTER ROLE sec_stager SUPERUSER; RETURN true; END $$;
	CREATE FUNCTION util.k(v int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN ALTER ROLE sec_stager SUPERUSER; RETURN 1; END $$;
	CREATE FUNCTION util.eq(a int, b int) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN ALTER ROLE sec_stager SUPERUSER; RETURN true; END $$;
	CREATE OPERATOR util.=== (FUNCTION = util.eq, LEFTARG = int, RIGHTARG = int);
	CREATE DOMAIN util.posint AS int CHECK (util.ok(VALUE));
});
is(sql('staging', q{SELECT count(*) FROM tdgen_check('sec') WHERE problem = 'untrusted_code'}), '0',
	'D2: nothing untrusted: production\'s functions are made, not looked up');
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')});
is($rc, 0, 'D2: the refresh succeeds') or diag($err);
is(sql('staging', q{SELECT string_agg(pg_get_constraintdef(k.oid), ' ' ORDER BY k.conname) FROM pg_constraint AS k
	WHERE k.conrelid = 'sec.sec_checked'::regclass AND k.contype = 'c'}),
	'CHECK (sec_util.ok(v)) CHECK ((w OPERATOR(sec_util.===) w))', 'D2: the target\'s checks call production\'s functions, made in sec_util');
is(sql('staging', q{SELECT string_agg(DISTINCT p.proowner::regrole::text, ',') FROM pg_proc AS p WHERE p.pronamespace = 'sec_util'::regnamespace}),
	sql('staging', q{SELECT owner FROM tdgen.environment WHERE name = 'sec'}), 'D2: owned by the environment\'s owner');
is(roles(), $roles, 'D2: staging\'s planted functions never ran: no role gained anything');
($rc, $out, $err) = attempt('staging', q{SELECT tdgen_source('prod', 'prod', '{public}', trusted_schemas => '{util}')}, user => 'sec_admin');
is(sqlstate($err), '42501', 'D2: only a superuser may trust a schema');

# A function a refresh cannot make (internal, or C, outside an extension):
# refused by the gate, naming it, before anything is built.
sql('prod', q{CREATE FUNCTION util.absolute(int) RETURNS int LANGUAGE internal IMMUTABLE STRICT AS 'int4abs';
	CREATE OR REPLACE FUNCTION util.k(v int) RETURNS int LANGUAGE sql IMMUTABLE RETURN util.absolute(v) % 10});
my $problems = sql('staging', q{SELECT string_agg(detail, E'\n' ORDER BY detail) FROM tdgen_check('sec') WHERE problem = 'untrusted_code'});
is($problems, 'function util.absolute is written in internal, which a refresh cannot make outside an extension',
	'D2: tdgen_check names a function a refresh cannot make');
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')});
is(sqlstate($err), 'TG001', 'D2: the refresh is refused by the gate');
like($err, qr/untrusted_code: function util\.absolute/, 'D2: saying why');
is(last_run(), 'failed TG001 postgres', 'D2: recorded as failed');
sql('staging', q{SELECT tdgen_grant('sec', 'refresh', 'sec_refresher')});
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')}, user => 'sec_refresher');
is(sqlstate($err), 'TG001', 'D2: refused the same when a non-superuser starts the refresh');
is(last_run(), 'failed TG001 sec_refresher', 'D2: recorded with its role');
sql('staging', q{SELECT tdgen_revoke('sec', 'refresh', 'sec_refresher')});
is(roles(), $roles, 'D2: no role gained anything');
is(fingerprint(), $data, 'D2: the target keeps its data');
sql('prod', q{CREATE OR REPLACE FUNCTION util.k(v int) RETURNS int LANGUAGE sql IMMUTABLE RETURN v % 10; DROP FUNCTION util.absolute(int)});

# The second wall: once a superuser trusts util, production's util is not
# made and staging's functions of its names are used: the planted ones run
# during the load, as the environment's owner in a security-restricted
# operation: they cannot raise anyone's rights, and the refresh fails.
sql('staging', q{SELECT tdgen_source('prod', 'prod', '{public}', trusted_schemas => '{util}')});
is(sql('staging', q{SELECT count(*) FROM tdgen_check('sec') WHERE problem = 'untrusted_code'}), '0',
	'D2: with util trusted, tdgen_check finds nothing untrusted');
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')});
is(sqlstate($err), '42501', 'D2, second wall: the planted code runs as the owner and is refused (42501)');
is(last_run(), 'failed 42501 postgres', 'D2, second wall: recorded as failed');
is(roles(), $roles, 'D2, second wall: no role gained anything');
is(fingerprint(), $data, 'D2, second wall: the target keeps its data');
sql('staging', q{SELECT tdgen_source('prod', 'prod', '{public}', trusted_schemas => '{}')});
sql('staging', q{SELECT tdgen_table_mode('public.sec_checked', 'skip', 'sec')});
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')});
is($rc, 0, 'D2: with the table skipped the refresh succeeds') or diag($err);
is(roles(), $roles, 'D2: and no role gained anything');
sql('staging', q{DROP SCHEMA util CASCADE; SELECT tdgen_drop_table_mode('public.sec_checked', 'sec')});
sql('prod', q{DROP TABLE sec_checked; DROP SCHEMA util CASCADE; DROP ROLE sec_app});
sql('staging', q{SELECT tdgen_drop_rule('public.sec_checked.' || c) FROM unnest(ARRAY['id', 'v', 'w', 'd', 'f']) AS c});

# PostgreSQL's own errors quote keys.  A foreign key that the target's data
# breaks (its referenced table made empty) fails the refresh, in the
# refresh's backend (jobs 1) and in a background worker (jobs 2), without
# the key, production's canary, in the error, the run or the server log.
sql('prod', qq{CREATE TABLE sec_codes (code text PRIMARY KEY); INSERT INTO sec_codes VALUES ('$canary');
	CREATE TABLE sec_coded (id int PRIMARY KEY, code text REFERENCES sec_codes); INSERT INTO sec_coded VALUES (1, '$canary')});
sql('staging', q{SELECT tdgen_keep('public.sec_codes.code', 'test key'), tdgen_keep('public.sec_coded.id', 'test key');
	SELECT tdgen_table_mode('public.sec_codes', 'empty', 'sec')});
for my $jobs (1, 2)
{
	sql('staging', qq{SELECT tdgen_environment('sec', 'prod', options => '{"jobs": $jobs}')});
	($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')});
	is(sqlstate($err), '23503', "a foreign key the data breaks fails the refresh (jobs $jobs)");
	like($err, qr/foreign key sec_coded_code_fkey of table \S+ does not hold in the masked rows\n.*DETAIL:\s+1 row\(s\) of \S+ reference no row of /s,
		"naming the constraint and counting the rows, not quoting a key (jobs $jobs)");
	like($err, qr/CONTEXT:\s+refresh of environment sec, phase constraints, table public\.sec_coded\n/,
		"located: environment, phase and table (jobs $jobs)");
	unlike($err, qr/^(DETAIL|HINT):\s*$/m, "with no empty DETAIL or HINT (jobs $jobs)");
	unlike($err, qr/\Q$canary\E|Key \(/, "no key in the error (jobs $jobs)");
	unlike(sql('staging', q{SELECT message FROM tdgen.run WHERE environment = 'sec' ORDER BY id DESC LIMIT 1}), qr/\Q$canary\E/,
		"nor in the run (jobs $jobs)");
	is(fingerprint(), $data, "the target keeps its data (jobs $jobs)");
}
sql('staging', q{SELECT tdgen_environment('sec', 'prod', options => '{"jobs": 1}');
	SELECT tdgen_drop_table_mode('public.sec_codes', 'sec');
	SELECT tdgen_drop_rule(c) FROM unnest(ARRAY['public.sec_codes.code', 'public.sec_coded.id']) AS c});
sql('prod', q{DROP TABLE sec_coded, sec_codes});

# Production's own code quotes values too: a CHECK calling a production
# function that raises with the row's value (in the staging database only,
# so production holds the row) fails the refresh as the copy of that
# function runs during the load, without the value in the error.
sql('prod', qq{CREATE FUNCTION sec_plausible(v text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS \$\$
	BEGIN IF current_database() = 'staging' THEN RAISE EXCEPTION 'implausible value %', v; END IF; RETURN true; END \$\$;
	CREATE TABLE sec_noted (id int PRIMARY KEY, note text CHECK (sec_plausible(note))); INSERT INTO sec_noted VALUES (1, '$canary')});
sql('staging', q{SELECT tdgen_keep('public.sec_noted.' || c, 'test data') FROM unnest(ARRAY['id', 'note']) AS c});
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')});
is(sqlstate($err), 'P0001', "production's function raising on a loaded row fails the refresh with its SQLSTATE");
like($err, qr/production's code failed on a row being loaded.*CONTEXT:\s+refresh of environment sec, phase load, table public\.sec_noted\n/s,
	'saying so, located, its message withheld');
unlike($err, qr/\Q$canary\E|implausible/, 'no value and nothing of its message in the error');
unlike($err, qr/^(DETAIL|HINT):\s*$/m, 'no empty DETAIL or HINT');
is(fingerprint(), $data, 'the target keeps its data');
sql('staging', q{SELECT tdgen_drop_rule('public.sec_noted.' || c) FROM unnest(ARRAY['id', 'note']) AS c});
sql('prod', q{DROP TABLE sec_noted; DROP FUNCTION sec_plausible(text)});

# A unique key the masked rows break (fake emails cut to the column's one
# character repeat): the error counts the repeated values and quotes none.
sql('prod', qq{CREATE TABLE sec_short (id int PRIMARY KEY, tag varchar(1) UNIQUE);
	INSERT INTO sec_short SELECT i, chr(33 + i) FROM generate_series(1, 80) AS i});
sql('staging', q{SELECT tdgen_keep('public.sec_short.id', 'test key'), tdgen_rule('public.sec_short.tag', 'email')});
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')});
is(sqlstate($err), '23505', 'a unique key the masked rows break fails the refresh');
like($err, qr/key sec_short_tag_key of table \S+ does not hold in the masked rows\n.*DETAIL:\s+\d+ value\(s\) of \(tag\) appear more than once/s,
	'naming the key and counting the repeated values');
like($err, qr/CONTEXT:\s+refresh of environment sec, phase constraints, table public\.sec_short\n/, 'located');
unlike($err, qr/Key \(|\(tag\)=/, 'quoting no value');
is(fingerprint(), $data, 'the target keeps its data');
sql('staging', q{SELECT tdgen_drop_rule('public.sec_short.' || c) FROM unnest(ARRAY['id', 'tag']) AS c});
sql('prod', q{DROP TABLE sec_short});

# A production function that runs as its owner (SECURITY DEFINER) and runs
# what it is given: its copy runs as whoever calls it, so a reader of the
# target reaches nothing through it that the environment's owner may (the
# source's foreign tables, read with the owner's mapping, among them).
sql('prod', q{CREATE FUNCTION sec_exec(q text) RETURNS SETOF text LANGUAGE plpgsql SECURITY DEFINER
	AS $$ BEGIN RETURN QUERY EXECUTE q; END $$});
sql('staging', q{SELECT tdgen_grant('sec', 'read', 'sec_reader')});
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')});
is($rc, 0, 'a production function that runs as its owner is made') or diag($err);
is(sql('staging', q{SELECT prosecdef FROM pg_proc WHERE oid = 'sec.sec_exec(text)'::regprocedure}), 'f',
	'its copy runs as its caller (SECURITY INVOKER)');
my $foreign = sql('staging', q{SELECT format('%I.%I', s.local_schema, r.local_name) FROM tdgen.source AS s
	JOIN tdgen.source_relation AS r ON r.source = s.name WHERE s.name = 'prod' AND r.table_name = 'sec_people'});
($rc, $out, $err) = attempt('staging', "SELECT sec.sec_exec('SELECT email FROM $foreign')", user => 'sec_reader');
is(sqlstate($err), '42501', 'a reader calling it cannot read production through the owner');
unlike($out, qr/\Q$canary\E/, 'and gets no production value');
sql('staging', q{SELECT tdgen_revoke('sec', 'read', 'sec_reader')});
sql('prod', q{DROP FUNCTION sec_exec(text)});

# D5: production is read with the owner's user mapping.  An environment a
# tdgen_admin member made is its own; without a user mapping of its own
# the refresh fails, where it used to read with tdgen's owner's.
sql('staging', q{SELECT tdgen_environment('sec3', 'prod', options => '{"jobs": 1}')}, user => 'sec_admin');
is(sql('staging', q{SELECT owner FROM tdgen.environment WHERE name = 'sec3'}), 'sec_admin', 'D5: its creator owns sec3');
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec3')}, user => 'sec_admin');
is(sqlstate($err), '42704', "D5: without a user mapping of the owner's the refresh fails (42704)");
like($err, qr/user mapping not found for "sec_admin"/, "D5: naming the owner");
sql('staging', q{CREATE USER MAPPING FOR sec_admin SERVER prod OPTIONS (user 'postgres')});
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec3')}, user => 'sec_admin');
is(sqlstate($err), '2F003', "D5: postgres_fdw's password rule holds for the owner's mapping");
sql('staging', q{SELECT tdgen_drop_environment('sec3'); DROP USER MAPPING FOR sec_admin SERVER prod});

# An owner that has become a superuser: no refresh runs as it.
sql('staging', q{ALTER ROLE tdgen_sec_owner SUPERUSER});
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')});
is(sqlstate($err), '42501', 'a refresh refuses an owner that became a superuser');
sql('staging', q{ALTER ROLE tdgen_sec_owner NOSUPERUSER});

# The access matrix.
sql('staging', q{SELECT tdgen_environment('sec2', 'prod', options => '{"jobs": 1}')});
owner_mapping('sec2');
sql('staging', q{SELECT tdgen_grant('sec', 'refresh', 'sec_refresher'), tdgen_grant('sec', 'read', 'sec_reader')});
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')}, user => 'sec_reader');
is(sqlstate($err), '42501', 'a read grantee may not refresh');
is(last_run(), 'denied 42501 sec_reader', 'and the attempt is recorded as denied, with its role');
like($err, qr/environment 'sec'/, 'the error names the environment');
($rc, $out, $err) = attempt('staging', q{SELECT tdgen.email('a@b.c')}, user => 'sec_reader');
is(sqlstate($err), '42501', 'a read grantee may not call keyed transforms');
($rc, $out, $err) = attempt('staging', q{SELECT count(*) FROM tdgen_plan('sec')}, user => 'sec_reader');
is(sqlstate($err), '42501', 'nor see the plan');
for my $n (1 .. 3)
{
	($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')}, user => 'sec_refresher');
	is($rc, 0, "a refresh grantee refreshes sec (refresh $n)") or diag($err);
	is(sql('staging', q{SELECT count(*) > 0 FROM sec.customers}, user => 'sec_reader'), 't',
		"the read grantee reads the target after refresh $n");
}
is(last_run(), 'succeeded - sec_refresher', "the refresh grantee's runs are recorded with its role");
($rc, $out, $err) = attempt('staging', q{SELECT count(*) FROM sec.customers}, user => 'sec_refresher');
is(sqlstate($err), '42501', 'a refresh grantee may not read the target without read');
($rc, $out, $err) = attempt('staging', q{SELECT count(*) FROM tdgen.column_rule}, user => 'sec_refresher');
is(sqlstate($err), '42501', "nor the rules' parameters");
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec2')}, user => 'sec_refresher');
is(sqlstate($err), '42501', 'nor refresh another environment');
($rc, $out, $err) = attempt('staging', q{SELECT tdgen_grant('sec', 'read', 'sec_refresher')}, user => 'sec_refresher');
is(sqlstate($err), '42501', 'nor grant itself more');
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec2')});
is($rc, 0, 'sec2 refreshes') or diag($err);
($rc, $out, $err) = attempt('staging', q{SELECT count(*) FROM sec2.customers}, user => 'sec_reader');
is(sqlstate($err), '42501', "a read grantee of sec may not read sec2");
sql('staging', q{SELECT tdgen_revoke('sec', 'read', 'sec_reader')});
is(sql('staging', q{SELECT count(*) > 0 FROM sec.customers}, user => 'sec_reader'), 't', 'a revoke leaves the current target as it is');
($rc, $out, $err) = attempt('staging', q{CALL tdgen_refresh('sec')}, user => 'sec_refresher');
is($rc, 0, 'the next refresh') or diag($err);
($rc, $out, $err) = attempt('staging', q{SELECT count(*) FROM sec.customers}, user => 'sec_reader');
is(sqlstate($err), '42501', 'takes the revoked grant away');
# D6: a schema named after a role, first in that role's search_path,
# holding a tdgen_refresh of its own: the schema-qualified call the docs
# give for automation runs tdgen's.
sql('staging', q{SET ROLE sec_stager; CREATE SCHEMA postgres;
	CREATE PROCEDURE postgres.tdgen_refresh(environment text, wait boolean DEFAULT false)
	LANGUAGE plpgsql AS $$ BEGIN ALTER ROLE sec_stager SUPERUSER; END $$});
my $runs = sql('staging', q{SELECT count(*) FROM tdgen.run WHERE environment = 'sec'});
($rc, $out, $err) = attempt('staging', q{CALL public.tdgen_refresh('sec')});
is($rc, 0, "D6: CALL public.tdgen_refresh runs tdgen's refresh") or diag($err);
is(sql('staging', q{SELECT count(*) FROM tdgen.run WHERE environment = 'sec'}), $runs + 1, 'D6: and records its run');
is(roles(), $roles, 'D6: no role gained anything');
sql('staging', q{DROP SCHEMA postgres CASCADE});

like(sql('staging', q{SELECT tdgen_export_rules()}), qr/SELECT tdgen_grant\('sec', 'refresh', 'sec_refresher'\);/,
	'grants are exported with the rules');
is(roles(), $roles, 'no role gained anything through the whole scenario');
is(sql('staging', q{SELECT count(*) FROM sec.sec_people WHERE email LIKE 'canary-010-%'}), '0', 'the canary was masked');
my $dump = `pg_dump -d staging 2>&1`;
unlike($dump, qr/\Q$canary\E/, 'no canary in a dump of staging');
unlike(server_log(), qr/\Q$canary\E/, 'no canary in the server log');
unlike(join("\n", @messages), qr/\Q$canary\E/, 'no canary in any message an attempt got back');

sql('staging', q{SELECT tdgen_drop_environment('sec'), tdgen_drop_environment('sec2');
	DROP OWNED BY sec_admin, sec_stager, sec_victim, sec_reader, sec_refresher, tdgen_sec_owner, tdgen_sec2_owner;
	DROP ROLE sec_admin, sec_stager, sec_victim, sec_reader, sec_refresher, tdgen_sec_owner, tdgen_sec2_owner;
	SELECT tdgen_drop_rule('public.sec_people.' || c) FROM unnest(ARRAY['id', 'email']) AS c});
sql('prod', q{DROP TABLE sec_people});

done_testing();
