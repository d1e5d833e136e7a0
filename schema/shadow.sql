-- ===========================================================================
-- schema/shadow.sql
--     Reproducing production's schema in a shadow schema, from its catalog
--     as read through postgres_fdw.
-- ===========================================================================

CREATE FUNCTION tdgen.partition_bound_sql(node_tree text)
RETURNS text
AS 'MODULE_PATHNAME', 'tdgen_partition_bound_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- It parses node trees: only tdgen's own functions call it.
REVOKE ALL ON FUNCTION tdgen.partition_bound_sql(text) FROM PUBLIC;

COMMENT ON FUNCTION tdgen.partition_bound_sql(text) IS
	'the FOR VALUES (or DEFAULT) clause of a partition, from the text of production''s pg_class.relpartbound';
