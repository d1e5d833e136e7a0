# ----------------------------------------------------------------------------
# Subsets: a refresh with targets loads a referentially closed subset
# (every foreign key is added after the load and holds), exactly the rows
# the closure says: targets, children of targets and of rows reached
# downward, parents of everything.  Shapes: a chain, a diamond, a
# self-reference 10,000 deep, a NOT NULL cycle, a composite foreign key to
# a UNIQUE key that is not the primary key, MATCH SIMPLE with a NULL
# column, a table without a primary key, a foreign key on one partition,
# lookup and unreached tables, limit with ties, percent 0 and 100; the
# parent-only guard on the demo shop; caps; the same rows every refresh;
# who may configure a subset.
# ----------------------------------------------------------------------------
use strict;
use warnings;
use Test::More;
use File::Basename ();
use File::Find ();
use TdgenTest;

# files_holding($dir, $text) -> the files under $dir whose bytes hold $text
sub files_holding
{
	my ($dir, $text) = @_;
	my @found;
	return () unless -d $dir;
	File::Find::find({ no_chdir => 1, wanted => sub {
		return unless -f $_;
		open my $fh, '<:raw', $_ or return;
		local $/;
		my $bytes = <$fh>;
		push @found, $_ if index($bytes, $text) >= 0;
	} }, $dir);
	return @found;
}

# wal_holds($from, $to, $text) -> whether the WAL written between two LSNs
# (of timeline 1, 16 MB segments; before a checkpoint recycles them) holds
# $text: the bytes in between only, for a segment may be a recycled one
# with older records past its end
sub wal_holds
{
	my ($from, $to, $text) = @_;
	my $lsn = sub { my ($hi, $lo) = split m{/}, shift; return hex($hi) * 2**32 + hex($lo); };
	my ($start, $end) = ($lsn->($from), $lsn->($to));
	my $seg = 16 * 1024 * 1024;
	my $bytes = '';
	for (my $n = int($start / $seg); $n <= int($end / $seg); $n++)
	{
		my $file = sprintf('%s/pg_wal/%08X%08X%08X', "$ENV{TDGEN_CLUSTER_DIR}/data", 1, int($n / 256), $n % 256);
		open my $fh, '<:raw', $file or die "WAL segment $file: $!\n";
		local $/;
		my $all = <$fh>;
		my $first = $n == int($start / $seg) ? $start % $seg : 0;
		my $last = $n == int($end / $seg) ? $end % $seg : $seg;
		$bytes .= substr($all, $first, $last - $first);
	}
	return index($bytes, $text) >= 0 ? 1 : 0;
}

sql('postgres', 'DROP DATABASE IF EXISTS shapes');
sql('postgres', 'CREATE DATABASE shapes');
sql('shapes', q{CREATE SCHEMA shapes; SET search_path = shapes;
	-- a chain and a diamond: d references b and c, both reference a
	CREATE TABLE a (id int PRIMARY KEY, note text);
	CREATE TABLE b (id int PRIMARY KEY, a_id int NOT NULL REFERENCES a);
	CREATE TABLE c (id int PRIMARY KEY, a_id int NOT NULL REFERENCES a);
	CREATE TABLE d (id int PRIMARY KEY, b_id int NOT NULL REFERENCES b, c_id int NOT NULL REFERENCES c);
	INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 100) AS g;
	INSERT INTO b SELECT g, g FROM generate_series(1, 100) AS g;
	INSERT INTO c SELECT g, 101 - g FROM generate_series(1, 100) AS g;
	INSERT INTO d SELECT g, g, g FROM generate_series(1, 100) AS g;
	-- a self-reference 10,000 deep
	CREATE TABLE node (id int PRIMARY KEY, parent_id int REFERENCES node);
	INSERT INTO node SELECT g, nullif(g - 1, 0) FROM generate_series(1, 10000) AS g;
	-- a two-table NOT NULL cycle
	CREATE TABLE team (id int PRIMARY KEY, captain_id int NOT NULL);
	CREATE TABLE player (id int PRIMARY KEY, team_id int NOT NULL REFERENCES team);
	ALTER TABLE team ADD FOREIGN KEY (captain_id) REFERENCES player DEFERRABLE INITIALLY DEFERRED;
	BEGIN;
	INSERT INTO team SELECT g, g * 10 FROM generate_series(1, 20) AS g;
	INSERT INTO player SELECT t * 10 + k, t FROM generate_series(1, 20) AS t, generate_series(0, 9) AS k;
	COMMIT;
	-- a composite foreign key to a UNIQUE key that is not the primary key,
	-- MATCH SIMPLE, one column NULL in some rows
	CREATE TABLE region (id int PRIMARY KEY, country text NOT NULL, code text NOT NULL, UNIQUE (country, code));
	CREATE TABLE shop (id int PRIMARY KEY, country text, code text, FOREIGN KEY (country, code) REFERENCES region (country, code));
	INSERT INTO region SELECT g, 'c' || (g % 5), 'r' || g FROM generate_series(1, 50) AS g;
	INSERT INTO shop SELECT g, 'c' || (g % 5), CASE WHEN g % 3 = 0 THEN NULL ELSE 'r' || g END FROM generate_series(1, 50) AS g;
	-- a table without a primary key, reached by two edges
	CREATE TABLE tag (label text NOT NULL, a_id int REFERENCES a, d_id int REFERENCES d);
	INSERT INTO tag SELECT 'x' || g, g, 101 - g FROM generate_series(1, 100) AS g;
	-- a foreign key declared on one partition only
	CREATE TABLE event (id int NOT NULL, kind text NOT NULL, a_id int, PRIMARY KEY (id, kind)) PARTITION BY LIST (kind);
	CREATE TABLE event_x PARTITION OF event FOR VALUES IN ('x');
	CREATE TABLE event_y PARTITION OF event FOR VALUES IN ('y');
	ALTER TABLE event_x ADD FOREIGN KEY (a_id) REFERENCES a;
	INSERT INTO event SELECT g, CASE WHEN g % 2 = 0 THEN 'x' ELSE 'y' END, g FROM generate_series(1, 100) AS g;
	-- a lookup table and one nothing reaches
	CREATE TABLE colour (id int PRIMARY KEY, name text NOT NULL);
	INSERT INTO colour SELECT g, 'colour ' || g FROM generate_series(1, 7) AS g;
	ALTER TABLE a ADD COLUMN colour_id int REFERENCES colour;
	CREATE TABLE lonely (id int PRIMARY KEY);
	INSERT INTO lonely SELECT generate_series(1, 5);
	-- ties for a limit
	CREATE TABLE score (id int PRIMARY KEY, points int NOT NULL);
	INSERT INTO score SELECT g, g % 3 FROM generate_series(1, 30) AS g;
	-- two self-references on one table
	CREATE TABLE person (id int PRIMARY KEY, mother_id int REFERENCES person, father_id int REFERENCES person);
	INSERT INTO person VALUES (1, NULL, NULL), (2, NULL, NULL), (3, NULL, NULL), (4, NULL, NULL), (5, 1, 2), (6, 3, 4),
		(7, 5, 6), (8, NULL, NULL);
	-- a strongly connected component of two NOT NULL cycles sharing y
	CREATE TABLE x (id int PRIMARY KEY, y_id int NOT NULL);
	CREATE TABLE y (id int PRIMARY KEY, x_id int NOT NULL, z_id int NOT NULL);
	CREATE TABLE z (id int PRIMARY KEY, y_id int NOT NULL);
	ALTER TABLE x ADD FOREIGN KEY (y_id) REFERENCES y DEFERRABLE INITIALLY DEFERRED;
	ALTER TABLE y ADD FOREIGN KEY (x_id) REFERENCES x DEFERRABLE INITIALLY DEFERRED;
	ALTER TABLE y ADD FOREIGN KEY (z_id) REFERENCES z DEFERRABLE INITIALLY DEFERRED;
	ALTER TABLE z ADD FOREIGN KEY (y_id) REFERENCES y DEFERRABLE INITIALLY DEFERRED;
	BEGIN;
	INSERT INTO x SELECT g, g % 10 + 1 FROM generate_series(1, 10) AS g;
	INSERT INTO y SELECT g, g, 11 - g FROM generate_series(1, 10) AS g;
	INSERT INTO z SELECT g, g FROM generate_series(1, 10) AS g;
	COMMIT;
	-- a junction table
	CREATE TABLE student (id int PRIMARY KEY);
	CREATE TABLE course (id int PRIMARY KEY);
	CREATE TABLE enrollment (student_id int REFERENCES student, course_id int REFERENCES course, PRIMARY KEY (student_id, course_id));
	INSERT INTO student SELECT generate_series(1, 20);
	INSERT INTO course SELECT generate_series(1, 5);
	INSERT INTO enrollment SELECT s, c FROM generate_series(1, 20) AS s, generate_series(1, 5) AS c WHERE (s + c) % 2 = 0;
	-- a partitioned table with an indexed composite foreign key to a
	-- composite primary key (course NULL in stays 2, 42, 82)
	CREATE TABLE stay (id int NOT NULL, kind text NOT NULL, student_id int, course_id int, PRIMARY KEY (id, kind),
		FOREIGN KEY (student_id, course_id) REFERENCES enrollment) PARTITION BY LIST (kind);
	CREATE TABLE stay_x PARTITION OF stay FOR VALUES IN ('x');
	CREATE TABLE stay_y PARTITION OF stay FOR VALUES IN ('y');
	CREATE INDEX ON stay (student_id, course_id);
	INSERT INTO stay SELECT g, CASE WHEN g % 2 = 0 THEN 'x' ELSE 'y' END, (g - 1) % 20 + 1,
		CASE WHEN g % 40 = 2 THEN NULL WHEN (g - 1) % 20 % 2 = 1 THEN 2 ELSE 1 END FROM generate_series(1, 100) AS g;
	ANALYZE stay;
	-- MATCH FULL
	CREATE TABLE visit (id int PRIMARY KEY, country text, code text,
		FOREIGN KEY (country, code) REFERENCES region (country, code) MATCH FULL);
	INSERT INTO visit SELECT g, CASE WHEN g % 2 = 0 THEN 'c' || (g % 5) END, CASE WHEN g % 2 = 0 THEN 'r' || g END
		FROM generate_series(1, 10) AS g;
	-- a polymorphic reference production does not declare, and a NOT
	-- VALID foreign key, each with an orphan
	CREATE TABLE post (id int PRIMARY KEY);
	CREATE TABLE photo (id int PRIMARY KEY);
	CREATE TABLE remark (id int PRIMARY KEY, target_type text NOT NULL, target_id int);
	INSERT INTO post SELECT generate_series(1, 10);
	INSERT INTO photo SELECT generate_series(1, 10);
	INSERT INTO remark SELECT g, CASE WHEN g % 2 = 0 THEN 'post' ELSE 'photo' END, g FROM generate_series(1, 10) AS g;
	INSERT INTO remark VALUES (11, 'post', 999);
	CREATE TABLE loose (id int PRIMARY KEY, a_id int);
	INSERT INTO loose VALUES (1, 1), (2, 555);
	ALTER TABLE loose ADD FOREIGN KEY (a_id) REFERENCES a NOT VALID;
});

