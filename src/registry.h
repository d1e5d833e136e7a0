/*-------------------------------------------------------------------------
 *
 * registry.h
 *	  The transform registry and calls of text transforms by name.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TDGEN_REGISTRY_H
#define TDGEN_REGISTRY_H

#include "fmgr.h"
#include "utils/jsonb.h"

#define TDGEN_MAX_PARAMS 6

/* transform properties */
#define TDGEN_KEYED					0x01	/* output depends on the masking key */
#define TDGEN_INJECTIVE				0x02	/* distinct inputs, distinct outputs */
#define TDGEN_REVERSIBLE			0x04	/* an inverse exists in tdgen */
#define TDGEN_FORMAT_PRESERVING		0x08	/* output has the input's shape */

typedef enum TdgenParamType
{
	TDGEN_PARAM_INT,
	TDGEN_PARAM_BOOL,
	TDGEN_PARAM_TEXT,
	TDGEN_PARAM_FLOAT,
	TDGEN_PARAM_NUMERIC,
	TDGEN_PARAM_JSONB,
	TDGEN_PARAM_COLUMN			/* another column of the same row, by name */
} TdgenParamType;

typedef struct TdgenParam
{
	const char *name;
	TdgenParamType type;
	const char *default_value;	/* NULL when required */
} TdgenParam;

typedef struct TdgenTransform
{
	const char *name;
	const char *input_types;	/* comma-separated SQL type names */
	PGFunction	text_fn;		/* C entry point when callable on text */
	int			flags;
	TdgenParam	params[TDGEN_MAX_PARAMS];
} TdgenTransform;

/* A text transform resolved with its arguments, ready to run repeatedly. */
typedef struct TdgenTextCall
{
	const TdgenTransform *transform;
	FmgrInfo	flinfo;			/* its fn_extra caches the sub-key */
	int			nargs;
	Datum		args[TDGEN_MAX_PARAMS + 2];
} TdgenTextCall;

extern TdgenTextCall *TdgenTextCallPrepare(const char *name, Jsonb *params, text *scope,
										   MemoryContext mcxt);
extern text *TdgenTextCallRun(TdgenTextCall *call, text *value);

/* the text transforms' entry points, for the registry */
extern Datum tdgen_hash(PG_FUNCTION_ARGS);
extern Datum tdgen_partial(PG_FUNCTION_ARGS);
extern Datum tdgen_scramble(PG_FUNCTION_ARGS);
extern Datum tdgen_lorem(PG_FUNCTION_ARGS);
extern Datum tdgen_first_name(PG_FUNCTION_ARGS);
extern Datum tdgen_last_name(PG_FUNCTION_ARGS);
extern Datum tdgen_full_name(PG_FUNCTION_ARGS);
extern Datum tdgen_username(PG_FUNCTION_ARGS);
extern Datum tdgen_email(PG_FUNCTION_ARGS);
extern Datum tdgen_street_address(PG_FUNCTION_ARGS);
extern Datum tdgen_city(PG_FUNCTION_ARGS);
extern Datum tdgen_state(PG_FUNCTION_ARGS);
extern Datum tdgen_zip(PG_FUNCTION_ARGS);
extern Datum tdgen_address(PG_FUNCTION_ARGS);
extern Datum tdgen_phone(PG_FUNCTION_ARGS);
extern Datum tdgen_ssn(PG_FUNCTION_ARGS);
extern Datum tdgen_credit_card(PG_FUNCTION_ARGS);
extern Datum tdgen_iban(PG_FUNCTION_ARGS);
extern Datum tdgen_fpe_encrypt(PG_FUNCTION_ARGS);
extern Datum tdgen_fpe_decrypt(PG_FUNCTION_ARGS);

#endif							/* TDGEN_REGISTRY_H */
