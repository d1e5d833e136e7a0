/*-------------------------------------------------------------------------
 *
 * transform_json.c
 *	  Transforms inside containers: jsonb values at given paths, and every
 *	  element of a text array.
 *
 * jsonb_mask takes a spec object mapping paths to transforms:
 *
 *	  {"$.contact.email": "email",
 *	   "$.cards[*].number": {"transform": "credit_card", "keep_bin": true},
 *	   "$.notes": "lorem"}
 *
 * A path is $ followed by steps: .key, ."quoted key", .* (any key), [n]
 * (array index) and [*] (any element).  A transform applies to every
 * string or number in the subtree a path reaches; numbers come out as
 * strings.  Where several paths reach a value, the longest wins.  The rest
 * of the document is copied unchanged.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"

#include "registry.h"
#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_jsonb_mask);
PG_FUNCTION_INFO_V1(tdgen_array_mask);

#define MAX_DEPTH 64

typedef enum StepKind
{
	STEP_KEY,
	STEP_ANY_KEY,
	STEP_INDEX,
	STEP_ANY_INDEX
} StepKind;

typedef struct PathStep
{
	StepKind	kind;
	char	   *key;
	int			key_len;
	int			index;
} PathStep;

typedef struct MaskPath
{
	int			nsteps;
	PathStep	steps[MAX_DEPTH];
	TdgenTextCall *call;
} MaskPath;

typedef struct MaskSpec
{
	Jsonb	   *spec_copy;		/* to notice a different spec or scope */
	text	   *scope_copy;
	int			npaths;
	MaskPath   *paths;
} MaskSpec;

static void
bad_path(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid JSON path in jsonb_mask spec"),
			 errhint("A path is $ followed by .key, .\"quoted key\", .*, [n] or [*] steps, such as $.contact.email or $.cards[*].number.")));
}

/* Parse "$.a[*].\"b c\"" into steps. */
static void
parse_path(const char *p, int len, MaskPath *path)
{
	const char *end = p + len;

	path->nsteps = 0;
	if (p == end || *p != '$')
		bad_path();
	p++;
	while (p < end)
	{
		PathStep   *step;

		if (path->nsteps >= MAX_DEPTH)
			bad_path();
		step = &path->steps[path->nsteps++];
		if (*p == '.')
		{
			p++;
			if (p < end && *p == '*')
			{
				step->kind = STEP_ANY_KEY;
				p++;
			}
			else if (p < end && *p == '"')
			{
				StringInfoData key;

				initStringInfo(&key);
				for (p++; p < end && *p != '"'; p++)
				{
					if (*p == '\\' && p + 1 < end)
						p++;
					appendStringInfoChar(&key, *p);
				}
				if (p == end)
					bad_path();
				p++;
				step->kind = STEP_KEY;
				step->key = key.data;
				step->key_len = key.len;
			}
			else
			{
				const char *start = p;

				while (p < end && (isalnum((unsigned char) *p) || *p == '_' || IS_HIGHBIT_SET(*p)))
					p++;
				if (p == start)
					bad_path();
				step->kind = STEP_KEY;
				step->key = pnstrdup(start, p - start);
				step->key_len = p - start;
			}
		}
		else if (*p == '[')
		{
			p++;
			if (p < end && *p == '*')
			{
				step->kind = STEP_ANY_INDEX;
				p++;
			}
			else
			{
				int			index = 0;
				const char *start = p;

				while (p < end && *p >= '0' && *p <= '9' && index < 100000000)
					index = index * 10 + (*p++ - '0');
				if (p == start)
					bad_path();
				step->kind = STEP_INDEX;
				step->index = index;
			}
			if (p == end || *p != ']')
				bad_path();
			p++;
		}
		else
			bad_path();
	}
}

