/*-------------------------------------------------------------------------
 *
 * transform_fake.c
 *	  Fake values drawn from the dictionaries: names, usernames, emails,
 *	  postal addresses and placeholder text.
 *
 * Every value is drawn from a keyed stream seeded by the input, so the same
 * input always gives the same fake.  The address parts share one stream
 * ("place"): city, state, zip, street_address and address of the same seed
 * describe the same place.  Their optional entity argument replaces the
 * value as seed, so the columns of one row (seeded by, say, its id) agree.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "dict.h"
#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_first_name);
PG_FUNCTION_INFO_V1(tdgen_last_name);
PG_FUNCTION_INFO_V1(tdgen_full_name);
PG_FUNCTION_INFO_V1(tdgen_username);
PG_FUNCTION_INFO_V1(tdgen_email);
PG_FUNCTION_INFO_V1(tdgen_street_address);
PG_FUNCTION_INFO_V1(tdgen_city);
PG_FUNCTION_INFO_V1(tdgen_state);
PG_FUNCTION_INFO_V1(tdgen_zip);
PG_FUNCTION_INFO_V1(tdgen_address);
PG_FUNCTION_INFO_V1(tdgen_lorem);

typedef enum CaseStyle
{
	CASE_AS_IS,
	CASE_UPPER,
	CASE_LOWER
} CaseStyle;

/* All-caps input gets all-caps output, all-lowercase gets lowercase. */
static CaseStyle
case_style(text *value)
{
	const char *p = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	bool		upper = false;
	bool		lower = false;

	for (int i = 0; i < len; i++)
	{
		upper |= (p[i] >= 'A' && p[i] <= 'Z');
		lower |= (p[i] >= 'a' && p[i] <= 'z');
	}
	if (upper && !lower)
		return CASE_UPPER;
	if (lower && !upper)
		return CASE_LOWER;
	return CASE_AS_IS;
}

/* Finish a TdgenTextStart buffer in the given case. */
static text *
styled_text(StringInfo s, CaseStyle style)
{
	for (int i = VARHDRSZ; i < s->len && style != CASE_AS_IS; i++)
	{
		if (style == CASE_UPPER)
			s->data[i] = pg_ascii_toupper((unsigned char) s->data[i]);
		else
			s->data[i] = pg_ascii_tolower((unsigned char) s->data[i]);
	}
	return TdgenTextFinish(s);
}

/* A stream for `transform` seeded by the value (argument 0). */
static void
value_stream(FunctionCallInfo fcinfo, const char *transform, int scope_arg, TdgenStream *stream)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	const uint8 *subkey = TdgenCallSubkey(fcinfo, transform, PG_GETARG_TEXT_PP(scope_arg));

	TdgenStreamInit(stream, subkey, VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
}

