/*-------------------------------------------------------------------------
 *
 * transform_text.c
 *	  Character-level masks: partial masking and keyed scrambling.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_partial);
PG_FUNCTION_INFO_V1(tdgen_scramble);

/*
 * partial(value text, keep_first int, keep_last int, mask text) returns text
 *		Keeps the first keep_first and last keep_last characters and writes
 *		the mask character in place of every other one.  A value too short
 *		to hide anything (keep_first + keep_last >= its length) is masked
 *		whole.  Counts characters, not bytes.  Not keyed.
 */
Datum
tdgen_partial(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	int32		keep_first = PG_GETARG_INT32(1);
	int32		keep_last = PG_GETARG_INT32(2);
	text	   *mask = PG_GETARG_TEXT_PP(3);
	const char *p = VARDATA_ANY(value);
	const char *end = p + VARSIZE_ANY_EXHDR(value);
	const char *m = VARDATA_ANY(mask);
	int			mlen = VARSIZE_ANY_EXHDR(mask);
	int			nchars;
	StringInfoData out;

	if (keep_first < 0 || keep_last < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("keep_first and keep_last must not be negative")));
	if (mlen == 0 || pg_mblen(m) != mlen)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mask must be exactly one character"),
				 errhint("For example '*', 'X' or '#'.")));

	nchars = pg_mbstrlen_with_len(p, end - p);
	if ((int64) keep_first + keep_last >= nchars)
		keep_first = keep_last = 0;

	initStringInfo(&out);
	for (int i = 0; p < end; i++)
	{
		int			len = pg_mblen(p);

		if (i < keep_first || i >= nchars - keep_last)
			appendBinaryStringInfo(&out, p, len);
		else
			appendBinaryStringInfo(&out, m, mlen);
		p += len;
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}

/*
 * scramble_in_place
 *		Replace, in place, each ASCII digit by a digit and each ASCII letter
 *		by a letter of the same case, drawn from the stream.  Other bytes
 *		(punctuation, spaces, multibyte characters) are left as they are.
 */
static void
scramble_in_place(TdgenStream *stream, char *s, int len)
{
	uint64		word = 0;
	int			left = 0;		/* base-26 draws left in word */

	for (int i = 0; i < len; i++)
	{
		char		c = s[i];
		uint32		n;

		if (c >= '0' && c <= '9')
			n = 10;
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			n = 26;
		else
			continue;

		/* one 64-bit word yields 12 draws of up to 26 values */
		if (left == 0)
		{
			word = TdgenStreamNext(stream);
			left = 12;
		}
		left--;
		if (n == 10)
			s[i] = '0' + (char) (word % 10);
		else
			s[i] = ((c >= 'a') ? 'a' : 'A') + (char) (word % 26);
		word /= 26;
	}
}

/*
 * scramble(value text, scope text) returns text
 *		Same length and layout; digits stay digits and letters stay letters
 *		of the same case, all drawn from a keyed stream seeded by the value.
 */
Datum
tdgen_scramble(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	const uint8 *subkey = TdgenCallSubkey(fcinfo, "scramble", PG_GETARG_TEXT_PP(1));
	int			len = VARSIZE_ANY_EXHDR(value);
	text	   *out = (text *) palloc(VARHDRSZ + len);
	TdgenStream stream;

	SET_VARSIZE(out, VARHDRSZ + len);
	memcpy(VARDATA(out), VARDATA_ANY(value), len);
	TdgenStreamInit(&stream, subkey, VARDATA_ANY(value), len);
	scramble_in_place(&stream, VARDATA(out), len);
	PG_RETURN_TEXT_P(out);
}
