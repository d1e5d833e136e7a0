# ----------------------------------------------------------------------------
# Rules against a real production database: the scan finds the sensitive
# columns of the demo data (the labelled corpora are 012_scan_corpus.pl's),
# accepted suggestions and keeps make the gate pass, a new production column makes
# it refuse with TG001, an alert row and a NOTIFY, dropped and retyped
# columns are reported, and pg_dump of staging carries every rule but no key
# and no production value.
# ----------------------------------------------------------------------------
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use TdgenTest;

# The sensitive columns of the demo data (full_name is generated from the
# name columns, so it needs no rule of its own).
my @demo_sensitive = map { "public.$_" } qw(
	addresses.street addresses.city addresses.state addresses.zip
	customer_events.ip
	customers.first_name customers.last_name customers.email customers.phone customers.birth_date
	customers.ssn customers.signup_ip customers.notes customers.profile customers.other_emails
	employees.first_name employees.last_name employees.email employees.ssn employees.salary
	payment_cards.card_number payment_cards.cardholder);
# Columns a reviewer could count either way: masking them is no mistake.
my %demo_either = map { ("public.$_" => 1) } qw(
	customer_events.user_agent customer_events.occurred_at employees.hired_on);

# Recall and precision of a scan against the sensitive columns (columns
# that could go either way count neither way).
sub scan_figures
{
	my ($db, $source, $truth, $either) = @_;
	my %sensitive = map { $_ => 1 } @$truth;
	my @found = grep { !$either->{$_} }
		split /\n/, sql($db, "SELECT column_name FROM tdgen_scan('$source') WHERE category IS NOT NULL");
	my $hits = grep { $sensitive{$_} } @found;
	my @missed = grep { my $c = $_; !grep { $_ eq $c } @found } @$truth;
	my @wrong = grep { !$sensitive{$_} } @found;
	note("$source: found " . scalar(@found) . ", missed: @missed; not sensitive: @wrong");
	return (@$truth ? $hits / @$truth : 0, @found ? $hits / @found : 0);
}

sql('staging', q{SELECT tdgen_source('prod', 'prod')});
sql('staging', q{SELECT tdgen_environment('qa', 'prod')});

# The scan: suggestions only, nothing of the sampled values shown.
my ($recall, $precision) = scan_figures('staging', 'prod', \@demo_sensitive, \%demo_either);
cmp_ok($recall, '>=', 0.95, sprintf('scan recall on the demo data: %.0f%%', 100 * $recall));
cmp_ok($precision, '>=', 0.85, sprintf('scan precision on the demo data: %.0f%%', 100 * $precision));
my $sample_email = sql('prod', 'SELECT email FROM customers ORDER BY id LIMIT 1');
unlike(sql('staging', q{SELECT string_agg(concat_ws(' ', column_name, params, reason), E'\n') FROM tdgen_scan('prod')}),
	qr/\Q$sample_email\E/, 'no sampled value appears in the scan output');
is(sql('staging', q{SELECT params FROM tdgen_scan('prod') WHERE column_name = 'public.customers.other_emails'}),
	'{"params": {}, "transform": "email"}', 'a text[] of emails gets array_mask with email');
like(sql('staging', q{SELECT params FROM tdgen_scan('prod') WHERE column_name = 'public.customers.profile'}),
	qr/"\$\.contact\.email": "email"/, 'a jsonb profile gets a jsonb_mask spec for its personal fields');

like(sql('staging', q{SELECT evidence FROM tdgen_scan('prod') WHERE column_name = 'public.customers.email'}),
	qr/"values": \{"email": \d+, "sampled": \d+\}/, 'the evidence gives the signals with counts');