/* Copy n ASCII-lowercased bytes of src to dst; returns the end of dst. */
static inline char *
copy_lower(char *dst, const char *src, int n)
{
	for (int i = 0; i < n; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? src[i] + ('a' - 'A') : src[i];
	return dst + n;
}

static void
append_lower(StringInfo s, const char *word)
{
	int			start = s->len;

	appendStringInfoString(s, word);
	for (int i = start; i < s->len; i++)
		s->data[i] = pg_ascii_tolower((unsigned char) s->data[i]);
}

/* n as exactly `width` digits (width > 0), or as few as it needs (0) */
static void
append_number(StringInfo s, int n, int width)
{
	char		buf[12];
	int			len = 0;

	do
	{
		buf[len++] = '0' + n % 10;
		n /= 10;
	} while (n > 0 || len < width);
	while (len > 0)
		appendStringInfoChar(s, buf[--len]);
}

/*
 * first_name / last_name / full_name(value text, scope text) returns text
 *		A name drawn by census frequency; case follows the input's.
 */
/* One name from a dictionary, in the case of the input. */
static text *
one_name(FunctionCallInfo fcinfo, const char *transform, const TdgenDict *dict)
{
	TdgenStream stream;
	StringInfoData s;

	value_stream(fcinfo, transform, 1, &stream);
	TdgenTextStart(&s, 32);
	appendStringInfoString(&s, TdgenDictPick(dict, TdgenStreamNext(&stream)));
	return styled_text(&s, case_style(PG_GETARG_TEXT_PP(0)));
}

Datum
tdgen_first_name(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(one_name(fcinfo, "first_name", &tdgen_first_names));
}

Datum
tdgen_last_name(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(one_name(fcinfo, "last_name", &tdgen_last_names));
}

Datum
tdgen_full_name(PG_FUNCTION_ARGS)
{
	TdgenStream stream;
	StringInfoData s;
	uint64		r;

	value_stream(fcinfo, "full_name", 1, &stream);
	r = TdgenStreamNext(&stream);
	TdgenTextStart(&s, 32);
	appendStringInfoString(&s, TdgenDictPick(&tdgen_first_names, r & 0xffffffff));
	appendStringInfoChar(&s, ' ');
	appendStringInfoString(&s, TdgenDictPick(&tdgen_last_names, r >> 32));
	PG_RETURN_TEXT_P(styled_text(&s, case_style(PG_GETARG_TEXT_PP(0))));
}

/*
 * username(value text, scope text) returns text
 *		A login built from a fake name in one of a few common patterns
 *		(jsmith, john.smith, johnsmith42, smithj).  Not injective.
 */
Datum
tdgen_username(PG_FUNCTION_ARGS)
{
	TdgenStream stream;
	StringInfoData s;
	const char *first;
	const char *last;
	uint64		r;

	value_stream(fcinfo, "username", 1, &stream);
	r = TdgenStreamNext(&stream);
	first = TdgenDictPick(&tdgen_first_names, r & 0xffffffff);
	last = TdgenDictPick(&tdgen_last_names, r >> 32);
	r = stream.block[0];		/* the seed: pattern and number */

	TdgenTextStart(&s, 32);
	switch (r % 4)
	{
		case 0:
			appendStringInfoChar(&s, pg_ascii_tolower((unsigned char) first[0]));
			append_lower(&s, last);
			break;
		case 1:
			append_lower(&s, first);
			appendStringInfoChar(&s, '.');
			append_lower(&s, last);
			break;
		case 2:
			append_lower(&s, first);
			append_lower(&s, last);
			append_number(&s, (int) ((r >> 8) % 100), 0);
			break;
		default:
			append_lower(&s, last);
			appendStringInfoChar(&s, pg_ascii_tolower((unsigned char) first[0]));
			break;
	}
	PG_RETURN_TEXT_P(TdgenTextFinish(&s));
}

/*
 * email(value text, keep_domain boolean, scope text) returns text
 *		first.last.SUFFIX@DOMAIN, where SUFFIX is 64 bits of the keyed hash
 *		of the whole value in base 36: distinct inputs collide with
 *		probability n^2 / 2^65 (3e-8 for a million addresses).  DOMAIN is
 *		example.com, .net or .org, or the input's own domain when
 *		keep_domain is true and it has one.
 */
Datum
tdgen_email(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	bool		keep_domain = PG_GETARG_BOOL(1);
	const char *p = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	TdgenStream stream;
	uint64		r;
	uint64		suffix;
	char		digits[16];
	int			ndigits = 0;
	const char *first;
	const char *last;
	const char *domain = NULL;
	int			first_len;
	int			last_len;
	int			domain_len = 0;
	text	   *result;
	char	   *out;

	value_stream(fcinfo, "email", 2, &stream);
	r = TdgenStreamNext(&stream);
	first = TdgenDictPick(&tdgen_first_names, r);
	last = TdgenDictPick(&tdgen_last_names, r >> 32);

	/* the stream's seed is the 64-bit keyed hash of the value */
	suffix = stream.block[0];
	do
	{
		digits[ndigits++] = "0123456789abcdefghijklmnopqrstuvwxyz"[suffix % 36];
		suffix /= 36;
	} while (suffix > 0);

	if (keep_domain)
	{
		for (int i = len - 1; i >= 0; i--)
			if (p[i] == '@')
			{
				domain = p + i + 1;
				domain_len = len - i - 1;
				break;
			}
	}
	if (domain_len == 0)
	{
		domain = TdgenDictPick(&tdgen_example_domains, stream.block[0] >> 32);
		domain_len = strlen(domain);
	}

	/* one allocation, written in place: this runs once per value */
	first_len = strlen(first);
	last_len = strlen(last);
	result = (text *) palloc(VARHDRSZ + first_len + last_len + ndigits + domain_len + 3);
	SET_VARSIZE(result, VARHDRSZ + first_len + last_len + ndigits + domain_len + 3);
	out = VARDATA(result);
	out = copy_lower(out, first, first_len);
	*out++ = '.';
	out = copy_lower(out, last, last_len);
	*out++ = '.';
	while (ndigits > 0)
		*out++ = digits[--ndigits];
	*out++ = '@';
	memcpy(out, domain, domain_len);
	PG_RETURN_TEXT_P(result);
}

/* ---------------------------------------------------------------------
 * Postal addresses
 * ---------------------------------------------------------------------
 */

typedef struct FakePlace
{
	const TdgenPlace *place;
	int			number;			/* house number */
	const char *street;
	const char *suffix;
	int			zip;
	int			zip4;
} FakePlace;

/*
 * Draw a place from the "place" stream of the entity (argument 1) when it
 * is not empty, else of the value, always in the same order.
 */
static void
draw_place(FunctionCallInfo fcinfo, FakePlace *fp)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	text	   *entity = PG_GETARG_TEXT_PP(1);
	text	   *seed = VARSIZE_ANY_EXHDR(entity) > 0 ? entity : value;
	const uint8 *subkey = TdgenCallSubkey(fcinfo, "place", PG_GETARG_TEXT_PP(2));
	TdgenStream stream;
	uint64		r;

	/* three words, 32 or 16 bits a draw */
	TdgenStreamInit(&stream, subkey, VARDATA_ANY(seed), VARSIZE_ANY_EXHDR(seed));
	r = TdgenStreamNext(&stream);
	fp->place = &tdgen_places[(r & 0xffffffff) % tdgen_place_count];
	fp->number = 1 + (int) ((r >> 32) % 9899);
	r = TdgenStreamNext(&stream);
	fp->street = ((r >> 48) % 5 < 2) ? TdgenDictPick(&tdgen_street_names, r & 0xffffffff)
		: TdgenDictPick(&tdgen_last_names, r & 0xffffffff);
	fp->suffix = TdgenDictPick(&tdgen_street_suffixes, (r >> 32) & 0xffff);
	r = TdgenStreamNext(&stream);
	fp->zip = 501 + (int) ((r & 0xffffffff) % 99000);
	fp->zip4 = (int) ((r >> 32) % 10000);
}

