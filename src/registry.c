/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  The transform registry: every transform with its input types,
 *	  parameters and properties, and calls of text transforms by name.
 *
 * One table serves the catalog view tdgen.transform (which later checks,
 * such as refusing a non-injective transform on a unique column, read) and
 * jsonb_mask / array_mask, which apply transforms named in their
 * arguments.  A transform whose input is text and that has a C entry point
 * here can be called by name; its SQL signature is (value text, the
 * parameters in order, scope text) when keyed, without scope otherwise.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "registry.h"
#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_transform_registry);

#define NO_PARAMS {{NULL}}
#define ENTITY {{"entity", TDGEN_PARAM_TEXT, ""}}

/* flags */
#define K  TDGEN_KEYED
#define I  TDGEN_INJECTIVE
#define R  TDGEN_REVERSIBLE
#define F  TDGEN_FORMAT_PRESERVING

static const TdgenTransform registry[] = {
	{"hash", "text", tdgen_hash, K | I, {{"length", TDGEN_PARAM_INT, "16"}}},
	{"pseudo_int", "smallint,integer,bigint", NULL, K | I | F, NO_PARAMS},
	{"uuid", "uuid", NULL, K | I | F, NO_PARAMS},
	{"partial", "text", tdgen_partial, F,
	{{"keep_first", TDGEN_PARAM_INT, "0"}, {"keep_last", TDGEN_PARAM_INT, "4"}, {"mask", TDGEN_PARAM_TEXT, "*"}}},
	{"scramble", "text", tdgen_scramble, K | F, NO_PARAMS},
	{"lorem", "text", tdgen_lorem, K, NO_PARAMS},
	{"first_name", "text", tdgen_first_name, K, NO_PARAMS},
	{"last_name", "text", tdgen_last_name, K, NO_PARAMS},
	{"full_name", "text", tdgen_full_name, K, NO_PARAMS},
	{"username", "text", tdgen_username, K, NO_PARAMS},
	{"email", "text", tdgen_email, K | I, {{"keep_domain", TDGEN_PARAM_BOOL, "false"}}},
	{"street_address", "text", tdgen_street_address, K, ENTITY},
	{"city", "text", tdgen_city, K, ENTITY},
	{"state", "text", tdgen_state, K, ENTITY},
	{"zip", "text", tdgen_zip, K | F, ENTITY},
	{"address", "text", tdgen_address, K, ENTITY},
	{"phone", "text", tdgen_phone, K | I | F, {{"keep_leading", TDGEN_PARAM_INT, "0"}}},
	{"ssn", "text", tdgen_ssn, K | F, {{"unissued", TDGEN_PARAM_BOOL, "true"}}},
	{"credit_card", "text", tdgen_credit_card, K | I | F, {{"keep_bin", TDGEN_PARAM_BOOL, "false"}}},
	{"iban", "text", tdgen_iban, K | I | F, NO_PARAMS},
	{"ip", "inet", NULL, K | I | F, {{"keep_prefix", TDGEN_PARAM_INT, "0"}}},
	{"fpe_encrypt", "text", tdgen_fpe_encrypt, K | I | R | F,
	{{"alphabet", TDGEN_PARAM_TEXT, "0123456789"}, {"tweak", TDGEN_PARAM_TEXT, ""}}},
	{"fpe_decrypt", "text", tdgen_fpe_decrypt, K | I | R | F,
	{{"alphabet", TDGEN_PARAM_TEXT, "0123456789"}, {"tweak", TDGEN_PARAM_TEXT, ""}}},
	{"date_shift", "date,timestamp,timestamptz", NULL, K | F,
	{{"max_days", TDGEN_PARAM_INT, "30"}, {"entity", TDGEN_PARAM_TEXT, ""}}},
	{"birth_date", "date,timestamp,timestamptz", NULL, K | F, {{"year_band", TDGEN_PARAM_INT, "1"}}},
	{"birth_part", "smallint,integer,bigint,numeric,text", NULL, K | F,
	{{"part", TDGEN_PARAM_TEXT, NULL}, {"born", TDGEN_PARAM_COLUMN, ""}, {"year", TDGEN_PARAM_COLUMN, ""},
	{"month", TDGEN_PARAM_COLUMN, ""}, {"day", TDGEN_PARAM_COLUMN, ""}, {"year_band", TDGEN_PARAM_INT, "1"}}},
	{"generalize", "date,timestamptz,numeric", NULL, F,
	{{"unit", TDGEN_PARAM_TEXT, "month"}, {"bucket", TDGEN_PARAM_NUMERIC, NULL}}},
	{"noise", "integer,bigint,double precision,numeric", NULL, K | F,
	{{"pct", TDGEN_PARAM_FLOAT, "10"}, {"allow_sign_change", TDGEN_PARAM_BOOL, "false"}}},
	{"jsonb_mask", "jsonb", NULL, K, {{"spec", TDGEN_PARAM_JSONB, NULL}}},
	{"nullify", "any", NULL, 0, NO_PARAMS},
	{"array_mask", "text[]", NULL, K,
	{{"transform", TDGEN_PARAM_TEXT, NULL}, {"params", TDGEN_PARAM_JSONB, "{}"}}},
};

