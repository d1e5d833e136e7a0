/*-------------------------------------------------------------------------
 *
 * transform_time.c
 *	  Keyed date shifts and birth dates.
 *
 * date_shift moves a date or timestamp by a keyed number of whole days.
 * Seeded by an entity (a patient id, an order id...), every date of that
 * entity moves by the same offset, so intervals between its events stay
 * true; seeded by the value alone, each value moves on its own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_date_shift_date);
PG_FUNCTION_INFO_V1(tdgen_date_shift_timestamp);
PG_FUNCTION_INFO_V1(tdgen_date_shift_timestamptz);
PG_FUNCTION_INFO_V1(tdgen_birth_date);

#define MAX_SHIFT_DAYS 36500

/*
 * Offset in days, never 0, within [-max_days, max_days]: from the entity
 * (argument 2) when it is not empty, else from the value's bytes.
 */
static int
shift_days(FunctionCallInfo fcinfo, const void *value, size_t len)
{
	int32		max_days = PG_GETARG_INT32(1);
	text	   *entity = PG_GETARG_TEXT_PP(2);
	const uint8 *subkey;
	uint64		r;
	int			k;

	if (max_days < 1 || max_days > MAX_SHIFT_DAYS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_days must be between 1 and %d", MAX_SHIFT_DAYS)));
	subkey = TdgenCallSubkey(fcinfo, "date_shift", PG_GETARG_TEXT_PP(3));
	if (VARSIZE_ANY_EXHDR(entity) > 0)
		r = TdgenPrf64(subkey, VARDATA_ANY(entity), VARSIZE_ANY_EXHDR(entity));
	else
		r = TdgenPrf64(subkey, value, len);
	k = (int) (r % (uint64) (2 * max_days));
	return (k < max_days) ? k - max_days : k - max_days + 1;
}

/*
 * date_shift(value date|timestamp|timestamptz, max_days int, entity text,
 *			  scope text) returns the same type
 *		The value moved by a keyed, non-zero number of days within
 *		+-max_days; infinities stay.  A shift that would leave the type's
 *		range goes the other way.
 */
Datum
tdgen_date_shift_date(PG_FUNCTION_ARGS)
{
	DateADT		d = PG_GETARG_DATEADT(0);
	int			days;

	if (DATE_NOT_FINITE(d))
		PG_RETURN_DATEADT(d);
	days = shift_days(fcinfo, &d, sizeof(d));
	if (!IS_VALID_DATE((int64) d + days))
		days = -days;
	PG_RETURN_DATEADT(d + days);
}

static Timestamp
shift_timestamp(FunctionCallInfo fcinfo, Timestamp t)
{
	int64		shifted;

	if (TIMESTAMP_NOT_FINITE(t))
		return t;
	shifted = t + (int64) shift_days(fcinfo, &t, sizeof(t)) * USECS_PER_DAY;
	if (!IS_VALID_TIMESTAMP(shifted))
		shifted = t - (shifted - t);
	return shifted;
}

Datum
tdgen_date_shift_timestamp(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMP(shift_timestamp(fcinfo, PG_GETARG_TIMESTAMP(0)));
}

Datum
tdgen_date_shift_timestamptz(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(shift_timestamp(fcinfo, PG_GETARG_TIMESTAMPTZ(0)));
}

/*
 * birth_date(value date, year_band int, scope text) returns date
 *		A keyed day of the same year (year_band 1), or of a keyed year in
 *		the same band of year_band years (5: 1980-1984...), so ages stay
 *		right to the year or band.  Infinities stay.
 */
Datum
tdgen_birth_date(PG_FUNCTION_ARGS)
{
	DateADT		d = PG_GETARG_DATEADT(0);
	int32		band = PG_GETARG_INT32(1);
	const uint8 *subkey;
	int			year,
				month,
				day;
	int			first;
	int			days_in_year;
	uint64		r;

	if (band < 1 || band > 100)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("year_band must be between 1 and 100")));
	if (DATE_NOT_FINITE(d))
		PG_RETURN_DATEADT(d);

	subkey = TdgenCallSubkey(fcinfo, "birth_date", PG_GETARG_TEXT_PP(2));
	r = TdgenPrf64(subkey, &d, sizeof(d));
	j2date(d + POSTGRES_EPOCH_JDATE, &year, &month, &day);
	if (band > 1)
	{
		int			base = year - ((year % band) + band) % band;

		year = base + (int) ((r >> 32) % (uint64) band);
	}
	first = date2j(year, 1, 1);
	days_in_year = date2j(year + 1, 1, 1) - first;
	PG_RETURN_DATEADT(first + (int) (r % (uint64) days_in_year) - POSTGRES_EPOCH_JDATE);
}
