/*-------------------------------------------------------------------------
 *
 * subset.c
 *	  The SQL a subset's configuration carries, checked when it is written.
 *
 * A subset target's or edge's WHERE condition and ORDER BY list are SQL
 * that runs on production, over one table, during a refresh.  They are
 * checked when written by parsing and analyzing them over the table's
 * foreign table, as production would read them: one boolean condition,
 * one sort list, nothing else.  Nothing is planned or run, so no function
 * they name is called here (planning folds immutable calls).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_check_clause);

/*
 * tdgen.check_clause(relation regclass, kind text, clause text, table_name text)
 * returns void
 *
 * Raises the parser's error unless the clause is one WHERE condition
 * ('where') or one ORDER BY list ('order_by') over the relation's columns;
 * table_name is the production table's name, for the message.
 */
Datum
tdgen_check_clause(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *kind = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *clause = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *table_name = text_to_cstring(PG_GETARG_TEXT_PP(3));
	char	   *relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
	char	   *sql;
	List	   *raw;
	Query	   *q;

	if (strcmp(kind, "where") == 0)
		sql = psprintf("SELECT FROM %s WHERE (%s\n)", relname, clause);
	else if (strcmp(kind, "order_by") == 0)
		sql = psprintf("SELECT FROM %s ORDER BY %s\n", relname, clause);
	else
		elog(ERROR, "unknown clause kind \"%s\"", kind);

	raw = pg_parse_query(sql);
	if (list_length(raw) == 1)
	{
		q = parse_analyze_fixedparams(linitial_node(RawStmt, raw), sql, NULL, 0, NULL);
		if (q->commandType == CMD_SELECT && list_length(q->rtable) == 1 && q->setOperations == NULL &&
			q->cteList == NIL && q->limitCount == NULL && q->limitOffset == NULL && q->groupClause == NIL &&
			q->havingQual == NULL && !q->hasAggs && !q->hasWindowFuncs && q->rowMarks == NIL &&
			(strcmp(kind, "where") == 0 ? q->sortClause == NIL : q->jointree->quals == NULL))
			PG_RETURN_VOID();
	}
	ereport(ERROR,
			(errcode(ERRCODE_SYNTAX_ERROR),
			 errmsg("%s is not one %s over table %s", quote_literal_cstr(clause),
					strcmp(kind, "where") == 0 ? "condition" : "sort list", table_name),
			 errhint("Give an expression over the table's own columns, without a ; or a clause of another kind.")));
	PG_RETURN_VOID();
}