# Accept the suggestions and the keeps the scan has evidence for; the
# columns it is unsure about stay unreviewed until a person decides.
my $sensitive_list = join(',', map { "'$_'" } @demo_sensitive);
is(sql('staging', qq{SELECT count(*) FILTER (WHERE action = 'mask' AND column_name IN ($sensitive_list)),
	count(*) FILTER (WHERE action = 'keep' AND column_name IN ($sensitive_list)) FROM tdgen_accept('prod')}),
	scalar(@demo_sensitive) . '|0', 'tdgen_accept writes a rule for every sensitive column and keeps none');
my $unreviewed = sql('staging', q{SELECT count(*) FROM tdgen_check('qa') WHERE problem = 'unreviewed'});
cmp_ok($unreviewed, '>', 0, 'the columns the scan is unsure about still need review');
is(sql('staging', q{SELECT count(*) FROM tdgen_scan('prod') WHERE verdict NOT IN ('review', 'inherit')}), '0',
	'and the scan lists just those now');
sql('staging', q{SELECT tdgen_keep(column_name, 'reviewed: nothing personal') FROM tdgen_check('qa') WHERE problem = 'unreviewed'});
is(sql('staging', q{SELECT count(*) FROM tdgen_check('qa')}), '0', 'with every column reviewed the check is clean');
my ($rc, $out, $err) = sql_result('staging', q{CALL tdgen_gate('qa')});
is($rc, 0, 'and the gate passes');

# A new production column: an alert, then a refusal naming it.
sql('prod', q{ALTER TABLE customers ADD COLUMN passport_no text});
sql('prod', q{UPDATE customers SET passport_no = 'P' || lpad(id::text, 8, '0') WHERE id % 3 = 0});
my $alerts_before = sql('staging', 'SELECT count(*) FROM tdgen.alert');
($rc, $out, $err) = sql_result('staging', ['LISTEN tdgen_alert', q{CALL tdgen_gate('qa')}]);
is(sqlstate($err), 'TG001', 'the gate refuses with TG001');
like($err, qr/1 problem\(s\) with the rules of environment 'qa'/, 'its message counts the problems');
like($err, qr/DETAIL:\s+unreviewed: text column public\.customers\.passport_no has neither a rule nor a keep; looks like passport/,
	'its DETAIL names the new column and its category');
like($err, qr/HINT:.*\n\s*SELECT tdgen_rule\('public\.customers\.passport_no', 'scramble'\);/s,
	'its HINT suggests the passport rule');
like($out, qr/Asynchronous notification "tdgen_alert" with payload ".*"kind": "gate_refused"/,
	'the refusal is sent as NOTIFY tdgen_alert');
is(sql('staging', "SELECT string_agg(kind, ',' ORDER BY id) FROM tdgen.alert WHERE id > (SELECT max(id) - 2 FROM tdgen.alert)"),
	'new_column,gate_refused', 'the new column and the refusal are alert rows that outlive the error');
cmp_ok(sql('staging', 'SELECT count(*) FROM tdgen.alert'), '==', $alerts_before + 2, 'two alerts, no more');
unlike($err . $out, qr/P0000000/, 'no production value in the error or the notification');

is(sql('staging', q{SELECT problem || ': ' || suggestion FROM tdgen_check('qa')}),
	q{unreviewed: SELECT tdgen_rule('public.customers.passport_no', 'scramble');},
	'tdgen_check names it and suggests the passport rule');
sql('staging', q{SELECT tdgen_rule('public.customers.passport_no', 'scramble')});
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_gate('qa')});
is($rc, 0, 'after tdgen_rule the gate passes again');

# A non-injective rule on a unique column, dropped and retyped columns.
sql('staging', q{SELECT tdgen_rule('public.customers.email', 'lorem')});
is(sql('staging', q{SELECT problem FROM tdgen_check('qa') WHERE column_name = 'public.customers.email'}),
	'not_injective', 'a non-injective rule on a UNIQUE column is reported');
