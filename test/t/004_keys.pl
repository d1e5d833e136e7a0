# ----------------------------------------------------------------------------
# The masking key: the same key gives the same outputs everywhere; no role
# but a superuser can read it or its location; keyed transforms are for
# tdgen_admin only; a missing, exposed or malformed key file stops every
# keyed transform with a clear error that quotes nothing of the file.
# ----------------------------------------------------------------------------
use strict;
use warnings;
use Test::More;
use TdgenTest;

my $key_file = "$ENV{TDGEN_CLUSTER_DIR}/data/tdgen.key";
my @key_hex = map { (split /:/)[1] } grep { /^\d+:/ } split /\n/, do {
	open my $fh, '<', 'test/fixtures/test.key' or die $!;
	local $/;
	<$fh>;
};
is(scalar @key_hex, 2, 'the test key file has two versions');

my $probe = q{SELECT tdgen.email('alice@example.com') || ' ' || tdgen.phone('+1 617 555 0134') || ' ' || tdgen.hash('alice')};
my $expected = sql('staging', $probe);

# Same key, same outputs: another session, another database, a restart.
is(sql('staging', $probe), $expected, 'another session gives the same outputs');
sql('postgres', 'DROP DATABASE IF EXISTS keycheck');
sql('postgres', 'CREATE DATABASE keycheck');
sql('keycheck', 'SET client_min_messages = warning; CREATE EXTENSION tdgen CASCADE');
is(sql('keycheck', $probe), $expected, 'another database gives the same outputs');
restart_server('fast');
is(sql('staging', $probe), $expected, 'outputs survive a server restart');

# Roles: an ordinary login, and one that is a member of tdgen_admin.
sql('postgres', q{
	DROP ROLE IF EXISTS key_reader;
	DROP ROLE IF EXISTS key_admin;
	CREATE ROLE key_reader LOGIN;
	CREATE ROLE key_admin LOGIN IN ROLE tdgen_admin;
	GRANT CREATE ON DATABASE staging TO key_reader;
});

my ($rc, $out, $err) = sql_result('staging', q{SELECT tdgen.hash('x')}, user => 'key_reader');
is(sqlstate($err), '42501', 'an ordinary role may not run a keyed transform');
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen.email('x@y.z')}, user => 'key_reader');
is(sqlstate($err), '42501', 'nor email');
is(sql('staging', q{SELECT tdgen.partial('secret')}, user => 'key_reader'), '**cret',
	'an ordinary role may run an unkeyed transform');
is(sql('staging', $probe, user => 'key_admin'), $expected, 'a member of tdgen_admin may run keyed transforms');
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen.fpe_decrypt('0690473225995708')}, user => 'key_admin');
is(sqlstate($err), '42501', 'fpe_decrypt is for superusers only');
like(sql('staging', 'SELECT version || fingerprint FROM tdgen_key_status()', user => 'key_admin'),
	qr/^2[0-9a-f]{16}$/, 'tdgen_admin sees the key version and fingerprint');

# Neither role can reach the key or where it lives: before the library is
# loaded in a session the setting does not exist, after it is hidden.
for my $role (qw(key_reader key_admin))
{
	($rc, $out, $err) = sql_result('staging', 'SHOW tdgen.key_file', user => $role);
	is(sqlstate($err), '42704', "$role: before tdgen is loaded, tdgen.key_file is unknown");
	($rc, $out, $err) = sql_result('staging', q{SELECT tdgen.partial('x'); SHOW tdgen.key_file}, user => $role);
	is(sqlstate($err), '42501', "$role: once it is loaded, SHOW tdgen.key_file is refused");
	($rc, $out, $err) = sql_result('staging', q{SELECT tdgen.partial('x'); SELECT current_setting('tdgen.key_file')}, user => $role);
	is(sqlstate($err), '42501', "$role: current_setting is refused");
	is(sql('staging', q{SELECT count(*) FROM pg_settings WHERE name LIKE 'tdgen.key%file'}, user => $role),
		'0', "$role: pg_settings does not list the key file");
	($rc, $out, $err) = sql_result('staging', qq{SELECT pg_read_file('$key_file')}, user => $role);
	is(sqlstate($err), '42501', "$role: pg_read_file is refused");
	($rc, $out, $err) = sql_result('staging', q{SELECT tdgen.partial('x'); SET tdgen.key_version = 1}, user => $role);
	is(sqlstate($err), '42501', "$role: may not choose the key version");
	($rc, $out, $err) = sql_result('staging', q{ALTER ROLE CURRENT_USER SET tdgen.key_file = '/tmp/x'}, user => $role);
	isnt($rc, 0, "$role: may not point tdgen.key_file elsewhere");
}

