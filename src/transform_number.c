/*-------------------------------------------------------------------------
 *
 * transform_number.c
 *	  Keyed noise on numbers, and numeric buckets.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/numeric.h"

#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_noise_int4);
PG_FUNCTION_INFO_V1(tdgen_noise_int8);
PG_FUNCTION_INFO_V1(tdgen_noise_float8);
PG_FUNCTION_INFO_V1(tdgen_noise_numeric);
PG_FUNCTION_INFO_V1(tdgen_generalize_numeric);

/*
 * The keyed factor 1 + u * pct / 100, u uniform in [-1, 1] from the value's
 * bytes.  Without allow_sign_change (argument 2) the factor never goes
 * below 0, so a value never changes sign (it may reach 0 when pct > 100).
 */
static double
noise_factor(FunctionCallInfo fcinfo, const void *value, size_t len)
{
	float8		pct = PG_GETARG_FLOAT8(1);
	bool		allow_sign_change = PG_GETARG_BOOL(2);
	const uint8 *subkey;
	double		u;
	double		factor;

	if (!(pct >= 0 && pct <= 1000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pct must be between 0 and 1000")));
	subkey = TdgenCallSubkey(fcinfo, "noise", PG_GETARG_TEXT_PP(3));
	u = (double) (TdgenPrf64(subkey, value, len) >> 11) / (double) (UINT64CONST(1) << 52) - 1.0;
	factor = 1.0 + u * pct / 100.0;
	if (factor < 0 && !allow_sign_change)
		factor = 0;
	return factor;
}

/* Round and clamp into [lo, hi]. */
static int64
clamp_round(double x, int64 lo, int64 hi)
{
	x = rint(x);
	if (x <= (double) lo)
		return lo;
	if (x >= (double) hi)
		return hi;
	return (int64) x;
}

/*
 * noise(value int|bigint|float8|numeric, pct float8, allow_sign_change
 *		 boolean, scope text) returns the same type
 *		value * (1 + u * pct/100) with keyed u in [-1, 1]: within +-pct
 *		percent, the same type, integers rounded and kept in range, numeric
 *		rounded to the value's own scale; NaN and infinities stay.
 */
Datum
tdgen_noise_int4(PG_FUNCTION_ARGS)
{
	int32		v = PG_GETARG_INT32(0);

	PG_RETURN_INT32((int32) clamp_round(v * noise_factor(fcinfo, &v, sizeof(v)), PG_INT32_MIN, PG_INT32_MAX));
}

Datum
tdgen_noise_int8(PG_FUNCTION_ARGS)
{
	int64		v = PG_GETARG_INT64(0);

	PG_RETURN_INT64(clamp_round((double) v * noise_factor(fcinfo, &v, sizeof(v)), PG_INT64_MIN, PG_INT64_MAX));
}

Datum
tdgen_noise_float8(PG_FUNCTION_ARGS)
{
	float8		v = PG_GETARG_FLOAT8(0);
	double		factor = noise_factor(fcinfo, &v, sizeof(v));

	if (isnan(v) || isinf(v))
		PG_RETURN_FLOAT8(v);
	/* + 0.0 turns the -0 of a negative value times a zero factor into 0 */
	PG_RETURN_FLOAT8(v * factor + 0.0);
}

Datum
tdgen_noise_numeric(PG_FUNCTION_ARGS)
{
	Numeric		v = PG_GETARG_NUMERIC(0);
	double		factor = noise_factor(fcinfo, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
	Datum		scale;
	Datum		result;

	if (numeric_is_nan(v) || numeric_is_inf(v))
		PG_RETURN_NUMERIC(v);

	/* exact: v * (round(factor * 1e9) / 1e9), rounded to v's scale */
	scale = DirectFunctionCall1(numeric_scale, NumericGetDatum(v));
	result = DirectFunctionCall2(numeric_mul, NumericGetDatum(v),
								 NumericGetDatum(int64_div_fast_to_numeric((int64) rint(factor * 1e9), 9)));
	PG_RETURN_DATUM(DirectFunctionCall2(numeric_round, result, scale));
}

/*
 * generalize(value numeric, bucket numeric) returns numeric
 *		The value rounded down to a multiple of bucket (> 0).  Not keyed.
 */
Datum
tdgen_generalize_numeric(PG_FUNCTION_ARGS)
{
	Numeric		v = PG_GETARG_NUMERIC(0);
	Numeric		bucket = PG_GETARG_NUMERIC(1);
	Datum		zero = NumericGetDatum(int64_to_numeric(0));
	Datum		q;
	Datum		r;

	if (numeric_is_nan(bucket) || numeric_is_inf(bucket) ||
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(bucket), zero)) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bucket must be a positive finite number")));
	if (numeric_is_nan(v) || numeric_is_inf(v))
		PG_RETURN_NUMERIC(v);

	/* floor(v / bucket), exactly: truncate, then step down below zero */
	q = DirectFunctionCall2(numeric_div_trunc, NumericGetDatum(v), NumericGetDatum(bucket));
	r = DirectFunctionCall2(numeric_mod, NumericGetDatum(v), NumericGetDatum(bucket));
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, r, zero)) < 0)
		q = DirectFunctionCall2(numeric_sub, q, NumericGetDatum(int64_to_numeric(1)));
	PG_RETURN_DATUM(DirectFunctionCall2(numeric_mul, q, NumericGetDatum(bucket)));
}