sql('staging', q{SELECT tdgen_rule('public.customers.email', 'email')});
sql('prod', q{ALTER TABLE customers DROP COLUMN passport_no});
sql('prod', q{ALTER TABLE customers ALTER COLUMN notes TYPE varchar(2000)});
is(sql('staging', q{SELECT string_agg(problem || ' ' || column_name, ', ' ORDER BY column_name) FROM tdgen_check('qa')}),
	'type_changed public.customers.notes, column_gone public.customers.passport_no',
	'a dropped and a retyped ruled column are reported');
sql('prod', q{ALTER TABLE customers ALTER COLUMN notes TYPE text});
sql('staging', q{SELECT tdgen_drop_rule('public.customers.passport_no')});
is(sql('staging', q{SELECT count(*) FROM tdgen_check('qa')}), '0', 'back to a clean check');

# Rules on a schema the source no longer reads are gone too.
sql('staging', q{SELECT tdgen_rule('billing.invoices.payer_email', 'email'), tdgen_keep('billing.invoices.total', 'an amount', 'qa')});
is(sql('staging', q{SELECT string_agg(detail, E'\n' ORDER BY detail) FROM tdgen_check('qa') WHERE problem = 'column_gone'}),
	"rule on billing.invoices.payer_email, whose schema billing no environment's source reads\n"
	. "rule on billing.invoices.total, whose schema billing source prod does not read",
	'a rule on a schema no source reads, and one of the environment on a schema its source does not read, are reported');
sql('staging', q{SELECT tdgen_drop_rule('billing.invoices.payer_email'), tdgen_drop_rule('billing.invoices.total', 'qa')});
is(sql('staging', q{SELECT count(*) FROM tdgen_check('qa')}), '0', 'clean again');

# A key masked on its primary key is masked alike on the foreign keys that
# reference it: an own rule that differs there is reported, and without one
# the foreign key column takes the key's rule.
sql('staging', q{SELECT tdgen_keep(c, 'reviewed: surrogate key') FROM unnest(ARRAY['public.addresses.customer_id', 'public.orders.customer_id']) AS c});
sql('staging', q{SELECT tdgen_rule('public.customers.id', 'pseudo_int')});
like(sql('staging', q{SELECT string_agg(problem || ' ' || column_name, ', ' ORDER BY column_name) FROM tdgen_check('qa')}),
	qr/^foreign_key public\.addresses\.customer_id, .*foreign_key public\.orders\.customer_id/,
	'a keep on a foreign key to a masked key is reported');
sql('staging', q{SELECT tdgen_drop_rule(column_name) FROM tdgen_check('qa') WHERE problem = 'foreign_key'});
is(sql('staging', q{SELECT count(*) FROM tdgen_check('qa')}), '0', 'without their own rule the foreign keys take the key\'s');
sql('staging', q{SELECT tdgen_keep('public.customers.id', 'reviewed: surrogate key')});
sql('staging', q{SELECT tdgen_keep(column_name, 'reviewed: surrogate key') FROM tdgen_check('qa') WHERE problem = 'unreviewed'});

# Table modes and environment overrides: a skipped table needs no rules, in
# the environment that skips it.
sql('prod', q{ALTER TABLE customer_events ADD COLUMN device_note text});
is(sql('staging', q{SELECT column_name FROM tdgen_check('qa')}), 'public.customer_events.device_note',
	'a new column of a copied table is unreviewed');
sql('staging', q{SELECT tdgen_environment('qa_small', 'prod')});
sql('staging', q{SELECT tdgen_table_mode('public.customer_events', 'skip', 'qa_small')});
is(sql('staging', q{SELECT count(*) FROM tdgen_check('qa_small')}), '0', 'an environment that skips the table needs no rule for it');
is(sql('staging', q{SELECT count(*) FROM tdgen_check('qa')}), '1', 'the other environment still does');
sql('staging', q{SELECT tdgen_keep('public.customer_events.device_note', 'free text of the app, no person', 'qa')});
is(sql('staging', q{SELECT count(*) FROM tdgen_check('qa')}), '0', 'a keep for one environment settles it there');
sql('prod', q{ALTER TABLE customer_events DROP COLUMN device_note});
sql('staging', q{SELECT tdgen_drop_rule('public.customer_events.device_note', 'qa')});
is(sql('staging', q{SELECT count(*) FROM tdgen_check('qa')}), '0', 'clean again');