# A key version set before the library loads is dropped when it loads.
($rc, $out, $err) = sql_result('staging', q{SET tdgen.key_version = 1; SELECT tdgen.hash('alice')}, user => 'key_admin');
is($out, sql('staging', q{SELECT tdgen.hash('alice')}), 'an early SET of the key version by a non-superuser has no effect');
like($err, qr/permission denied to set parameter "tdgen.key_version"/, 'and is reported');

# Nowhere in the database, its dump, its settings or its log.
my $dump = '';
IPC::Run::run(['pg_dump', '-d', 'staging'], '<', \'', '>', \$dump, '2>', \my $dump_err);
ok(length($dump) > 1000, 'pg_dump of staging ran');
my $settings = sql('staging', q{SELECT coalesce(string_agg(array_to_string(setconfig, ' '), ' '), '') FROM pg_db_role_setting});
my $activity = sql('staging', q{SELECT string_agg(coalesce(query, ''), ' ') FROM pg_stat_activity});
my $catalog = sql('staging', q{SELECT string_agg(s::text, ' ') FROM (SELECT * FROM tdgen.transform) AS s});
for my $hex (@key_hex)
{
	my $short = substr($hex, 0, 16);
	unlike($dump, qr/$short/i, 'no key in pg_dump output');
	unlike($settings, qr/$short/i, 'no key in pg_db_role_setting');
	unlike($activity, qr/$short/i, 'no key in pg_stat_activity');
	unlike($catalog, qr/$short/i, 'no key in the catalog views');
	unlike(server_log(), qr/$short/i, 'no key in the server log');
}

# Failure modes.  Each change takes effect in new sessions after a reload.
sub reload_with
{
	my ($setting) = @_;
	sql('staging', ["LOAD 'tdgen'",
					defined $setting ? "ALTER SYSTEM SET tdgen.key_file = '$setting'" : 'ALTER SYSTEM RESET tdgen.key_file']);
	sql('postgres', 'SELECT pg_reload_conf()');
	poll_until('staging', q{SELECT tdgen.partial('x'); SELECT current_setting('tdgen.key_file')}, $setting // '', 10);
}

rename $key_file, "$key_file.away" or die "rename: $!";
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen.hash('x')});
is(sqlstate($err), '55000', 'no key file: 55000');
like($err, qr/HINT:.*tdgen\.key/, 'with a hint that says how to create one');
rename "$key_file.away", $key_file or die "rename: $!";

my $bad = "$ENV{TDGEN_CLUSTER_DIR}/bad.key";
sub write_key
{
	my ($content, $mode) = @_;
	open my $fh, '>', $bad or die $!;
	print $fh $content;
	close $fh;
	chmod $mode, $bad;
	system('chown', 'postgres', $bad) if $> == 0;
}

write_key("1:$key_hex[0]\n", 0644);
reload_with($bad);
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen.hash('x')});
is(sqlstate($err), '42501', 'a key file others can read is refused: 42501');
unlike($err, qr/$key_hex[0]/, 'the message quotes nothing of the file');

write_key("1:$key_hex[0]\n2:not-a-key-SECRETBYTES\n", 0600);
reload_with($bad);
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen.hash('x')});
is(sqlstate($err), 'F0000', 'a malformed key file is refused: F0000');
like($err, qr/line 2/, 'the message names the line');
unlike($err, qr/SECRETBYTES|$key_hex[0]/, 'but quotes nothing of it');

reload_with("$ENV{TDGEN_CLUSTER_DIR}/no-such.key");
($rc, $out, $err) = sql_result('staging', q{SELECT tdgen.hash('x')});
is(sqlstate($err), '55000', 'a missing key file: 55000');

reload_with(undef);
is(sql('staging', $probe), $expected, 'with the key file back, the same outputs');

unlink $bad;
sql('postgres', 'DROP DATABASE keycheck');
sql('staging', 'REVOKE CREATE ON DATABASE staging FROM key_reader');
sql('postgres', 'DROP ROLE key_reader; DROP ROLE key_admin');
done_testing();