static bool
same_text(text *a, text *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

static text *
copy_text(text *t)
{
	return cstring_to_text_with_len(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

/* Parse the spec once per expression (again when it changes). */
static MaskSpec *
mask_spec(FunctionCallInfo fcinfo, Jsonb *spec, text *scope)
{
	TdgenCallCache *cache = TdgenCallCacheGet(fcinfo);
	MaskSpec   *ms = (MaskSpec *) cache->state;
	MemoryContext mcxt;
	MemoryContext old;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	MaskPath   *current = NULL;

	if (ms != NULL && VARSIZE(ms->spec_copy) == VARSIZE(spec) &&
		memcmp(ms->spec_copy, spec, VARSIZE(spec)) == 0 &&
		same_text(ms->scope_copy, scope))
		return ms;

	if (!JB_ROOT_IS_OBJECT(spec))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("jsonb_mask spec must be a JSON object mapping paths to transforms"),
				 errhint("For example {\"$.contact.email\": \"email\"}.")));

	mcxt = TdgenCallStateRebuild(fcinfo);
	old = MemoryContextSwitchTo(mcxt);
	ms = palloc0(sizeof(MaskSpec));
	ms->spec_copy = palloc(VARSIZE(spec));
	memcpy(ms->spec_copy, spec, VARSIZE(spec));
	ms->scope_copy = copy_text(scope);
	ms->paths = palloc0(sizeof(MaskPath) * Max(1, JsonContainerSize(&spec->root)));

	it = JsonbIteratorInit(&spec->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			current = &ms->paths[ms->npaths++];
			parse_path(v.val.string.val, v.val.string.len, current);
		}
		else if (tok == WJB_VALUE && v.type == jbvString)
		{
			char	   *name = pnstrdup(v.val.string.val, v.val.string.len);

			current->call = TdgenTextCallPrepare(name, NULL, scope, mcxt);
		}
		else if (tok == WJB_VALUE && v.type == jbvBinary)
		{
			Jsonb	   *params = JsonbValueToJsonb(&v);
			JsonbValue *name = getKeyJsonValueFromContainer(&params->root, "transform", 9, NULL);

			if (name == NULL || name->type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("a jsonb_mask spec entry must name its transform"),
						 errhint("Give a transform name, or an object such as {\"transform\": \"partial\", \"keep_last\": 2}.")));
			current->call = TdgenTextCallPrepare(pnstrdup(name->val.string.val, name->val.string.len),
												 params, scope, mcxt);
		}
		else if (tok == WJB_VALUE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a jsonb_mask spec entry must be a transform name or an object")));
	}
	MemoryContextSwitchTo(old);
	cache->state = ms;
	return ms;
}

/* where the walk is: one frame per open container */
typedef struct Frame
{
	bool		is_array;
	int			index;			/* next element's index */
	const char *key;			/* current key in an object */
	int			key_len;
} Frame;

static bool
step_matches(const PathStep *step, const Frame *frame)
{
	switch (step->kind)
	{
		case STEP_KEY:
			return !frame->is_array && frame->key_len == step->key_len &&
				memcmp(frame->key, step->key, step->key_len) == 0;
		case STEP_ANY_KEY:
			return !frame->is_array;
		case STEP_INDEX:
			return frame->is_array && frame->index == step->index;
		case STEP_ANY_INDEX:
			return frame->is_array;
	}
	return false;
}

/* The longest path that is a prefix of the current position, or NULL. */
static MaskPath *
match(MaskSpec *ms, Frame *frames, int depth)
{
	MaskPath   *best = NULL;

	for (int i = 0; i < ms->npaths; i++)
	{
		MaskPath   *path = &ms->paths[i];
		bool		ok = path->nsteps <= depth;

		for (int s = 0; ok && s < path->nsteps; s++)
			ok = step_matches(&path->steps[s], &frames[s]);
		if (ok && (best == NULL || path->nsteps > best->nsteps))
			best = path;
	}
	return best;
}

static void
mask_scalar(JsonbValue *v, MaskPath *path)
{
	text	   *in;
	text	   *out;

	if (path == NULL)
		return;
	if (v->type == jbvString)
		in = cstring_to_text_with_len(v->val.string.val, v->val.string.len);
	else if (v->type == jbvNumeric)
		in = cstring_to_text(DatumGetCString(DirectFunctionCall1(numeric_out,
																 NumericGetDatum(v->val.numeric))));
	else
		return;
	out = TdgenTextCallRun(path->call, in);
	v->type = jbvString;
	v->val.string.val = VARDATA_ANY(out);
	v->val.string.len = VARSIZE_ANY_EXHDR(out);
}