/* Parameters that make a transform injective that is not with its defaults. */
static const struct
{
	const char *transform;
	const char *params;			/* jsonb text */
}			injective_with[] = {
	{"ssn", "{\"unissued\": false}"},
};

static const char *const param_type_names[] = {
	[TDGEN_PARAM_INT] = "integer",
	[TDGEN_PARAM_BOOL] = "boolean",
	[TDGEN_PARAM_TEXT] = "text",
	[TDGEN_PARAM_FLOAT] = "double precision",
	[TDGEN_PARAM_NUMERIC] = "numeric",
	[TDGEN_PARAM_JSONB] = "jsonb",
	[TDGEN_PARAM_COLUMN] = "column",
};

/* The registry entry of a transform, or NULL. */
static const TdgenTransform *
transform_lookup(const char *name)
{
	for (size_t i = 0; i < lengthof(registry); i++)
		if (strcmp(registry[i].name, name) == 0)
			return &registry[i];
	return NULL;
}

static int
param_count(const TdgenTransform *t)
{
	int			n = 0;

	while (n < TDGEN_MAX_PARAMS && t->params[n].name != NULL)
		n++;
	return n;
}

static Datum
param_datum(const TdgenTransform *t, const TdgenParam *p, const char *value)
{
	switch (p->type)
	{
		case TDGEN_PARAM_INT:
			return DirectFunctionCall1(int4in, CStringGetDatum(value));
		case TDGEN_PARAM_BOOL:
			return DirectFunctionCall1(boolin, CStringGetDatum(value));
		case TDGEN_PARAM_FLOAT:
			return DirectFunctionCall1(float8in, CStringGetDatum(value));
		case TDGEN_PARAM_TEXT:
			return CStringGetTextDatum(value);
		default:
			elog(ERROR, "transform \"%s\" parameter \"%s\" cannot be passed by name", t->name, p->name);
	}
	return (Datum) 0;
}

/* a jsonb scalar as the C string its parameter type reads */
static char *
jsonb_scalar_string(const JsonbValue *v, const TdgenTransform *t, const TdgenParam *p)
{
	bool		ok;

	switch (p->type)
	{
		case TDGEN_PARAM_INT:
		case TDGEN_PARAM_FLOAT:
			ok = v->type == jbvNumeric;
			if (ok)
				return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
			break;
		case TDGEN_PARAM_BOOL:
			ok = v->type == jbvBool;
			if (ok)
				return pstrdup(v->val.boolean ? "true" : "false");
			break;
		default:
			ok = v->type == jbvString;
			if (ok)
				return pnstrdup(v->val.string.val, v->val.string.len);
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("parameter \"%s\" of transform \"%s\" must be of type %s",
					p->name, t->name, param_type_names[p->type])));
	return NULL;
}