static void
append_street(StringInfo s, const FakePlace *fp)
{
	append_number(s, fp->number, 0);
	appendStringInfoChar(s, ' ');
	appendStringInfoString(s, fp->street);
	appendStringInfoChar(s, ' ');
	appendStringInfoString(s, fp->suffix);
}

/*
 * street_address / city / state / zip / address
 *		(value text, entity text, scope text) returns text
 *
 * state gives the USPS code for a two-letter input and the full name
 * otherwise; zip keeps a ZIP+4 shape.  address is one line:
 * "number street suffix, city, ST zip".
 */
Datum
tdgen_street_address(PG_FUNCTION_ARGS)
{
	FakePlace	fp;
	StringInfoData s;

	draw_place(fcinfo, &fp);
	TdgenTextStart(&s, 32);
	append_street(&s, &fp);
	PG_RETURN_TEXT_P(styled_text(&s, case_style(PG_GETARG_TEXT_PP(0))));
}

Datum
tdgen_city(PG_FUNCTION_ARGS)
{
	FakePlace	fp;
	StringInfoData s;

	draw_place(fcinfo, &fp);
	TdgenTextStart(&s, 32);
	appendStringInfoString(&s, fp.place->city);
	PG_RETURN_TEXT_P(styled_text(&s, case_style(PG_GETARG_TEXT_PP(0))));
}