/*
 * jsonb_mask(value jsonb, spec jsonb, scope text) returns jsonb
 *		The document with the spec's transforms applied at its paths.
 */
Datum
tdgen_jsonb_mask(PG_FUNCTION_ARGS)
{
	Jsonb	   *value = PG_GETARG_JSONB_P(0);
	MaskSpec   *ms = mask_spec(fcinfo, PG_GETARG_JSONB_P(1), PG_GETARG_TEXT_PP(2));
	JsonbParseState *state = NULL;
	JsonbValue *result = NULL;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	Frame		frames[MAX_DEPTH + 1];
	int			depth = -1;		/* index of the innermost open container */

	it = JsonbIteratorInit(&value->root);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		switch (tok)
		{
			case WJB_BEGIN_ARRAY:
			case WJB_BEGIN_OBJECT:
				if (++depth > MAX_DEPTH)
					ereport(ERROR,
							(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							 errmsg("jsonb value nests deeper than %d levels", MAX_DEPTH)));
				frames[depth].is_array = (tok == WJB_BEGIN_ARRAY);
				frames[depth].index = 0;
				frames[depth].key = NULL;
				frames[depth].key_len = 0;
				result = pushJsonbValue(&state, tok, &v);
				break;
			case WJB_END_ARRAY:
			case WJB_END_OBJECT:
				depth--;
				if (depth >= 0 && frames[depth].is_array)
					frames[depth].index++;
				result = pushJsonbValue(&state, tok, NULL);
				break;
			case WJB_KEY:
				frames[depth].key = v.val.string.val;
				frames[depth].key_len = v.val.string.len;
				result = pushJsonbValue(&state, tok, &v);
				break;
			case WJB_VALUE:
			case WJB_ELEM:
				mask_scalar(&v, match(ms, frames, depth + 1));
				if (tok == WJB_ELEM)
					frames[depth].index++;
				result = pushJsonbValue(&state, tok, &v);
				break;
			default:
				elog(ERROR, "unexpected jsonb token %d", tok);
		}
	}
	PG_RETURN_JSONB_P(JsonbValueToJsonb(result));
}

/*
 * array_mask(value text[], transform text, params jsonb, scope text)
 *		returns text[]
 *		The transform applied to every element; NULL elements stay NULL.
 */
typedef struct ArrayMaskState
{
	text	   *transform;		/* the arguments the call was made for */
	Jsonb	   *params;
	text	   *scope;
	TdgenTextCall *call;
} ArrayMaskState;

Datum
tdgen_array_mask(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	text	   *transform = PG_GETARG_TEXT_PP(1);
	Jsonb	   *params = PG_GETARG_JSONB_P(2);
	text	   *scope = PG_GETARG_TEXT_PP(3);
	TdgenCallCache *cache = TdgenCallCacheGet(fcinfo);
	ArrayMaskState *st = (ArrayMaskState *) cache->state;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (st == NULL || !same_text(st->transform, transform) || !same_text(st->scope, scope) ||
		VARSIZE(st->params) != VARSIZE(params) || memcmp(st->params, params, VARSIZE(params)) != 0)
	{
		MemoryContext mcxt = TdgenCallStateRebuild(fcinfo);
		MemoryContext old = MemoryContextSwitchTo(mcxt);

		st = palloc(sizeof(ArrayMaskState));
		st->transform = copy_text(transform);
		st->scope = copy_text(scope);
		st->params = palloc(VARSIZE(params));
		memcpy(st->params, params, VARSIZE(params));
		st->call = TdgenTextCallPrepare(text_to_cstring(transform), params, scope, mcxt);
		MemoryContextSwitchTo(old);
		cache->state = st;
	}

	/* text elements: variable length, by reference, int alignment */
	typlen = -1;
	typbyval = false;
	typalign = TYPALIGN_INT;
	deconstruct_array(arr, TEXTOID, typlen, typbyval, typalign, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			elems[i] = PointerGetDatum(TdgenTextCallRun(st->call, DatumGetTextPP(elems[i])));
	PG_RETURN_ARRAYTYPE_P(construct_md_array(elems, nulls, ARR_NDIM(arr), ARR_DIMS(arr), ARR_LBOUND(arr),
											 TEXTOID, typlen, typbyval, typalign));
}