attach_database('shapes', ['shapes']);
sql('staging', q{SELECT tdgen_environment('shapes', 'shapes')});
keep_everything('shapes', ['shapes'], 'shapes');
owner_mapping('shapes', 'shapes');

# refresh: the refresh's status and error
sub refresh
{
	my ($env) = @_;
	my ($rc, $out, $err) = sql_result('staging', qq{CALL tdgen_refresh('$env')});
	return ($rc, $err);
}
sub rows { return sql('staging', "SELECT count(*) FROM $_[0]"); }
sub target
{
	my ($call) = @_;
	sql('staging', q{DELETE FROM tdgen.subset_target WHERE environment = 'shapes'; DELETE FROM tdgen.subset_edge WHERE environment = 'shapes'});
	sql('staging', $_) for ref $call ? @$call : ($call);
}

# a chain and a diamond
target(q{SELECT tdgen_subset_target('shapes', 'shapes.d', "where" => 'id IN (1, 2)')});
my ($rc, $err) = refresh('shapes');
is($rc, 0, 'a subset of the diamond refreshes, every foreign key added after the load') or diag($err);
is(join(' ', map { rows("shapes.$_") } qw(a b c d)), '4 2 2 2',
	'd 1, 2 bring b 1, 2 and c 1, 2, which bring a 1, 2, 99, 100; nothing below them');