# Rights: an ordinary role may not write rules or run the gate.
sql('postgres', 'DROP ROLE IF EXISTS rules_outsider; CREATE ROLE rules_outsider LOGIN');
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen_rule('public.customers.ssn', 'hash')}, user => 'rules_outsider');
is(sqlstate($err), '42501', 'a role without rights cannot write a rule (42501)');
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_gate('qa')}, user => 'rules_outsider');
is(sqlstate($err), '42501', 'nor run the gate');
sql('postgres', 'DROP ROLE rules_outsider');

# pg_dump of staging: every rule restores; no key, no production value.
my $dir = tempdir(CLEANUP => 1);
chmod 0777, $dir;
system('pg_dump', '-d', 'staging', '-f', "$dir/staging.sql") == 0 or die "pg_dump failed\n";
my $dump = do { local $/; open my $fh, '<', "$dir/staging.sql" or die $!; <$fh> };
my @key_hex = map { (split /:/)[1] } grep { /^\d+:/ } split /\n/, do {
	open my $fh, '<', 'test/fixtures/test.key' or die $!;
	local $/;
	<$fh>;
};
ok(!(grep { index($dump, $_) >= 0 } @key_hex), 'the dump holds no key');
unlike($dump, qr/\Q$sample_email\E/, 'the dump holds no production value');
sql('postgres', 'DROP DATABASE IF EXISTS restored');
sql('postgres', 'CREATE DATABASE restored');
($rc, $out, $err) = sql_result('restored', ["\\i $dir/staging.sql"]);
is($rc, 0, 'the dump restores into a fresh database') or diag($err);
is(sql('restored', q{SELECT count(*) FROM tdgen.column_rule}), sql('staging', q{SELECT count(*) FROM tdgen.column_rule}),
	'every rule is there');
is(sql('restored', q{SELECT regexp_replace(tdgen_export_rules(), '^[^\n]*\n', '')}),
	sql('staging', q{SELECT regexp_replace(tdgen_export_rules(), '^[^\n]*\n', '')}),
	'with every rule, keep and table mode intact');
is(sql('restored', q{SELECT count(*) FROM tdgen.category WHERE builtin}),
	sql('staging', q{SELECT count(*) FROM tdgen.category WHERE builtin}), 'and the built-in categories once');
sql('postgres', 'DROP DATABASE restored');

# A sampled value that cannot be read as jsonb would be quoted by its
# error: the scan judges that column by its name alone and goes on.
sql('prod', q{CREATE TABLE scan_oddities (id int PRIMARY KEY, payload json)});
sql('prod', q{INSERT INTO scan_oddities VALUES (1, '{"email": "oddity\\u0000@example.com"}')});
($rc, $out, $err) = sql_result('staging', q{SELECT column_name, category FROM tdgen_scan('prod') WHERE column_name LIKE '%scan_oddities%'});
is($rc, 0, 'a JSON value that does not convert does not stop the scan');
unlike($out . $err, qr/oddity/, 'nor shows up in its output or error');
sql('prod', q{DROP TABLE scan_oddities});

# Extensions production's tables need and staging lacks are problems of
# the check, found before any work: a column of an extension's type (an
# array of one too) and an index with an extension's operator class.
sql('prod', q{CREATE EXTENSION hstore; CREATE EXTENSION btree_gist;
	CREATE TABLE ext_rooms (id int PRIMARY KEY, tags hstore, alts hstore[]); CREATE INDEX ext_rooms_gist ON ext_rooms USING gist (id)});
