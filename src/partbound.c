/*-------------------------------------------------------------------------
 *
 * partbound.c
 *	  A partition bound read from production's pg_class.relpartbound, as
 *	  the SQL clause that recreates it.
 *
 * The refresh reads production's catalog through postgres_fdw, which
 * cannot evaluate pg_get_expr() remotely, so relpartbound arrives as the
 * text of its node tree.  The tree holds the bound's values as Consts of
 * built-in types (partition keys of types that exist only on production
 * are refused), which read back here and print through their output
 * functions as quoted literals: valid in FOR VALUES for any type.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(tdgen_partition_bound_sql);

static void
append_value(StringInfo buf, Node *node)
{
	Const	   *c = (Const *) node;
	Oid			typoutput;
	bool		typisvarlena;

	if (node == NULL || !IsA(node, Const))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("partition bound holds an expression that is not a constant")));
	if (c->constisnull)
	{
		appendStringInfoString(buf, "NULL");
		return;
	}
	/* OIDs of built-in types are the same on every server */
	if (c->consttype >= FirstGenbkiObjectId)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("partition key of a type that is not built in"),
				 errhint("Partitions are reproduced for partition keys of built-in types only; skip the table with tdgen_table_mode(..., 'skip').")));
	getTypeOutputInfo(c->consttype, &typoutput, &typisvarlena);
	appendStringInfoString(buf, quote_literal_cstr(OidOutputFunctionCall(typoutput, c->constvalue)));
}

static void
append_range(StringInfo buf, List *datums)
{
	ListCell   *lc;

	appendStringInfoChar(buf, '(');
	foreach(lc, datums)
	{
		PartitionRangeDatum *d = lfirst_node(PartitionRangeDatum, lc);

		if (lc != list_head(datums))
			appendStringInfoString(buf, ", ");
		if (d->kind == PARTITION_RANGE_DATUM_MINVALUE)
			appendStringInfoString(buf, "MINVALUE");
		else if (d->kind == PARTITION_RANGE_DATUM_MAXVALUE)
			appendStringInfoString(buf, "MAXVALUE");
		else
			append_value(buf, d->value);
	}
	appendStringInfoChar(buf, ')');
}

/*
 * partition_bound_sql(node_tree text) returns text
 *		"DEFAULT", "FOR VALUES IN (...)", "FOR VALUES FROM (...) TO (...)" or
 *		"FOR VALUES WITH (MODULUS m, REMAINDER r)".  22P02 when the text is
 *		not a partition bound.
 */
Datum
tdgen_partition_bound_sql(PG_FUNCTION_ARGS)
{
	char	   *tree = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Node	   *node;
	PartitionBoundSpec *spec;
	StringInfoData buf;
	ListCell   *lc;

	if (strncmp(tree, "{PARTITIONBOUNDSPEC ", 20) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("not the text of a partition bound"),
				 errhint("Pass pg_class.relpartbound of a partition, as text.")));
	node = stringToNode(tree);
	spec = castNode(PartitionBoundSpec, node);

	initStringInfo(&buf);
	if (spec->is_default)
		appendStringInfoString(&buf, "DEFAULT");
	else if (spec->strategy == PARTITION_STRATEGY_HASH)
		appendStringInfo(&buf, "FOR VALUES WITH (MODULUS %d, REMAINDER %d)", spec->modulus, spec->remainder);
	else if (spec->strategy == PARTITION_STRATEGY_LIST)
	{
		appendStringInfoString(&buf, "FOR VALUES IN (");
		foreach(lc, spec->listdatums)
		{
			if (lc != list_head(spec->listdatums))
				appendStringInfoString(&buf, ", ");
			append_value(&buf, lfirst(lc));
		}
		appendStringInfoChar(&buf, ')');
	}
	else if (spec->strategy == PARTITION_STRATEGY_RANGE)
	{
		appendStringInfoString(&buf, "FOR VALUES FROM ");
		append_range(&buf, spec->lowerdatums);
		appendStringInfoString(&buf, " TO ");
		append_range(&buf, spec->upperdatums);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("unknown partition strategy")));
	PG_RETURN_TEXT_P(cstring_to_text(buf.data));
}