is(rows('shapes.tag'), '2', 'the rows without a primary key under the targets come (by ctid), reached by one of two edges');
is(sql('staging', q{SELECT string_agg(table_name || ':' || target_rows || '/' || downward_rows || '/' || upward_rows, ' ' ORDER BY table_name)
	FROM tdgen.run_subset WHERE run_id = (SELECT max(id) FROM tdgen.run WHERE environment = 'shapes') AND table_name IN ('a', 'b', 'd', 'tag')}),
	'a:0/0/4 b:0/0/2 d:2/0/0 tag:0/2/0', q{the run records each table's rows by how they were reached});

target(q{SELECT tdgen_subset_target('shapes', 'shapes.a', "where" => 'id = 1')});
($rc, $err) = refresh('shapes');
is($rc, 0, 'downward from a') or diag($err);
is(join(' ', map { rows("shapes.$_") } qw(a b c d tag)), '2 2 2 2 2',
	'a 1 brings b 1 and c 100 (children), d 1 and d 100 (theirs) and their tags; upward, b 100, c 1 and a 100');
is(sql('staging', q{SELECT string_agg(id::text, ',' ORDER BY id) FROM shapes.b}), '1,100', 'parents reached upward are loaded but not expanded');

# a row under two parents is read from production once, not once a path
target(q{SELECT tdgen_subset_target('shapes', 'shapes.a', "where" => 'id IN (1, 100)')});
($rc, $err) = refresh('shapes');
is(join(' ', map { rows("shapes.$_") } qw(a b c d tag)), '2 2 2 2 2', 'a 1 and 100 bring d 1 and 100 both through b and through c');
is(sql('staging', q{SELECT string_agg(edge || ' ' || keys_read || ' ' || new_rows, ', ' ORDER BY edge) FROM tdgen.run_subset_edge
	WHERE run_id = (SELECT max(id) FROM tdgen.run WHERE environment = 'shapes') AND direction = 'down'
	  AND edge IN ('shapes.d_b_id_fkey', 'shapes.d_c_id_fkey', 'shapes.tag_a_id_fkey', 'shapes.tag_d_id_fkey')}),
	'shapes.d_b_id_fkey 2 2, shapes.d_c_id_fkey 0 0, shapes.tag_a_id_fkey 2 2, shapes.tag_d_id_fkey 0 0',
	'each of d and tag asked for once, by both its edges in one query: every row read once, credited to its first edge');

# a self-reference 10,000 deep: one recursive query a batch, both ways
target(q{SELECT tdgen_subset_target('shapes', 'shapes.node', "where" => 'id = 10000')});
($rc, $err) = refresh('shapes');
is($rc, 0, 'the deepest node of a 10,000-deep self-reference') or diag($err);
is(rows('shapes.node'), '10000', 'brings all its ancestors');
is(sql('staging', q{SELECT queries FROM tdgen.run_subset_edge WHERE run_id = (SELECT max(id) FROM tdgen.run WHERE environment = 'shapes')
	AND edge = 'shapes.node_parent_id_fkey' AND direction = 'up'}), '2',
	'in two queries to production, not one a level: the recursive one, and one that finds nothing new above the ancestors');
target(q{SELECT tdgen_subset_target('shapes', 'shapes.node', "where" => 'id = 9990')});
($rc, $err) = refresh('shapes');
is(rows('shapes.node'), '10000', 'a node near the bottom brings its ancestors and its descendants');
target([q{SELECT tdgen_subset_target('shapes', 'shapes.node', "where" => 'id = 100')},
		q{SELECT tdgen_subset_edge('shapes', 'shapes.node_parent_id_fkey', max_depth => 3)}]);
($rc, $err) = refresh('shapes');
is(sql('staging', q{SELECT min(id) || '-' || max(id) FROM shapes.node}), '1-103', 'max_depth 3 stops three levels down');

# a NOT NULL cycle, composite keys, MATCH SIMPLE
target([q{SELECT tdgen_subset_target('shapes', 'shapes.player', "where" => 'id = 35')},
		q{SELECT tdgen_subset_target('shapes', 'shapes.shop', "where" => 'id IN (1, 3)')}]);
($rc, $err) = refresh('shapes');
is($rc, 0, 'a NOT NULL cycle and a composite foreign key to a UNIQUE key') or diag($err);
is(rows('shapes.team') . ' ' . rows('shapes.player'), '1 2', 'player 35 brings team 3, which brings its captain 30');
is(rows('shapes.region'), '1', 'shop 1 brings its region by (country, code); shop 3, code NULL, brings none (MATCH SIMPLE)');

# a foreign key on one partition
target(q{SELECT tdgen_subset_target('shapes', 'shapes.event', "where" => 'id BETWEEN 1 AND 10')});
($rc, $err) = refresh('shapes');
is($rc, 0, 'a foreign key declared on one partition') or diag($err);
is(rows('shapes.event') . ' ' . rows('shapes.a'), '10 5', 'events 1-10 bring the a of the five on partition x only');

# a partitioned child with an index on its composite foreign key: a few
# keys probe each partition's index, many (four probes a row of the
# table, over its two partitions) are joined to the batch
target(q{SELECT tdgen_subset_target('shapes', 'shapes.enrollment', "where" => 'student_id IN (2, 3)')});
($rc, $err) = refresh('shapes');
is($rc, 0, 'downward into a partitioned table by a composite foreign key, by its index') or diag($err);
is(join(' ', map { rows("shapes.$_") } qw(enrollment stay student course)), '5 7 2 5',
	'students 2 and 3 enrol in five courses; their stays come from both partitions but 2, 42 and 82 (course NULL)');
target(q{SELECT tdgen_subset_target('shapes', 'shapes.enrollment', "where" => 'student_id <= 6')});
($rc, $err) = refresh('shapes');
is($rc, 0, 'the same by a join to the batch') or diag($err);
is(join(' ', map { rows("shapes.$_") } qw(enrollment stay student course)), '15 27 6 5',
	'students 1 to 6 enrol fifteen times; 27 of their 30 stays have a course');

# lookup, unreached, percent 0 and 100, limit with ties
target(q{SELECT tdgen_subset_target('shapes', 'shapes.a', percent => 0)});
sql('staging', q{SELECT tdgen_table_mode('shapes.colour', 'lookup', 'shapes')});
($rc, $err) = refresh('shapes');
is(rows('shapes.a') . ' ' . rows('shapes.colour') . ' ' . rows('shapes.lonely'), '0 7 0', 'percent 0: nothing; a lookup table whole; unreached tables empty');
sql('staging', q{SELECT tdgen_environment('shapes', 'shapes', options => '{"unreached": "copy"}')});
($rc, $err) = refresh('shapes');
is(rows('shapes.lonely'), '5', 'unreached => copy copies them whole');
is(rows('shapes.node'), '10000', 'with the parents their rows need');
sql('staging', q{SELECT tdgen_environment('shapes', 'shapes', options => '{}')});
target(q{SELECT tdgen_subset_target('shapes', 'shapes.a', percent => 100)});
($rc, $err) = refresh('shapes');
is(join(' ', map { rows("shapes.$_") } qw(a b c d tag event)), '100 100 100 100 100 50', 'percent 100: all of a and all below it');
target(q{SELECT tdgen_subset_target('shapes', 'shapes.score', "limit" => 4, order_by => 'points DESC')});
($rc, $err) = refresh('shapes');
is(sql('staging', q{SELECT string_agg(id::text, ',' ORDER BY id) FROM shapes.score}), '2,5,8,11', 'limit 4 by points, ties broken by the key');

# two self-references, two cycles sharing a table, a junction table, MATCH FULL
target(q{SELECT tdgen_subset_target('shapes', 'shapes.person', "where" => 'id = 7')});
($rc, $err) = refresh('shapes');
is(sql('staging', q{SELECT string_agg(id::text, ',' ORDER BY id) FROM shapes.person}), '1,2,3,4,5,6,7',
	'a row with two self-references brings both lines of ancestors');
target(q{SELECT tdgen_subset_target('shapes', 'shapes.x', "where" => 'id = 1')});
($rc, $err) = refresh('shapes');
is($rc, 0, 'two NOT NULL cycles sharing a table') or diag($err);
is(join(' ', map { rows("shapes.$_") } qw(x y z)), '10 10 10', 'x 1 brings the whole component, each row once, every key holding');
target(q{SELECT tdgen_subset_target('shapes', 'shapes.student', "where" => 'id = 1')});
($rc, $err) = refresh('shapes');
is(join(' ', map { rows("shapes.$_") } qw(student enrollment course)), '1 3 3',
	'a junction table: the student\'s enrollments and their courses, and no other member of those courses');
target(q{SELECT tdgen_subset_target('shapes', 'shapes.visit', percent => 100)});
($rc, $err) = refresh('shapes');
is($rc . ' ' . rows('shapes.region'), '0 5', 'MATCH FULL: the five visits with both columns bring their regions');

# a virtual, polymorphic relation: followed, and checked after the load
sql('staging', q{SELECT tdgen_relation('shapes.remark', ARRAY['target_id'], 'shapes.post', ARRAY['id'], "when" => $$target_type = 'post'$$,
	name => 'remark_post')});
sql('staging', q{SELECT tdgen_relation('shapes.remark', ARRAY['target_id'], 'shapes.photo', ARRAY['id'], "when" => $$target_type = 'photo'$$,
	name => 'remark_photo')});
target(q{SELECT tdgen_subset_target('shapes', 'shapes.remark', "where" => 'id <= 4')});
($rc, $err) = refresh('shapes');
is($rc, 0, 'a polymorphic relation') or diag($err);
is(sql('staging', q{SELECT string_agg(id::text, ',' ORDER BY id) FROM shapes.post}) . ' '
   . sql('staging', q{SELECT string_agg(id::text, ',' ORDER BY id) FROM shapes.photo}), '2,4 1,3', 'brings each remark\'s post or photo');
target(q{SELECT tdgen_subset_target('shapes', 'shapes.post', "where" => 'id = 2')});
($rc, $err) = refresh('shapes');
is(sql('staging', q{SELECT string_agg(id::text, ',' ORDER BY id) FROM shapes.remark}), '2', 'and downward, the remarks on a post');
target(q{SELECT tdgen_subset_target('shapes', 'shapes.remark', "where" => 'id = 11')});
my $before = sql('staging', q{SELECT count(*) FROM shapes.remark});
($rc, $err) = refresh('shapes');
like($err, qr/reference shapes\.remark_post does not hold in the subset: 1 row\(s\) of shapes\.remark reference no row of shapes\.post/,
	'a relation production breaks fails the refresh, naming it');
unlike($err, qr/999/, 'without the value');
is(sql('staging', q{SELECT sqlstate FROM tdgen.run WHERE environment = 'shapes' ORDER BY id DESC LIMIT 1}), '23503', 'with 23503');
is(sql('staging', q{SELECT count(*) FROM shapes.remark}), $before, 'the target as it was');
sql('staging', q{SELECT tdgen_environment('shapes', 'shapes', options => '{"orphans": "null"}')});
($rc, $err) = refresh('shapes');
is($rc . ' ' . sql('staging', q{SELECT coalesce(target_id::text, 'null') FROM shapes.remark}), '0 null', 'orphans null: the orphan keeps NULL');

# a NOT VALID foreign key with an orphan, under each orphans setting
target(q{SELECT tdgen_subset_target('shapes', 'shapes.loose', percent => 100)});
sql('staging', q{SELECT tdgen_environment('shapes', 'shapes', options => '{"orphans": "keep"}')});
($rc, $err) = refresh('shapes');
is($rc . ' ' . rows('shapes.loose') . ' ' . sql('staging', q{SELECT string_agg(coalesce(a_id::text, 'null'), ',' ORDER BY id) FROM shapes.loose}),
	'0 2 1,555', 'orphans keep: the orphan as in production, behind the NOT VALID key');
sql('staging', q{SELECT tdgen_environment('shapes', 'shapes', options => '{"orphans": "null"}')});
($rc, $err) = refresh('shapes');
is(sql('staging', q{SELECT string_agg(coalesce(a_id::text, 'null'), ',' ORDER BY id) FROM shapes.loose}), '1,null', 'orphans null: NULL');
sql('staging', q{SELECT tdgen_environment('shapes', 'shapes', options => '{"orphans": "fail"}')});
($rc, $err) = refresh('shapes');
like($err, qr/reference shapes\.loose_a_id_fkey does not hold/, 'orphans fail: the refresh fails naming the key');
sql('staging', q{SELECT tdgen_environment('shapes', 'shapes', options => '{"orphans": "drop"}')});
($rc, $err) = refresh('shapes');
is($rc . ' ' . sql('staging', q{SELECT string_agg(a_id::text, ',' ORDER BY id) FROM shapes.loose}), '0 1', 'orphans drop: the orphan is left out');
sql('shapes', q{CREATE TABLE shapes.loose_note (id int PRIMARY KEY, loose_id int NOT NULL REFERENCES shapes.loose);
	INSERT INTO shapes.loose_note VALUES (1, 1), (2, 2), (3, 2)});
keep_everything('shapes', ['shapes'], 'shapes');
($rc, $err) = refresh('shapes');
is($rc . ' ' . sql('staging', q{SELECT string_agg(id::text, ',' ORDER BY id) FROM shapes.loose_note}), '0 1',
	'with the rows that reference it, which would dangle');
is(sql('staging', q{SELECT sum(new_rows) FROM tdgen.run_subset_edge WHERE direction = 'drop'
	AND run_id = (SELECT max(id) FROM tdgen.run WHERE environment = 'shapes')}), '3', 'the run counts the rows it left out');
sql('staging', q{SELECT tdgen_environment('shapes', 'shapes', options => '{}')});

# foreign keys whose values travel with the child's keys, of other types:
# an enum key, an int column referencing a bigint key (both found in
# staging), and a text column referencing a UNIQUE key that is not the
# parent's primary key (asked of production by value)
sql('shapes', q{SET search_path = shapes;
	CREATE TYPE mood AS ENUM ('calm', 'glad', 'cross');
	CREATE TABLE feeling (name mood PRIMARY KEY, note text);
	INSERT INTO feeling VALUES ('calm', 'c'), ('glad', 'g'), ('cross', 'x');
	CREATE TABLE big (id bigint PRIMARY KEY, code text UNIQUE NOT NULL);
	INSERT INTO big SELECT g, 'b' || g FROM generate_series(1, 10) AS g;
	CREATE TABLE diary (id int PRIMARY KEY, mood mood REFERENCES feeling, big_id int REFERENCES big,
		big_code text REFERENCES big (code));
	INSERT INTO diary SELECT g, (ARRAY['calm', 'glad', 'cross'])[g % 3 + 1]::mood, g, 'b' || (11 - g)
		FROM generate_series(1, 10) AS g;
});
keep_everything('shapes', ['shapes'], 'shapes');
target(q{SELECT tdgen_subset_target('shapes', 'shapes.diary', "where" => 'id IN (2, 3)')});
($rc, $err) = refresh('shapes');
is($rc, 0, 'foreign keys of an enum, of int to bigint, and to a UNIQUE text key') or diag($err);
is(sql('staging', q{SELECT string_agg(name::text, ',' ORDER BY name) FROM shapes.feeling}), 'calm,cross',
	'the enum values the two rows hold');
is(sql('staging', q{SELECT string_agg(id::text, ',' ORDER BY id) FROM shapes.big}), '2,3,8,9',
	'the big rows they reference by id and by code');
is(sql('staging', q{SELECT string_agg(direction || ':' || queries || '/' || keys_read || '/' || new_rows, ' ' ORDER BY edge, direction)
	FROM tdgen.run_subset_edge WHERE run_id = (SELECT max(id) FROM tdgen.run WHERE environment = 'shapes')
	  AND edge IN ('shapes.diary_mood_fkey', 'shapes.diary_big_id_fkey', 'shapes.diary_big_code_fkey')}),
	'up:1/2/2 up:0/0/2 up:0/0/2', 'production is asked by value for the code only; the ids and the enum come of the values read');

# plan and why
target([q{SELECT tdgen_subset_target('shapes', 'shapes.node', "where" => 'id = 10')},
		q{SELECT tdgen_subset_edge('shapes', 'shapes.node_parent_id_fkey', downward => false)}]);
is(sql('staging', q{SELECT target_rows || ' ' || upward_rows || ' ' || total_rows FROM tdgen_subset_plan('shapes') WHERE table_name = 'shapes.node'}),
	'1 9 10', 'tdgen_subset_plan: per table, rows by how they would come');
is(sql('staging', q{SELECT string_agg(step || ':' || (key ->> 'id') || ':' || reached, ' ' ORDER BY step) FROM tdgen_subset_why('shapes', 'shapes.node', '{"id": 7}')}),
	'0:7:upward 1:8:upward 2:9:upward 3:10:target', 'tdgen_subset_why: the path back to the target, through the self-reference');
is(sql('staging', q{SELECT count(*) FROM tdgen_subset_why('shapes', 'shapes.node', '{"id": 11}')}), '0', 'no path for a row not in the subset');
(undef, undef, $err) = sql_result('staging', q{SELECT * FROM tdgen_subset_why('shapes', 'shapes.node', '{"name": 11}')});
is(sqlstate($err), '22023', 'a key that is not the table\'s is refused');
like(sql('staging', q{SELECT tdgen_export_rules()}), qr/tdgen_subset_target\('shapes', 'shapes\.node'.*tdgen_relation\('shapes\.remark'/s,
	'tdgen_export_rules writes the targets and the relations');

# a masked natural key: the raw value is the key of the row on
# production, and reaches no file of staging's
sql('shapes', q{CREATE TABLE shapes.member (email text PRIMARY KEY, nick text);
	CREATE TABLE shapes.letter (id int PRIMARY KEY, member_email text NOT NULL REFERENCES shapes.member);
	INSERT INTO shapes.member VALUES ('canary.subset@canary.example', 'x'), ('other@canary.example', 'y');
	INSERT INTO shapes.letter VALUES (1, 'canary.subset@canary.example'), (2, 'other@canary.example')});
keep_everything('shapes', ['shapes'], 'shapes');
sql('staging', q{SELECT tdgen_rule('shapes.member.email', 'email', '{}', 'shapes'); SELECT tdgen_drop_rule('shapes.letter.member_email', 'shapes')});
target(q{SELECT tdgen_subset_target('shapes', 'shapes.letter', "where" => 'id = 1')});
my $datadir = "$ENV{TDGEN_CLUSTER_DIR}/data";
sql('staging', 'CHECKPOINT');
my $from = sql('staging', q{SELECT pg_current_wal_insert_lsn()});
($rc, $err) = refresh('shapes');
is($rc . ' ' . rows('shapes.member') . ' ' . rows('shapes.letter'), '0 1 1', 'a subset by a masked natural key') or diag($err);
is(sql('staging', q{SELECT count(*) FROM shapes.letter AS l JOIN shapes.member AS m ON m.email = l.member_email WHERE m.email NOT LIKE '%canary%'}),
	'1', 'the key masked alike in both tables');
my $to = sql('staging', q{SELECT pg_current_wal_insert_lsn()});
is(wal_holds($from, $to, 'canary.subset'), 0, 'the raw key is not in the WAL the refresh wrote');
is(wal_holds($from, $to, 'tdgen_keys_shapes'), 1, '(where its key sets were made)');
sql('staging', 'CHECKPOINT');
my $staging_dir = "$datadir/base/" . sql('staging', q{SELECT oid FROM pg_database WHERE datname = 'staging'});
is(join(' ', files_holding($staging_dir, 'canary.subset'), files_holding("$datadir/base/pgsql_tmp", 'canary.subset')), '',
	'nor in a heap, index or temp file of staging');
isnt(scalar(files_holding($staging_dir, sql('staging', q{SELECT email FROM shapes.member}))), 0, '(where its masked value is)');
unlike(server_log(), qr/canary\.subset/, 'nor in the server log');

# the gate reports a target, an edge or a relation production lost
target([q{SELECT tdgen_subset_target('shapes', 'shapes.lonely', percent => 100)},
		q{SELECT tdgen_subset_edge('shapes', 'shapes.loose_a_id_fkey', downward => false)}]);
sql('shapes', q{ALTER TABLE shapes.loose DROP CONSTRAINT loose_a_id_fkey; ALTER TABLE shapes.remark RENAME COLUMN target_id TO subject_id;
	DROP TABLE shapes.lonely});
is(sql('staging', q{SELECT string_agg(problem || ' ' || column_name || ' ' || suggestion, E'\n' ORDER BY column_name) FROM tdgen_check('shapes') WHERE problem = 'subset_gone'}),
	join("\n", q{subset_gone shapes.lonely SELECT tdgen_drop_subset_target('shapes', 'shapes.lonely');},
		 q{subset_gone shapes.loose_a_id_fkey SELECT tdgen_drop_subset_edge('shapes', 'shapes.loose_a_id_fkey');},
		 q{subset_gone shapes.remark_photo SELECT tdgen_drop_relation('shapes.remark_photo');},
		 q{subset_gone shapes.remark_post SELECT tdgen_drop_relation('shapes.remark_post');}),
	'the gate reports a dropped table a target names, a dropped key an edge names, and relations on a renamed column');
($rc, $err) = refresh('shapes');
is(sql('staging', q{SELECT sqlstate FROM tdgen.run WHERE environment = 'shapes' ORDER BY id DESC LIMIT 1}), 'TG001', 'and refuses the refresh');

# odd names across two schemas: quoting everywhere the subset writes SQL
sql('postgres', 'DROP DATABASE IF EXISTS odd');
sql('postgres', 'CREATE DATABASE odd');
sql('odd', q{CREATE SCHEMA "Odd Schema"; CREATE SCHEMA "sel""ect";
	CREATE TABLE "Odd Schema"."Customer List" ("Id" int PRIMARY KEY, "full name" text);
	CREATE TABLE "sel""ect"."order" ("order" int, "Line No" smallint, "Customer Id" int REFERENCES "Odd Schema"."Customer List",
		"user" int REFERENCES "Odd Schema"."Customer List", PRIMARY KEY ("order", "Line No"));
	INSERT INTO "Odd Schema"."Customer List" SELECT g, 'n' || g FROM generate_series(1, 20) AS g;
	INSERT INTO "sel""ect"."order" SELECT g / 3, g % 3, g % 20 + 1, (g + 7) % 20 + 1 FROM generate_series(1, 60) AS g});
attach_database('odd', ['Odd Schema', 'sel"ect']);
sql('staging', q{SELECT tdgen_environment('odd', 'odd')});
keep_everything('odd', ['Odd Schema', 'sel"ect'], 'odd');
owner_mapping('odd', 'odd');
sql('staging', q{SELECT tdgen_subset_target('odd', '"Odd Schema"."Customer List"', "where" => $$"Id" = 3 AND "full name" LIKE 'n%'$$)});
($rc, $err) = refresh('odd');
is($rc, 0, 'a subset across two schemas of odd names') or diag($err);
is(sql('staging', sql('staging', q{SELECT format('SELECT count(*) FROM %I.%I', m.target_schema, 'order')
	FROM tdgen.environment AS e, tdgen.schema_map(e) AS m WHERE e.name = 'odd' AND m.source_schema = 'sel"ect'})),
	sql('odd', q{SELECT count(*) FROM "sel""ect"."order" WHERE "Customer Id" = 3 OR "user" = 3}),
	'the rows of each table as the closure says: the orders of customer 3 by either key, and their other customers');
sql('staging', q{SELECT tdgen_drop_environment('odd')});

# pagila: 10% of customers
SKIP:
{
	skip 'pagila corpus not present', 4 unless attach_pagila('pagila');
	sql('staging', q{SELECT tdgen_environment('pagila_sub', 'pagila')});
	keep_everything('pagila', ['public'], 'pagila_sub');
	owner_mapping('pagila_sub', 'pagila');
	sql('staging', q{SELECT tdgen_subset_target('pagila_sub', 'public.customer', percent => 10)});
	($rc, $err) = refresh('pagila_sub');
	is($rc, 0, 'pagila: a 10% target on customer refreshes') or diag($err);
	is(sql('staging', q{SELECT target_rows FROM tdgen.run_subset WHERE table_name = 'customer'
		AND run_id = (SELECT max(id) FROM tdgen.run WHERE environment = 'pagila_sub')}),
		sql('pagila', q{SELECT count(*) FROM customer
		WHERE (hashint8extended(customer_id::bigint, 0) & 9223372036854775807) < floor(0.1 * 9223372036854775807)::bigint}),
		'with the sampled customers as targets (and those their rows reference)');
	is(sql('staging', q{SELECT count(*) FROM pg_constraint WHERE connamespace = 'pagila_sub'::regnamespace AND contype = 'f' AND convalidated}),
		sql('pagila', q{SELECT count(*) FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype = 'f' AND convalidated}),
		'every foreign key of production is there and valid');
	cmp_ok(rows('pagila_sub.rental'), '<', sql('pagila', q{SELECT count(*) FROM rental}) / 5, 'rentals: the sampled customers\' and those their rows need, not all');
	sql('staging', q{SELECT tdgen_drop_environment('pagila_sub')});
	detach_pagila('pagila');
}

# the demo shop: the parent-only guard, percent, the same rows every time
sql('staging', q{SELECT tdgen_source('prod', 'prod')});
sql('staging', q{SELECT tdgen_environment('small', 'prod')});
owner_mapping('small');
sql('staging', q{SELECT count(*) FROM tdgen_accept('small')});
sql('staging', q{SELECT tdgen_keep(column_name, 'reviewed: nothing personal') FROM tdgen_check('small') WHERE problem = 'unreviewed'});
sql('staging', q{SELECT tdgen_subset_target('small', 'public.customers', "where" => 'id = 1'),
	tdgen_subset_target('small', 'public.orders', percent => 1)});
($rc, $err) = refresh('small');
is($rc, 0, 'customer 1 and 1% of orders') or diag($err);
my $sampled = sql('prod', q{SELECT count(*) FROM orders WHERE customer_id = 1
	OR (hashint8extended(id::bigint, 0) & 9223372036854775807) < floor(9223372036854775807 / 100.0)::bigint});
is(rows('small.orders'), $sampled, 'orders: customer 1\'s and the sampled ones, no more: the customers of sampled orders do not expand');
is(rows('small.customers'), sql('prod', q{SELECT count(DISTINCT customer_id) FROM orders WHERE customer_id = 1
	OR (hashint8extended(id::bigint, 0) & 9223372036854775807) < floor(9223372036854775807 / 100.0)::bigint}),
	'customers: those of the loaded orders');
# every row of every table of the target, and their order on disk
my $every_table = q{SELECT format('SELECT md5(string_agg(md5(t::text), '','' ORDER BY t.ctid)) FROM small.%I AS t', c.relname)
	FROM pg_class AS c WHERE c.relnamespace = 'small'::regnamespace AND c.relkind = 'r' ORDER BY c.relname};
my $fingerprint = sub { return join(' ', map { sql('staging', $_) } split /\n/, sql('staging', $every_table)); };
my $whole = $fingerprint->();
my $print = sql('staging', q{SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM small.customers AS c});
($rc, $err) = refresh('small');
is($fingerprint->(), $whole, 'a second refresh of unchanged production gives byte-identical tables, rows in the same order');
sql('staging', q{SELECT tdgen_environment('small', 'prod', options => '{"seed": 42}')});
($rc, $err) = refresh('small');
isnt(sql('staging', q{SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM small.customers AS c}), $print, 'another seed, another sample');

# percent 0.01, two targets whose closures overlap
sql('staging', q{SELECT tdgen_drop_subset_target('small', 'public.orders'), tdgen_subset_target('small', 'public.customers', percent => 0.01)});
($rc, $err) = refresh('small');
is(rows('small.customers'), sql('prod', q{SELECT count(*) FROM customers
	WHERE (hashint8extended(id::bigint, 42) & 9223372036854775807) < floor(0.0001 * 9223372036854775807)::bigint}),
	'percent 0.01: the customers whose key hashes below one in ten thousand');
sql('staging', q{SELECT tdgen_subset_target('small', 'public.customers', "where" => 'id <= 30'),
	tdgen_subset_target('small', 'public.orders', "where" => 'customer_id <= 20')});
($rc, $err) = refresh('small');
is(rows('small.orders'), sql('prod', q{SELECT count(*) FROM orders WHERE customer_id <= 30}),
	'two targets whose closures overlap: each row once');

# per-edge options: a where on the children, per_parent by an order
sql('staging', q{SELECT tdgen_drop_subset_target('small', 'public.orders'),
	tdgen_subset_edge('small', 'public.orders_customer_id_fkey', "where" => $$status = 'paid'$$),
	tdgen_subset_edge('small', 'public.orders_shipping_address_id_fkey', downward => false),
	tdgen_subset_edge('small', 'public.payments_card_id_fkey', downward => false),
	tdgen_subset_edge('small', 'public.order_items_order_id_fkey', per_parent => 1, order_by => 'line_no DESC')});
($rc, $err) = refresh('small');
is($rc, 0, 'edges with a where and with per_parent') or diag($err);
is(rows('small.orders'), sql('prod', q{SELECT count(*) FROM orders WHERE customer_id <= 30 AND status = 'paid'}),
	'where: only the paid orders of the customers come (their cards\' payments, which would bring others upward, not followed)');
is(sql('staging', q{SELECT count(*) || ' ' || count(DISTINCT order_id) FROM small.order_items}),
	rows('small.orders') . ' ' . rows('small.orders'), 'per_parent 1: one item an order');
is(sql('staging', q{SELECT string_agg(order_id || ':' || line_no, ',' ORDER BY order_id) FROM small.order_items}),
	sql('prod', q{SELECT string_agg(order_id || ':' || n, ',' ORDER BY order_id) FROM (SELECT order_id, max(line_no) AS n FROM order_items
		WHERE order_id IN (SELECT id FROM orders WHERE customer_id <= 30 AND status = 'paid') GROUP BY order_id) AS x}),
	'the first by its order: the last line of each');
sql('staging', q{SELECT tdgen_drop_subset_edge('small', 'public.orders_customer_id_fkey'),
	tdgen_drop_subset_edge('small', 'public.orders_shipping_address_id_fkey'),
	tdgen_drop_subset_edge('small', 'public.payments_card_id_fkey'),
	tdgen_drop_subset_edge('small', 'public.order_items_order_id_fkey'),
	tdgen_subset_target('small', 'public.orders', "where" => 'customer_id <= 20')});

# production written during the refresh: the rows are those of its snapshot
sql('prod', q{CREATE TABLE IF NOT EXISTS hold_point (v text); INSERT INTO hold_point SELECT 'x' WHERE NOT EXISTS (SELECT FROM hold_point)});
sql('staging', q{SELECT tdgen_keep(column_name, 'reviewed: nothing personal') FROM tdgen_check('small') WHERE problem = 'unreviewed'});
sql('staging', q{SELECT tdgen_table_mode('public.hold_point', 'lookup', 'small'),
	tdgen_environment('small', 'prod', options => '{"seed": 42, "jobs": 1}')});
my $expected = sql('prod', q{SELECT count(*) FROM orders WHERE customer_id <= 30});
my $gone = sql('prod', q{SELECT min(id) FROM orders WHERE customer_id = 3});
my $blocker = sql_bg('prod', 'BEGIN; LOCK TABLE hold_point IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;');
sleep 1;
my $running = sql_bg('staging', q{CALL tdgen_refresh('small')});
is(poll_until('staging', q{SELECT table_name FROM tdgen.progress WHERE environment = 'small' AND table_name = 'public.hold_point'},
	'public.hold_point', 10), 'public.hold_point', 'a subset refresh held in its load, its keys known');
sql('prod', qq{DELETE FROM returns WHERE order_id = $gone; DELETE FROM payments WHERE order_id = $gone; DELETE FROM orders WHERE id = $gone;
	INSERT INTO orders (customer_id, status, ordered_at, total) VALUES (4, 'paid', now(), 1)});
bg_finish($blocker);
my ($rrc, $rout, $rerr) = bg_finish($running);
ok(!$rrc, 'completes while production is written') or diag($rerr);
is(rows('small.orders') . ' ' . sql('staging', qq{SELECT count(*) FROM small.orders WHERE id = $gone}), "$expected 1",
	'with the orders of its snapshot: the one deleted since, not the one added');
sql('staging', q{SELECT tdgen_environment('small', 'prod', options => '{"seed": 42}')});

# caps: refused before any row moves, the target as it was
$print = sql('staging', q{SELECT count(*) FROM small.orders});
sql('staging', q{SELECT tdgen_environment('small', 'prod', options => '{"seed": 42, "max_rows": 10}')});
($rc, $err) = refresh('small');
like($err, qr/over its cap/, 'over max_rows the refresh fails');
is(sql('staging', q{SELECT sqlstate FROM tdgen.run WHERE environment = 'small' ORDER BY id DESC LIMIT 1}), 'TG002', 'with TG002');
is(sql('staging', q{SELECT count(*) FROM tdgen.run_table WHERE run_id = (SELECT max(id) FROM tdgen.run WHERE environment = 'small')}), '0',
	'before any table was loaded');
is(sql('staging', q{SELECT count(*) FROM small.orders}), $print, 'and the target keeps its rows');
is(sql('staging', q{SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tdgen_keys_%'}), '0', 'no key set is left behind');
# a run's schemas are found by name without a regular expression (its
# record is closed with a cancel held off, which the engine ignores):
# the environment's own numbered schemas, not another's whose name it starts
is(sql('staging', q{SELECT string_agg(format('%s=%s', x, tdgen.numbered_name(x, 'tdgen_keys_qa_')), ' ' ORDER BY x)
	FROM unnest(ARRAY['tdgen_keys_qa_7', 'tdgen_keys_qa_123', 'tdgen_keys_qa_', 'tdgen_keys_qa_x_7', 'tdgen_keys_qa_7x', 'tdgen_keys_q_7']::name[]) AS x}),
	'tdgen_keys_q_7=f tdgen_keys_qa_=f tdgen_keys_qa_123=t tdgen_keys_qa_7=t tdgen_keys_qa_7x=f tdgen_keys_qa_x_7=f',
	'a run\'s schemas are its environment\'s prefix and a number, nothing else');

# on_absent null: a nullable key to a parent not otherwise in the subset
sql('staging', q{SELECT tdgen_environment('small', 'prod', options => '{}')});
sql('staging', q{SELECT tdgen_subset_edge('small', 'public.orders_store_id_fkey', on_absent => 'null')});
($rc, $err) = refresh('small');
is($rc, 0, 'on_absent null') or diag($err);
is(rows('small.stores'), '0', 'brings no store');
is(sql('staging', q{SELECT count(store_id) FROM small.orders}), '0', 'and the orders keep NULL in store_id');
is(sql('staging', q{SELECT s.nulled_rows FROM tdgen.run_subset AS s WHERE s.run_id = (SELECT max(id) FROM tdgen.run WHERE environment = 'small')
	AND s.table_name = 'orders'}), sql('prod', q{SELECT count(*) FROM orders WHERE store_id IS NOT NULL AND customer_id <= 30}),
	'the run counts the keys it set to NULL');
like(sql('staging', q{SELECT tdgen_report(max(id)) FROM tdgen.run WHERE environment = 'small'}),
	qr/"subset": \{"edges": \[.*"tables": \[.*"nulled_rows"/, 'tdgen_report has the subset, its tables and edges');
(undef, undef, $err) = sql_result('staging', q{SELECT tdgen_subset_edge('small', 'public.orders_customer_id_fkey', on_absent => 'null')});
is(sqlstate($err), '22023', 'on_absent null on a NOT NULL key is refused when written');

# configuration is checked when written, and is tdgen_admin's
(undef, undef, $err) = sql_result('staging', q{SELECT tdgen_subset_target('small', 'public.customers', "where" => 'no_such_column = 1')});
is(sqlstate($err), '42703', 'a where naming no column is refused');
($rc, undef, $err) = sql_result('staging', q{SELECT tdgen_subset_target('small', 'public.customers', "where" => 'true); DROP TABLE customers; --')});
isnt($rc, 0, 'a where that is more than a condition is refused');
(undef, undef, $err) = sql_result('staging', q{SELECT tdgen_subset_target('small', 'public.nothing', percent => 1)});
is(sqlstate($err), '42P01', 'a target on no production table is refused');
(undef, undef, $err) = sql_result('staging', q{SELECT tdgen_subset_edge('small', 'public.no_such_fkey')});
is(sqlstate($err), '42704', 'an edge naming no foreign key is refused');
sql('staging', q{DROP ROLE IF EXISTS subset_intruder; CREATE ROLE subset_intruder LOGIN});
(undef, undef, $err) = sql_result('staging', q{SET ROLE subset_intruder; SELECT tdgen_subset_target('small', 'public.customers', "where" => 'ssn LIKE ''1%''')});
is(sqlstate($err), '42501', 'a role outside tdgen_admin may not set a target (its where would be an oracle on production)');
(undef, undef, $err) = sql_result('staging', q{SET ROLE subset_intruder; SELECT tdgen_subset_edge('small', 'public.orders_store_id_fkey', downward => false)});
is(sqlstate($err), '42501', 'nor an edge');
(undef, undef, $err) = sql_result('staging', q{SET ROLE subset_intruder; SELECT tdgen_relation('public.orders', ARRAY['total'], 'public.products', ARRAY['price'])});
is(sqlstate($err), '42501', 'nor a relation');
(undef, undef, $err) = sql_result('staging', q{SET ROLE subset_intruder; SELECT * FROM tdgen_subset_plan('small')});
is(sqlstate($err), '42501', 'nor read the plan of an environment it may not refresh (it reads production\'s keys)');
(undef, undef, $err) = sql_result('staging', q{SET ROLE subset_intruder; SELECT * FROM tdgen_subset_why('small', 'public.customers', '{"id": 1}')});
is(sqlstate($err), '42501', 'nor ask why a row is there');
(undef, undef, $err) = sql_result('staging', q{SET ROLE subset_intruder; SELECT * FROM tdgen.remote_rows('SELECT 1', '{}') AS r(x int)});
is(sqlstate($err), '42501', 'nor send production a query of its own');
(undef, undef, $err) = sql_result('staging', q{SET ROLE subset_intruder; SELECT tdgen.remote_rows_read()});
is(sqlstate($err), '42501', 'nor count the rows tdgen read from production');
(undef, undef, $err) = sql_result('staging', q{SET ROLE subset_intruder; SELECT tdgen.remote_send('SELECT 1', '{}')});
is(sqlstate($err), '42501', 'nor send production a query ahead');
(undef, undef, $err) = sql_result('staging', q{SET ROLE subset_intruder; SELECT * FROM tdgen.remote_take() AS r(x int)});
is(sqlstate($err), '42501', 'nor take the rows of one');
(undef, undef, $err) = sql_result('staging', q{SET ROLE subset_intruder; SELECT tdgen.subset_waves('{}')});
is(sqlstate($err), '42501', 'nor run the rounds of a closure');
is(sql('staging', q{SELECT coalesce(string_agg(f, ' '), 'none') FROM unnest(ARRAY[
		'tdgen.subset_gather(integer[], bigint[], bigint[], jsonb, jsonb)',
		'tdgen.subset_next_batch(text, integer, bigint, bigint, integer, integer)', 'tdgen.subset_tops(boolean)',
		'tdgen.subset_traced()', 'tdgen.batch_joins(record, bigint, bigint)', 'tdgen.batch_join(text[], text[], integer)',
		'tdgen.batch_params(text[], integer)']) AS f
	WHERE has_function_privilege('subset_intruder', f, 'EXECUTE')}), 'none',
	'nor any of the closure\'s other parts (key-set batches and tops, the query of several edges, the join to a batch)');

# queries sent ahead: their rows taken in the order sent, the second
# answered by production while the first still runs, its rows read into
# their own store meanwhile (so production is not held up); its error
# raised in its turn, not before; misuse refused; a cancel while taking
# leaves the next transaction a clean start
my $out;
# the lines of psql's output that are rows (a void result prints none)
my $rows = sub { join "\n", grep { $_ ne '' } split /\n/, shift // '' };
my @ahead = ('BEGIN', q{SET work_mem = '64kB'}, q{SELECT tdgen.remote_begin('prod')},
	q{SELECT tdgen.remote_send('SELECT g, clock_timestamp() FROM (SELECT pg_sleep(1)) AS s, generate_series(1, 20000) AS g', '{}')},
	q{SELECT tdgen.remote_send('SELECT g, $1::bigint * g, clock_timestamp() FROM generate_series(1, 300000) AS g', '{3}')});
is($rows->(sql('staging', [@ahead, q{CREATE TEMP TABLE first_rows AS SELECT * FROM tdgen.remote_take() AS r(x int, at timestamptz)},
		q{CREATE TEMP TABLE second_rows AS SELECT * FROM tdgen.remote_take() AS r(x int, y bigint, at timestamptz)},
		q{SELECT count(*), sum(x) FROM first_rows}, q{SELECT count(*), sum(y), bool_and(y = 3 * x) FROM second_rows},
		q{SELECT (SELECT max(at) FROM second_rows) < (SELECT min(at) FROM first_rows)}, 'COMMIT'])),
	"20000|200010000\n300000|135000450000|t\nt",
	'two queries sent ahead give their rows in the order sent; the second was answered whole while the first still slept');
($rc, $out, $err) = sql_result('staging', [@ahead[0 .. 3], q{SELECT tdgen.remote_send('SELECT 1 / (g - 5) FROM generate_series(1, 10) AS g', '{}')},
		q{SELECT count(*) FROM tdgen.remote_take() AS r(x int, at timestamptz)}, q{SELECT * FROM tdgen.remote_take() AS r(x int)}]);
is($rows->($out), '20000', 'an error in the second query leaves the first its rows');
is(sqlstate($err), '22012', 'and is raised when the second is taken, with production\'s SQLSTATE');
($rc, $out, $err) = sql_result('staging', [@ahead[0 .. 2], q{SELECT * FROM tdgen.remote_take() AS r(x int)}]);
is(sqlstate($err), '55000', 'taking with nothing sent ahead is refused');
($rc, $out, $err) = sql_result('staging', [@ahead, q{SELECT count(*) FROM tdgen.remote_take() AS r(x int, at timestamptz)},
		q{SELECT count(*) FROM tdgen.remote_take() AS r(x int)}]);
like($err, qr/production returned 3 columns where 1 were defined/, 'rows read early are checked against the columns defined when taken');
($rc, $out, $err) = sql_result('staging', [@ahead, q{SELECT tdgen.remote_send('SELECT 1', '{}')}]);
is(sqlstate($err), '55000', 'a third query sent ahead is refused');
($rc, $out, $err) = sql_result('staging', [@ahead[0 .. 3], q{SELECT * FROM tdgen.remote_rows('SELECT 1', '{}') AS r(x int)}]);
is(sqlstate($err), '55000', 'a query over a connection whose rows were not taken is refused');
($rc, $out, $err) = sql_result('staging', [@ahead[0 .. 2], q{SET statement_timeout = '300ms'},
		q{SELECT tdgen.remote_send('SELECT pg_sleep(30)', '{}')}, q{SELECT tdgen.remote_send('SELECT pg_sleep(30)', '{}')},
		q{SELECT * FROM tdgen.remote_take() AS r(x text)}]);
is(sqlstate($err), '57014', 'a take waits interruptibly');
is($rows->(sql('staging', [@ahead[0 .. 2], q{SELECT * FROM tdgen.remote_rows('SELECT 7', '{}') AS r(x int)}, 'COMMIT'])), '7',
	'and the next transaction starts clean');
is(poll_until('prod', q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tdgen' AND query LIKE '%pg_sleep(30)%'}, '0', 10),
	'0', 'production runs nothing left of the cancelled queries');
($rc, $out, $err) = sql_result('staging', ['BEGIN', q{SELECT tdgen.remote_begin('prod', hold => true)},
		q{SELECT tdgen.remote_send('SELECT 1', '{}')}, q{SELECT tdgen.remote_send('SELECT 2', '{}')},
		q{SELECT * FROM tdgen.remote_take() AS r(x int)}, q{SELECT * FROM tdgen.remote_take() AS r(x int)},
		q{SELECT * FROM tdgen.remote_rows('SELECT count(*) FROM pg_stat_activity WHERE application_name = $1', '{tdgen}') AS r(n bigint)},
		'COMMIT', q{SELECT FROM pg_sleep(1)},
		# production's view of its sessions, taken anew in its long transaction
		q{SELECT FROM tdgen.remote_rows('SELECT pg_stat_clear_snapshot()', '{}') AS r(x text)},
		q{SELECT * FROM tdgen.remote_rows('SELECT count(*) FROM pg_stat_activity WHERE application_name = $1', '{tdgen}') AS r(n bigint)},
		q{SELECT tdgen.remote_end()}]);
is($rows->($out), "1\n2\n2\n1", 'a held connection keeps its second one until its transaction commits (its backend gone a second later)')
	or diag($err);

sql('staging', q{SELECT tdgen_environment('small', 'prod', options => '{"transfer": "fdw"}')});
($rc, $err) = refresh('small');
is(sql('staging', q{SELECT sqlstate FROM tdgen.run WHERE environment = 'small' ORDER BY id DESC LIMIT 1}), '0A000',
	'a subset with the fdw transfer is refused');
sql('staging', q{DROP ROLE subset_intruder; SELECT tdgen_drop_environment('small'); SELECT tdgen_drop_environment('shapes')});

done_testing();