Datum
tdgen_state(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	const TdgenState *state;
	FakePlace	fp;
	StringInfoData s;

	draw_place(fcinfo, &fp);
	state = &tdgen_states[fp.place->state];
	TdgenTextStart(&s, 32);
	appendStringInfoString(&s, VARSIZE_ANY_EXHDR(value) == 2 ? state->code : state->name);
	PG_RETURN_TEXT_P(styled_text(&s, case_style(value)));
}

Datum
tdgen_zip(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	FakePlace	fp;
	StringInfoData s;

	draw_place(fcinfo, &fp);
	TdgenTextStart(&s, 10);
	append_number(&s, fp.zip, 5);
	if (VARSIZE_ANY_EXHDR(value) == 10 && VARDATA_ANY(value)[5] == '-')
	{
		appendStringInfoChar(&s, '-');
		append_number(&s, fp.zip4, 4);
	}
	PG_RETURN_TEXT_P(TdgenTextFinish(&s));
}

Datum
tdgen_address(PG_FUNCTION_ARGS)
{
	FakePlace	fp;
	StringInfoData s;

	draw_place(fcinfo, &fp);
	TdgenTextStart(&s, 32);
	append_street(&s, &fp);
	appendStringInfoString(&s, ", ");
	appendStringInfoString(&s, fp.place->city);
	appendStringInfoString(&s, ", ");
	appendStringInfoString(&s, tdgen_states[fp.place->state].code);
	appendStringInfoChar(&s, ' ');
	append_number(&s, fp.zip, 5);
	PG_RETURN_TEXT_P(TdgenTextFinish(&s));
}

/*
 * lorem(value text, scope text) returns text
 *		Placeholder words of about the value's length in characters, as
 *		sentences: capitalised, ending with a period when the value does.
 *		Nothing of the value but its length survives.
 */
/*
 * Characters in a valid string of the database encoding: in UTF-8, the
 * bytes that do not continue a character, a loop the compiler vectorises.
 */
static int
char_count(const char *p, int len)
{
	int			n = 0;

	if (GetDatabaseEncoding() != PG_UTF8)
		return pg_database_encoding_max_length() == 1 ? len : pg_mbstrlen_with_len(p, len);
	for (int i = 0; i < len; i++)
		n += ((unsigned char) p[i] & 0xC0) != 0x80;
	return n;
}

Datum
tdgen_lorem(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	const char *p = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	int			target = char_count(p, len);
	bool		period = len > 0 && p[len - 1] == '.';
	int			goal = target - (period ? 1 : 0);
	TdgenStream stream;
	text	   *result;
	char	   *start;
	char	   *out;
	bool		sentence_start = true;
	uint64		bits = 0;
	int			draws_left = 0;

	value_stream(fcinfo, "lorem", 1, &stream);

	/*
	 * The last word starts before the goal and adds at most a space, the
	 * longest word and a period; a final period may follow.  All ASCII.
	 */
	result = (text *) palloc(VARHDRSZ + Max(goal, 0) + 32);
	start = out = VARDATA(result);
	while (out - start < goal)
	{
		const char *word;
		int			word_len;
		uint32		draw;

		/* four 16-bit draws from each 64-bit word of the stream */
		if (draws_left == 0)
		{
			bits = TdgenStreamNext(&stream);
			draws_left = 4;
		}
		draw = (uint32) (bits & 0xffff);
		bits >>= 16;
		draws_left--;

		word = TdgenDictPick(&tdgen_lorem_words, draw);
		word_len = strlen(word);
		if (out > start)
			*out++ = ' ';
		memcpy(out, word, word_len);
		if (sentence_start)
			*out = pg_ascii_toupper((unsigned char) *out);
		out += word_len;
		sentence_start = false;

		/* end a sentence every dozen words or so */
		if ((draw / tdgen_lorem_words.count) % 12 == 0 && out - start < goal - 2)
		{
			*out++ = '.';
			sentence_start = true;
		}
	}
	if (period && (out == start || out[-1] != '.'))
		*out++ = '.';
	SET_VARSIZE(result, VARHDRSZ + (out - start));
	PG_RETURN_TEXT_P(result);
}
