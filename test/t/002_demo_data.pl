# ----------------------------------------------------------------------------
# The demo generator builds every schema feature a refresh must reproduce,
# with the row counts its scale promises, realistic values, and no orphaned
# foreign key.
# ----------------------------------------------------------------------------
use strict;
use warnings;
use Test::More;
use TdgenTest;

my $scale = $ENV{TDGEN_TEST_SCALE} // die "TDGEN_TEST_SCALE is not set\n";

# Each feature is a query on prod's catalog that returns true.
my @features = (
	['bigint identity key', q{SELECT attidentity = 'a' AND atttypid = 'int8'::regtype FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attname = 'id'}],
	['serial key', q{SELECT pg_get_serial_sequence('stores', 'id') IS NOT NULL AND (SELECT attidentity = '' FROM pg_attribute WHERE attrelid = 'stores'::regclass AND attname = 'id')}],
	['composite primary key', q{SELECT cardinality(conkey) = 2 FROM pg_constraint WHERE conrelid = 'order_items'::regclass AND contype = 'p'}],
	['composite foreign key', q{SELECT cardinality(conkey) = 2 FROM pg_constraint WHERE conrelid = 'returns'::regclass AND contype = 'f' AND confrelid = 'order_items'::regclass}],
	['self-referencing foreign key', q{SELECT count(*) = 1 FROM pg_constraint WHERE conrelid = 'employees'::regclass AND confrelid = 'employees'::regclass AND contype = 'f'}],
	['two-table cycle on NOT NULL keys', q{
		SELECT count(*) = 2 FROM pg_constraint AS c
		JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
		WHERE c.contype = 'f' AND a.attnotnull
		  AND ((c.conrelid, c.confrelid) = ('stores'::regclass, 'employees'::regclass)
		    OR (c.conrelid, c.confrelid) = ('employees'::regclass, 'stores'::regclass))}],
	['nullable and NOT NULL foreign keys', q{
		SELECT bool_or(a.attnotnull) AND bool_or(NOT a.attnotnull) FROM pg_constraint AS c
		JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
		WHERE c.conrelid = 'orders'::regclass AND c.contype = 'f'}],
	['foreign key to a UNIQUE non-key column', q{
		SELECT i.indisunique AND NOT i.indisprimary FROM pg_constraint AS c
		JOIN pg_index AS i ON i.indexrelid = c.conindid
		WHERE c.conrelid = 'order_items'::regclass AND c.confrelid = 'products'::regclass}],
	['range-partitioned table with partitions', q{
		SELECT p.partstrat = 'r' AND (SELECT count(*) FROM pg_inherits WHERE inhparent = 'payments'::regclass) = 8
		FROM pg_partitioned_table AS p WHERE p.partrelid = 'payments'::regclass}],
	['enum', q{SELECT typtype = 'e' FROM pg_type WHERE typname = 'order_status'}],
	['domain with a CHECK', q{SELECT count(*) = 1 FROM pg_constraint WHERE contypid = 'us_zip'::regtype AND contype = 'c'}],
	['generated column', q{SELECT attgenerated = 's' FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attname = 'full_name'}],
	['table without a primary key', q{SELECT NOT EXISTS (SELECT FROM pg_constraint WHERE conrelid = 'customer_events'::regclass AND contype = 'p')}],
	['CHECK constraints', q{SELECT count(*) >= 8 FROM pg_constraint WHERE contype = 'c' AND conrelid <> 0}],
	['secondary indexes, one on an expression', q{
		SELECT count(*) >= 6 AND bool_or(indexprs IS NOT NULL) FROM pg_index
		WHERE NOT indisunique AND indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)}],
	['jsonb and text[] columns', q{
		SELECT count(*) = 2 FROM pg_attribute WHERE attrelid = 'customers'::regclass
		AND atttypid IN ('jsonb'::regtype, 'text[]'::regtype)}],
	['lookup table referenced but filtering nothing', q{SELECT count(*) = 20 FROM countries}],
);
for my $f (@features)
{
	is(sql('prod', $f->[1]), 't', "schema has: $f->[0]");
}

# Row counts follow from the scale exactly, as in shop_data.sql.
my ($customers, $products, $stores) = split /\|/, sql('prod', qq{
	SELECT greatest(100, (round($scale * 250000))::bigint * 4),
		   greatest(100, round($scale * 10000))::int,
		   greatest(5, round($scale * 100))::int});
my %expected = (
	customers       => $customers,
	addresses       => $customers * 3 / 2,
	payment_cards   => $customers * 3 / 4,
	orders          => $customers * 2,
	order_items     => $customers * 5,
	customer_events => $customers,
	products        => $products,
	stores          => $stores,
	employees       => $stores * 20,
	countries       => 20,
);
for my $table (sort keys %expected)
{
	is(sql('prod', "SELECT count(*) FROM $table"), $expected{$table}, "$table has $expected{$table} rows");
}
is(sql('prod', q{SELECT count(*) FROM payments}),
	sql('prod', q{SELECT count(*) FROM orders WHERE status NOT IN ('pending', 'cancelled')}),
	'one payment per order past checkout');