/*
 * Raise 42501 unless the current role may execute the SQL function of a
 * text transform (tdgen.<name> taking text first).  A transform reached
 * through jsonb_mask or array_mask is the same oracle as a direct call, so
 * it takes the same privilege; a transform with no such function is
 * refused too.
 */
static void
check_execute(const TdgenTransform *t)
{
	Oid			nsp = get_namespace_oid("tdgen", false);
	CatCList   *procs = SearchSysCacheList1(PROCNAMEARGSNSP, CStringGetDatum(t->name));
	bool		allowed = false;
	bool		found = false;

	for (int i = 0; i < procs->n_members; i++)
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(&procs->members[i]->tuple);

		if (proc->pronamespace != nsp || proc->pronargs < 1 || proc->proargtypes.values[0] != TEXTOID)
			continue;
		found = true;
		allowed = pg_proc_aclcheck(proc->oid, GetUserId(), ACL_EXECUTE) == ACLCHECK_OK;
	}
	ReleaseSysCacheList(procs);
	if (!allowed)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for transform \"%s\"", t->name),
				 found ? errdetail("Applying a transform inside jsonb or text[] values needs EXECUTE on tdgen.%s.", t->name)
				 : errdetail("Transform \"%s\" has no function in schema tdgen.", t->name),
				 errhint("Keyed transforms are granted to tdgen_admin; fpe_decrypt to nobody.")));
}

/*
 * TdgenTextCallPrepare
 *		Resolve a text transform and its parameters, given as a jsonb object
 *		{"param": value, "scope": "..."} (or NULL for defaults), into a call
 *		that TdgenTextCallRun can repeat.  Errors (22023) name the transform
 *		or parameter at fault; 42501 when the current role may not execute
 *		the transform's function.  Allocates in mcxt.
 */
TdgenTextCall *
TdgenTextCallPrepare(const char *name, Jsonb *params, text *scope, MemoryContext mcxt)
{
	const TdgenTransform *t = transform_lookup(name);
	MemoryContext old;
	TdgenTextCall *call;
	int			nparams;
	const char *values[TDGEN_MAX_PARAMS];

	if (t == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown transform \"%s\"", name),
				 errhint("The transforms are listed in the view tdgen.transform.")));
	if (t->text_fn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("transform \"%s\" does not take text values", name),
				 errhint("Only transforms whose input type is text apply inside jsonb and text[] values.")));
	check_execute(t);

	old = MemoryContextSwitchTo(mcxt);
	nparams = param_count(t);
	for (int i = 0; i < nparams; i++)
		values[i] = t->params[i].default_value;

	if (params != NULL)
	{
		JsonbIterator *it;
		JsonbValue	v;
		JsonbIteratorToken tok;
		char	   *key = NULL;

		if (!JB_ROOT_IS_OBJECT(params))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameters of transform \"%s\" must be a JSON object", name)));
		it = JsonbIteratorInit(&params->root);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			int			i;

			if (tok == WJB_KEY)
			{
				key = pnstrdup(v.val.string.val, v.val.string.len);
				continue;
			}
			if (tok != WJB_VALUE)
				continue;
			if (strcmp(key, "transform") == 0)
				continue;
			if (strcmp(key, "scope") == 0)
			{
				if (v.type != jbvString)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("\"scope\" must be a string")));
				scope = cstring_to_text_with_len(v.val.string.val, v.val.string.len);
				continue;
			}
			for (i = 0; i < nparams; i++)
				if (strcmp(t->params[i].name, key) == 0)
					break;
			if (i == nparams)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("transform \"%s\" has no parameter \"%s\"", name, key),
						 errhint("Its parameters are listed in the view tdgen.transform.")));
			values[i] = jsonb_scalar_string(&v, t, &t->params[i]);
		}
	}

	call = palloc0(sizeof(TdgenTextCall));
	call->transform = t;
	call->flinfo.fn_addr = t->text_fn;
	call->flinfo.fn_oid = InvalidOid;
	call->flinfo.fn_strict = true;
	call->flinfo.fn_mcxt = mcxt;
	call->nargs = 1 + nparams + ((t->flags & TDGEN_KEYED) ? 1 : 0);
	call->flinfo.fn_nargs = call->nargs;
	for (int i = 0; i < nparams; i++)
	{
		if (values[i] == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("transform \"%s\" needs parameter \"%s\"", name, t->params[i].name)));
		call->args[1 + i] = param_datum(t, &t->params[i], values[i]);
	}
	if (t->flags & TDGEN_KEYED)
		call->args[1 + nparams] = PointerGetDatum(scope ? cstring_to_text_with_len(VARDATA_ANY(scope),
																				   VARSIZE_ANY_EXHDR(scope))
												  : cstring_to_text(""));
	MemoryContextSwitchTo(old);
	return call;
}

