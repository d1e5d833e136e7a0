-- ---------------------------------------------------------------------------
-- shop_constraints.sql
--     Keys, foreign keys and indexes of the demo shop, built after the load.
-- ---------------------------------------------------------------------------

\set ON_ERROR_STOP on
SET maintenance_work_mem = '512MB';
SET work_mem = '256MB';

ALTER TABLE countries ADD PRIMARY KEY (code), ADD UNIQUE (name);
ALTER TABLE stores ADD PRIMARY KEY (id);
ALTER TABLE employees ADD PRIMARY KEY (id), ADD UNIQUE (email);
ALTER TABLE customers ADD PRIMARY KEY (id), ADD UNIQUE (email);
ALTER TABLE addresses ADD PRIMARY KEY (id);
ALTER TABLE payment_cards ADD PRIMARY KEY (id), ADD UNIQUE (card_number);
ALTER TABLE products ADD PRIMARY KEY (id), ADD UNIQUE (sku);
ALTER TABLE orders ADD PRIMARY KEY (id);
ALTER TABLE order_items ADD PRIMARY KEY (order_id, line_no);
ALTER TABLE returns ADD PRIMARY KEY (id);
ALTER TABLE payments ADD PRIMARY KEY (id, paid_at);

-- the stores <-> employees cycle: both keys NOT NULL, so one side is
-- deferrable to let an application insert a new store and its manager
ALTER TABLE stores ADD FOREIGN KEY (manager_id) REFERENCES employees
	DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE employees ADD FOREIGN KEY (store_id) REFERENCES stores;
ALTER TABLE employees ADD FOREIGN KEY (manager_id) REFERENCES employees;
ALTER TABLE addresses ADD FOREIGN KEY (customer_id) REFERENCES customers ON DELETE CASCADE;
ALTER TABLE addresses ADD FOREIGN KEY (country_code) REFERENCES countries;
ALTER TABLE payment_cards ADD FOREIGN KEY (customer_id) REFERENCES customers ON DELETE CASCADE;
ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers;
ALTER TABLE orders ADD FOREIGN KEY (store_id) REFERENCES stores;
ALTER TABLE orders ADD FOREIGN KEY (shipping_address_id) REFERENCES addresses;
ALTER TABLE order_items ADD FOREIGN KEY (order_id) REFERENCES orders ON DELETE CASCADE;
ALTER TABLE order_items ADD FOREIGN KEY (product_sku) REFERENCES products (sku);
ALTER TABLE returns ADD FOREIGN KEY (order_id, line_no) REFERENCES order_items;
ALTER TABLE payments ADD FOREIGN KEY (order_id) REFERENCES orders;
ALTER TABLE payments ADD FOREIGN KEY (card_id) REFERENCES payment_cards;
ALTER TABLE customer_events ADD FOREIGN KEY (customer_id) REFERENCES customers ON DELETE CASCADE;

CREATE INDEX customers_last_name_idx ON customers (lower(last_name));
CREATE INDEX addresses_customer_id_idx ON addresses (customer_id);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE INDEX orders_ordered_at_idx ON orders (ordered_at);
CREATE INDEX payments_order_id_idx ON payments (order_id);
CREATE INDEX customer_events_customer_idx ON customer_events (customer_id, occurred_at);

-- keys were loaded explicitly: move every sequence past them
DO $$
DECLARE
	col record;
	top bigint;
BEGIN
	FOR col IN
		SELECT c.oid::regclass AS rel, a.attname,
			   pg_get_serial_sequence(c.oid::regclass::text, a.attname) AS seq
		FROM pg_class AS c
		JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
		  AND NOT c.relispartition
	LOOP
		CONTINUE WHEN col.seq IS NULL;
		EXECUTE format('SELECT max(%I) FROM %s', col.attname, col.rel) INTO top;
		PERFORM setval(col.seq, coalesce(top, 1), top IS NOT NULL);
	END LOOP;
END
$$;

ANALYZE;