is(sql('prod', q{SELECT count(*) = 0 FROM ONLY payments}), 't', 'payments rows live in the partitions');

# No orphans: for every foreign key, the rows whose key is fully set and has
# no parent, counted with an anti-join built from the catalog.
my @fks = split /\n/, sql('prod', q{
	SELECT format('SELECT %L, count(*) FROM %s AS c WHERE %s AND NOT EXISTS (SELECT FROM %s AS p WHERE %s)',
				  conname, conrelid::regclass,
				  string_agg(format('c.%I IS NOT NULL', ca.attname), ' AND '),
				  confrelid::regclass,
				  string_agg(format('p.%I = c.%I', pa.attname, ca.attname), ' AND '))
	FROM pg_constraint AS k,
		 unnest(k.conkey, k.confkey) AS u(ck, pk)
	JOIN pg_attribute AS ca ON true
	JOIN pg_attribute AS pa ON true
	WHERE k.contype = 'f' AND k.connamespace = 'public'::regnamespace
	  AND NOT EXISTS (SELECT FROM pg_inherits WHERE inhrelid = k.conrelid)
	  AND ca.attrelid = k.conrelid AND ca.attnum = u.ck
	  AND pa.attrelid = k.confrelid AND pa.attnum = u.pk
	GROUP BY k.oid, conname, conrelid, confrelid
	ORDER BY conname});
cmp_ok(scalar @fks, '>=', 15, 'every foreign key is checked (' . scalar(@fks) . ')');
my @orphans = grep { !/\|0$/ } map { sql('prod', $_) } @fks;
is_deeply(\@orphans, [], 'no foreign key has an orphaned row');

# Values look like what they stand for.
my %valid = (
	'emails are unique and well formed'  => q{SELECT count(*) = count(DISTINCT email) AND bool_and(email ~ '^[a-z_.]+[a-z]?[0-9]+@[a-z.]+\.[a-z]+$') FROM customers},
	'SSN-like ids are AAA-GG-SSSS'       => q{SELECT bool_and(ssn ~ '^[0-9]{3}-[0-9]{2}-[0-9]{4}$') AND count(ssn) > count(*) * 0.8 FROM customers},
	'card numbers pass Luhn'             => q{
		SELECT bool_and((SELECT sum(CASE WHEN (length(card_number) - i) % 2 = 1
										 THEN (ARRAY[0, 2, 4, 6, 8, 1, 3, 5, 7, 9])[substr(card_number, i, 1)::int + 1]
										 ELSE substr(card_number, i, 1)::int END) % 10 = 0
						 FROM generate_series(1, length(card_number)) AS i))
		FROM payment_cards},
	'phones come in several formats'     => q{SELECT count(DISTINCT regexp_replace(phone, '[0-9]', '9', 'g')) = 4 FROM customers},
	'IPv4 and IPv6 addresses'            => q{SELECT count(DISTINCT family(signup_ip)) = 2 FROM customers},
	'notes name the customer'            => q{SELECT count(*) > 0 AND bool_and(notes LIKE '%' || first_name || '%' OR notes LIKE '%' || last_name || '%') FROM customers WHERE notes IS NOT NULL},
	'jsonb profile holds personal fields' => q{SELECT bool_and(profile #>> '{contact,email}' = email AND profile #>> '{name,last}' = last_name) FROM customers},
	'names come from the census lists'   => q{SELECT count(DISTINCT last_name) > 100 AND bool_and(first_name ~ '^[A-Z][a-z]+$') FROM customers},
);
for my $name (sort keys %valid)
{
	is(sql('prod', $valid{$name}), 't', $name);
}

# The generator is deterministic: the same scale gives the same data.
sql('postgres', 'DROP DATABASE IF EXISTS prod_again');
sql('postgres', 'CREATE DATABASE prod_again');
for my $step (['demo/shop_schema.sql'], ['demo/shop_data.sql', "scale=$scale"], ['demo/shop_constraints.sql'])
{
	my @vars = $step->[1] ? ('-v', $step->[1]) : ();
	system('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', @vars, '-d', 'prod_again', '-f', $step->[0]) == 0
	  or die "generator step $step->[0] failed\n";
}
my $digest = q{SELECT md5(string_agg(md5(c::text), '' ORDER BY id)) FROM customers AS c};
is(sql('prod_again', $digest), sql('prod', $digest), 'a second run at the same scale gives the same customers');
sql('postgres', 'DROP DATABASE prod_again');

done_testing();