/*
 * TdgenTextCallRun
 *		Apply a prepared text transform to one value.
 */
text *
TdgenTextCallRun(TdgenTextCall *call, text *value)
{
	LOCAL_FCINFO(fcinfo, TDGEN_MAX_PARAMS + 2);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, &call->flinfo, call->nargs, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = PointerGetDatum(value);
	fcinfo->args[0].isnull = false;
	for (int i = 1; i < call->nargs; i++)
	{
		fcinfo->args[i].value = call->args[i];
		fcinfo->args[i].isnull = false;
	}
	result = FunctionCallInvoke(fcinfo);
	if (fcinfo->isnull)
		elog(ERROR, "transform \"%s\" returned NULL", call->transform->name);
	return DatumGetTextPP(result);
}

/*
 * tdgen_transform_registry() returns setof (name text, input_types text[],
 *		parameters jsonb, keyed bool, injective bool, injective_with jsonb,
 *		reversible bool, format_preserving bool)
 */
Datum
tdgen_transform_registry(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (size_t i = 0; i < lengthof(registry); i++)
	{
		const TdgenTransform *t = &registry[i];
		Datum		values[8];
		bool		nulls[8] = {false};
		StringInfoData params;
		char	   *types = pstrdup(t->input_types);
		Datum		type_datums[8];
		int			ntypes = 0;

		for (char *tok = strtok(types, ","); tok && ntypes < 8; tok = strtok(NULL, ","))
			type_datums[ntypes++] = CStringGetTextDatum(tok);

		initStringInfo(&params);
		appendStringInfoChar(&params, '{');
		for (int p = 0; p < param_count(t); p++)
		{
			const TdgenParam *param = &t->params[p];

			if (p > 0)
				appendStringInfoString(&params, ", ");
			escape_json(&params, param->name);
			appendStringInfo(&params, ": {\"type\": \"%s\", \"default\": ", param_type_names[param->type]);
			if (param->default_value == NULL)
				appendStringInfoString(&params, "null");
			else if (param->type == TDGEN_PARAM_TEXT || param->type == TDGEN_PARAM_COLUMN)
				escape_json(&params, param->default_value);
			else
				appendStringInfoString(&params, param->default_value);
			appendStringInfoChar(&params, '}');
		}
		appendStringInfoChar(&params, '}');

		values[0] = CStringGetTextDatum(t->name);
		values[1] = PointerGetDatum(construct_array(type_datums, ntypes, TEXTOID, -1, false, TYPALIGN_INT));
		values[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(params.data));
		values[3] = BoolGetDatum((t->flags & TDGEN_KEYED) != 0);
		values[4] = BoolGetDatum((t->flags & TDGEN_INJECTIVE) != 0);
		nulls[5] = true;
		for (size_t w = 0; w < lengthof(injective_with); w++)
			if (strcmp(injective_with[w].transform, t->name) == 0)
			{
				values[5] = DirectFunctionCall1(jsonb_in, CStringGetDatum(injective_with[w].params));
				nulls[5] = false;
			}
		values[6] = BoolGetDatum((t->flags & TDGEN_REVERSIBLE) != 0);
		values[7] = BoolGetDatum((t->flags & TDGEN_FORMAT_PRESERVING) != 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