sql('staging', q{SELECT tdgen_keep('public.ext_rooms.' || c, 'test data') FROM unnest(ARRAY['id', 'tags', 'alts']) AS c});
is(sql('staging', q{SELECT string_agg(detail || ' => ' || suggestion, E'\n' ORDER BY detail) FROM tdgen_check('qa') WHERE problem = 'missing_extension'}),
	join("\n", 'column alts of table public.ext_rooms uses extension hstore 1.8, which the staging database does not have => CREATE EXTENSION hstore;',
		'column tags of table public.ext_rooms uses extension hstore 1.8, which the staging database does not have => CREATE EXTENSION hstore;',
		'index public.ext_rooms_gist uses extension btree_gist 1.7, which the staging database does not have => CREATE EXTENSION btree_gist;'),
	'the check names each extension staging lacks, its version, what uses it, and the statement that adds it');
($rc, $out, $err) = sql_result('staging', q{CALL tdgen_gate('qa')});
is(sqlstate($err), 'TG001', 'the gate refuses while one is missing');
unlike($err, qr/looks like\s+\(\)/, 'with no empty "looks like" in its lines');
sql('staging', q{SELECT tdgen_table_mode('public.ext_rooms', 'skip', 'qa')});
is(sql('staging', q{SELECT count(*) FROM tdgen_check('qa') WHERE problem = 'missing_extension'}), '0', 'a skipped table needs nothing');
sql('staging', q{SELECT tdgen_drop_table_mode('public.ext_rooms', 'qa'); CREATE EXTENSION hstore; CREATE EXTENSION btree_gist});
is(sql('staging', q{SELECT count(*) FROM tdgen_check('qa') WHERE problem = 'missing_extension'}), '0', 'nor once staging has them');
sql('staging', q{SELECT tdgen_drop_rule('public.ext_rooms.' || c) FROM unnest(ARRAY['id', 'tags', 'alts']) AS c;
	DROP EXTENSION hstore; DROP EXTENSION btree_gist});
sql('prod', q{DROP TABLE ext_rooms; DROP EXTENSION hstore; DROP EXTENSION btree_gist});

# A birth part is masked with the birth date of its row: the scan names
# the row's date and part columns in the rule; a rule naming a column the
# table lacks is a problem, and bad parameters are refused when written.
sql('prod', q{CREATE TABLE born (id int PRIMARY KEY, dob date, birth_year int, birth_month int)});
sql('prod', q{INSERT INTO born SELECT i, DATE '1950-01-01' + i * 97, 1950 + i / 4, 1 + i % 12 FROM generate_series(1, 100) AS i});
is(sql('staging', q{SELECT params FROM tdgen_scan('prod') WHERE column_name = 'public.born.birth_month'}),
	'{"born": "dob", "part": "month", "year": "birth_year", "month": "birth_month"}',
	'the scan gives a birth part the row\'s date and its other parts');
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen_rule('public.born.birth_month', 'birth_part', '{"part": "week"}')});
is(sqlstate($err), '22023', 'a part that is not year, month or day is refused');
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen_rule('public.born.birth_month', 'birth_part', '{"part": "month", "born": 5}')});
is(sqlstate($err), '22023', 'so is a column parameter that is not a name');
sql('staging', q{SELECT tdgen_rule('public.born.birth_month', 'birth_part', '{"part": "month", "born": "date_of_birth"}'),
	tdgen_keep('public.born.id', 'key'), tdgen_rule('public.born.dob', 'birth_date'),
	tdgen_rule('public.born.birth_year', 'birth_part', '{"part": "year", "born": "dob"}')});
is(sql('staging', q{SELECT problem || ': ' || detail FROM tdgen_check('qa')}),
	'column_gone: parameter born of its birth_part rule names column date_of_birth, which table public.born does not have',
	'a rule naming a column its table lacks is reported');
sql('staging', q{SELECT tdgen_drop_rule('public.born.' || c) FROM unnest(ARRAY['id', 'dob', 'birth_year', 'birth_month']) AS c});
sql('prod', q{DROP TABLE born});

done_testing();
