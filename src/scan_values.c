/*-------------------------------------------------------------------------
 *
 * scan_values.c
 *	  What the sensitivity scan learns from a sample of a column's values:
 *	  how many have each recognised shape, never the values themselves.
 *
 * A value's shape is checked as an application's validator would check
 * it: card numbers by Luhn, NPIs by Luhn over the 80840 prefix, DEA
 * numbers by their checksum, IBANs by mod 97, emails by their syntax, IP
 * and MAC addresses by their notation.  Names and places are looked up in
 * the census dictionaries compiled into the library.  The profile holds
 * counts only; the sample stays in the caller's memory.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "dict.h"
#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_value_profile);
PG_FUNCTION_INFO_V1(tdgen_value_signal);

/* The signals of a profile, in its output order. */
typedef enum Signal
{
	SIG_EMAIL,
	SIG_LUHN,
	SIG_IBAN,
	SIG_NPI,
	SIG_DEA,
	SIG_SSN,
	SIG_IP,
	SIG_MAC,
	SIG_PHONE,
	SIG_ZIP,
	SIG_FULL_NAME,
	SIG_FIRST_NAME,
	SIG_LAST_NAME,
	SIG_PLACE,
	SIG_STREET,
	SIG_URL,
	SIG_URL_CREDENTIALS,
	SIG_FREE_TEXT,
	SIG_NAMES_IN_TEXT,
	SIG_EMAIL_IN_TEXT,
	SIG_NAME_HANDLE,
	SIG_ABA,
	SIG_CODE,
	SIG_DIGITS,
	SIG_COUNT
} Signal;

static const char *const signal_names[SIG_COUNT] = {
	"email", "luhn", "mod97", "npi", "dea", "ssn", "ip", "mac", "phone", "zip",
	"full_name", "first_name", "last_name", "place", "street", "url",
	"url_credentials", "free_text", "names_in_text", "email_in_text", "name_handle", "aba", "code", "digits"
};

/* at most this many words of a value are looked at */
#define MAX_WORDS 64

/* A word of a value: its bytes, upper-cased. */
typedef struct Word
{
	char		text[64];
	bool		capitalized;	/* written Xxx */
	bool		letters;		/* only letters, apostrophes, hyphens, dots */
	bool		ends_sentence;	/* followed by . ! or ? */
	bool		comma;			/* followed by a comma */
} Word;

/*
 * Dictionaries as sorted arrays of upper-case words, for binary search.
 * Built on first use and kept for the backend's life in a child of
 * TopMemoryContext: the same for every call, a megabyte or so.
 */
typedef struct Lexicon
{
	int			count;
	char	  **words;
} Lexicon;

static Lexicon first_names;
static Lexicon last_names;
static Lexicon places;
static bool lexicons_built = false;

static int
compare_words(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static char *
upper_copy(const char *s)
{
	char	   *u = pstrdup(s);

	for (char *p = u; *p; p++)
		*p = pg_ascii_toupper((unsigned char) *p);
	return u;
}

static void
lexicon_build(Lexicon *lex, int count, const char *(*word) (int))
{
	lex->words = palloc(sizeof(char *) * count);
	lex->count = count;
	for (int i = 0; i < count; i++)
		lex->words[i] = upper_copy(word(i));
	qsort(lex->words, count, sizeof(char *), compare_words);
}

static const char *
first_name_word(int i)
{
	return tdgen_first_names.words[i];
}

static const char *
last_name_word(int i)
{
	return tdgen_last_names.words[i];
}

static const char *
place_word(int i)
{
	return tdgen_places[i].city;
}

static void
lexicons_init(void)
{
	MemoryContext cxt;
	MemoryContext old;

	if (lexicons_built)
		return;
	cxt = AllocSetContextCreate(TopMemoryContext, "tdgen scan dictionaries", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	lexicon_build(&first_names, tdgen_first_names.count, first_name_word);
	lexicon_build(&last_names, tdgen_last_names.count, last_name_word);
	lexicon_build(&places, tdgen_place_count, place_word);
	MemoryContextSwitchTo(old);
	lexicons_built = true;
}

static bool
lexicon_has(const Lexicon *lex, const char *upper)
{
	return bsearch(&upper, lex->words, lex->count, sizeof(char *), compare_words) != NULL;
}

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool
is_letter(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IS_HIGHBIT_SET(c);
}

static inline bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Splits s into words at white space; returns how many (at most MAX_WORDS). */
static int
split_words(const char *s, int len, Word *words)
{
	int			n = 0;
	int			i = 0;

	while (i < len && n < MAX_WORDS)
	{
		int			start;
		int			end;
		Word	   *w;
		int			k = 0;

		while (i < len && isspace((unsigned char) s[i]))
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && !isspace((unsigned char) s[i]))
			i++;
		end = i;
		w = &words[n++];
		memset(w, 0, sizeof(Word));
		/* punctuation around a word is not part of it */
		while (start < end && strchr("(\"'[", s[start]))
			start++;
		while (end > start && strchr(",.;:!?)\"']", s[end - 1]))
		{
			w->ends_sentence |= strchr(".!?", s[end - 1]) != NULL;
			w->comma |= s[end - 1] == ',';
			end--;
		}
		w->letters = end > start;
		w->capitalized = end - start >= 2 && s[start] >= 'A' && s[start] <= 'Z';
		for (int j = start; j < end; j++)
		{
			char		c = s[j];

			if (!is_letter(c) && c != '\'' && c != '-' && c != '.')
				w->letters = false;
			if (j > start && c >= 'A' && c <= 'Z')
				w->capitalized = false;
			if (k < (int) sizeof(w->text) - 1)
				w->text[k++] = pg_ascii_toupper((unsigned char) c);
		}
		w->text[k] = '\0';
	}
	return n;
}

static int
count_digits(const char *s, int len)
{
	int			n = 0;

	for (int i = 0; i < len; i++)
		n += is_digit(s[i]);
	return n;
}

/* digits of s (at most max) into d; returns how many */
static int
take_digits(const char *s, int len, uint8 *d, int max)
{
	int			n = 0;

	for (int i = 0; i < len && n < max; i++)
		if (is_digit(s[i]))
			d[n++] = (uint8) (s[i] - '0');
	return n;
}

static bool
only_chars(const char *s, int len, const char *allowed, bool digits)
{
	for (int i = 0; i < len; i++)
		if (!(digits && is_digit(s[i])) && strchr(allowed, s[i]) == NULL)
			return false;
	return true;
}

static bool
check_email(const char *s, int len)
{
	const char *at = memchr(s, '@', len);
	int			local;
	int			dot = -1;
	int			tld = 0;

	if (at == NULL || memchr(at + 1, '@', len - (at - s) - 1) != NULL)
		return false;
	local = at - s;
	if (local < 1 || local > 64 || s[0] == '.' || s[local - 1] == '.')
		return false;
	for (int i = 0; i < local; i++)
		if (!is_letter(s[i]) && !is_digit(s[i]) && strchr(".!#$%&'*+/=?^_`{|}~-", s[i]) == NULL)
			return false;
	for (int i = local + 1; i < len; i++)
	{
		if (s[i] == '.')
		{
			if (i == local + 1 || s[i - 1] == '.')
				return false;
			dot = i;
			tld = 0;
		}
		else if (is_letter(s[i]))
			tld++;
		else if (is_digit(s[i]) || s[i] == '-')
			tld = -1000;
		else
			return false;
	}
	return dot > 0 && tld >= 2;
}

/* 12 to 19 digits, grouped by spaces or dashes, valid by Luhn, not all one digit */
static bool
check_luhn(const char *s, int len)
{
	uint8		d[20];
	int			n;
	bool		same = true;

	if (!only_chars(s, len, " -", true) || count_digits(s, len) > 19)
		return false;
	n = take_digits(s, len, d, 19);
	if (n < 12)
		return false;
	for (int i = 1; i < n; i++)
		same &= d[i] == d[0];
	return !same && TdgenLuhnDigit(d, n - 1) == d[n - 1];
}

/* a US National Provider Identifier: 10 digits, 1 or 2 first, Luhn over 80840 + the 9 first */
static bool
check_npi(const char *s, int len)
{
	uint8		d[15] = {8, 0, 8, 4, 0};

	if (len != 10 || !only_chars(s, len, "", true) || (s[0] != '1' && s[0] != '2'))
		return false;
	take_digits(s, len, d + 5, 10);
	return TdgenLuhnDigit(d, 14) == d[14];
}

/* a DEA registration number: two letters, seven digits, its checksum */
static bool
check_dea(const char *s, int len)
{
	uint8		d[7];
	int			sum;

	if (len != 9 || strchr("ABCDEFGHJKLMPRSTUXabcdefghjklmprstux", s[0]) == NULL || !is_letter(s[1]) ||
		!only_chars(s + 2, 7, "", true))
		return false;
	take_digits(s + 2, 7, d, 7);
	sum = d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5]);
	return sum % 10 == d[6];
}

static bool
check_iban(const char *s, int len)
{
	uint8		c[34];
	int			n = 0;

	for (int i = 0; i < len; i++)
	{
		char		ch = pg_ascii_toupper((unsigned char) s[i]);

		if (ch == ' ')
			continue;
		if (n == 34 || !(is_digit(ch) || (ch >= 'A' && ch <= 'Z')))
			return false;
		c[n++] = is_digit(ch) ? (uint8) (ch - '0') : (uint8) (10 + ch - 'A');
	}
	if (n < 15 || c[0] < 10 || c[1] < 10 || c[2] >= 10 || c[3] >= 10)
		return false;
	return TdgenIbanCheck(c, n) == c[2] * 10 + c[3];
}

/* AAA-GG-SSSS (dashes or none) in the ranges ever issued or as ITINs */
static bool
check_ssn(const char *s, int len)
{
	uint8		d[9];

	if (!((len == 11 && s[3] == '-' && s[6] == '-') || len == 9) ||
		count_digits(s, len) != 9 || take_digits(s, len, d, 9) != 9)
		return false;
	if (len == 11 && (!is_digit(s[0]) || !is_digit(s[4]) || !is_digit(s[7])))
		return false;
	return !(d[0] == 0 && d[1] == 0 && d[2] == 0) && !(d[0] == 6 && d[1] == 6 && d[2] == 6) &&
		!(d[3] == 0 && d[4] == 0) && !(d[5] == 0 && d[6] == 0 && d[7] == 0 && d[8] == 0);
}

/* a US bank routing (ABA) number: nine digits, weights 3 7 1 */
static bool
check_aba(const char *s, int len)
{
	uint8		d[9];

	if (len != 9 || !only_chars(s, len, "", true))
		return false;
	take_digits(s, len, d, 9);
	return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 == 0;
}

static bool
check_ip(const char *s, int len)
{
	int			octets = 0;
	int			value = -1;
	int			colons = 0;

	if (len >= 7 && only_chars(s, len, "./", true))
	{
		for (int i = 0; i <= len; i++)
		{
			if (i == len || s[i] == '.' || s[i] == '/')
			{
				if (value < 0 || value > 255)
					return false;
				octets++;
				value = -1;
				if (i < len && s[i] == '/')
					return octets == 4;
			}
			else
				value = (value < 0 ? 0 : value * 10) + (s[i] - '0');
		}
		return octets == 4;
	}
	for (int i = 0; i < len; i++)
	{
		if (s[i] == '/')
			break;
		if (s[i] == ':')
			colons++;
		else if (!is_hex(s[i]) && s[i] != '.')
			return false;
	}
	return colons >= 2 && colons <= 7;
}

static bool
check_mac(const char *s, int len)
{
	if (len == 17)
	{
		for (int i = 0; i < 17; i++)
			if (i % 3 == 2 ? (s[i] != s[2] || (s[i] != ':' && s[i] != '-')) : !is_hex(s[i]))
				return false;
		return true;
	}
	if (len == 14)
	{
		for (int i = 0; i < 14; i++)
			if (i % 5 == 4 ? s[i] != '.' : !is_hex(s[i]))
				return false;
		return true;
	}
	return false;
}

/*
 * A telephone number: 7 to 15 digits written with phone punctuation, or 10
 * digits (11 with a leading 1) bare, as North American numbers are
 * stored; other bare digit strings are more often barcodes or ids.
 */
static bool
check_phone(const char *s, int len)
{
	int			digits;
	int			body = len;

	/* an extension after the number: "x123", "ext. 123", "#123" */
	for (int i = 0; i < len; i++)
		if (s[i] == 'x' || s[i] == 'X' || s[i] == '#' || s[i] == 'e' || s[i] == 'E')
		{
			body = i;
			break;
		}
	while (body > 0 && s[body - 1] == ' ')
		body--;
	if (body == 0 || !only_chars(s, body, " +().-/", true))
		return false;
	digits = count_digits(s, body);
	if (digits == body)
		return digits == 10 || (digits == 11 && s[0] == '1');
	return digits >= 7 && digits <= 15 && is_digit(s[body - 1]);
}

static bool
check_zip(const char *s, int len)
{
	if ((len == 5 || (len == 10 && s[5] == '-')) && count_digits(s, len) == len - (len == 10))
		return true;
	/* Canada A1A 1A1, United Kingdom A1 1AA ... AA1A 1AA */
	if ((len == 6 || len == 7) && is_letter(s[0]) && is_digit(s[1]) && is_letter(s[2]) &&
		is_digit(s[len - 3]) && is_letter(s[len - 2]) && is_digit(s[len - 1]))
		return true;
	if (len >= 6 && len <= 8 && s[len - 4] == ' ' && is_digit(s[len - 3]) && is_letter(s[len - 2]) &&
		is_letter(s[len - 1]) && is_letter(s[0]))
		return true;
	return false;
}

static const char *const street_words[] = {
	"APARTMENT", "APT", "AVE", "AVENIDA", "AVENUE", "BLVD", "BOULEVARD", "CALLE", "COURT", "CT",
	"DR", "DRIVE", "HWY", "HIGHWAY", "LANE", "LN", "PARKWAY", "PKWY", "PL", "PLACE", "PLATZ",
	"RD", "ROAD", "RUA", "RUE", "ST", "STR", "STRASSE", "STREET", "SUITE", "TERRACE", "UNIT",
	"VIA", "WAY", "WEG"
};

static bool
street_word(const char *upper)
{
	for (int i = 0; i < (int) lengthof(street_words); i++)
		if (strcmp(upper, street_words[i]) == 0)
			return true;
	/* German compounds: Hauptstraße, Bahnhofstr */
	return strstr(upper, "STRASSE") != NULL || strstr(upper, "STRAßE") != NULL;
}

/* a street word among two or more words, or a post office box */
static bool
check_street(const Word *w, int n)
{
	if (n < 2)
		return false;
	for (int i = 0; i < n; i++)
		if (street_word(w[i].text))
			return true;
	return strcmp(w[0].text, "PO") == 0 || strcmp(w[0].text, "P.O") == 0;
}

/* First Last, First M. Last, Last, First: a known first name and a known last name */
static bool
check_full_name(const Word *w, int n)
{
	int			last = n - 1;

	if (n < 2 || n > 4)
		return false;
	for (int i = 0; i < n; i++)
		if (!w[i].letters)
			return false;
	if (w[0].comma)
		return lexicon_has(&last_names, w[0].text) && lexicon_has(&first_names, w[1].text);
	/* a suffix: Jr, Sr, II, III */
	if (n > 2 && (strcmp(w[last].text, "JR") == 0 || strcmp(w[last].text, "SR") == 0 ||
				  strcmp(w[last].text, "II") == 0 || strcmp(w[last].text, "III") == 0))
		last--;
	return lexicon_has(&first_names, w[0].text) && lexicon_has(&last_names, w[last].text);
}

/*
 * A login made of a name: an initial or a known first name, then a known
 * last name, joined by a dot, underscore or hyphen, digits after it
 * allowed (m.oconnor, john_smith, j-wong42).
 */
static bool
check_name_handle(const char *s, int len)
{
	char		first[64];
	char		last[64];
	int			i = 0;
	int			k = 0;

	while (i < len && is_letter(s[i]) && k < 63)
		first[k++] = pg_ascii_toupper((unsigned char) s[i++]);
	first[k] = '\0';
	if (k == 0 || i >= len || strchr("._-", s[i]) == NULL)
		return false;
	i++;
	k = 0;
	while (i < len && is_letter(s[i]) && k < 63)
		last[k++] = pg_ascii_toupper((unsigned char) s[i++]);
	last[k] = '\0';
	while (i < len && is_digit(s[i]))
		i++;
	if (i != len || k < 3)
		return false;
	return (strlen(first) == 1 || lexicon_has(&first_names, first)) && lexicon_has(&last_names, last);
}

/* a capitalized known first name inside a sentence (not its first word) */
static bool
check_names_in_text(const Word *w, int n)
{
	for (int i = 1; i < n; i++)
		if (w[i].capitalized && w[i].letters && !w[i - 1].ends_sentence && lexicon_has(&first_names, w[i].text))
			return true;
	return false;
}

static bool
check_url(const char *s, int len, bool *credentials)
{
	int			i = 0;
	const char *sep;
	const char *rest;
	int			rest_len;
	const char *slash;
	const char *at;

	*credentials = false;
	while (i < len && (is_letter(s[i]) || (i > 0 && (is_digit(s[i]) || strchr("+.-", s[i])))))
		i++;
	if (i == 0 || i + 3 > len || (sep = s + i, strncmp(sep, "://", 3) != 0))
		return false;
	rest = sep + 3;
	rest_len = len - (rest - s);
	slash = memchr(rest, '/', rest_len);
	at = memchr(rest, '@', slash ? slash - rest : rest_len);
	*credentials = at != NULL && at > rest;
	return true;
}

/* an identifier: no spaces, 4 to 64 characters, at least one digit */
static bool
check_code(const char *s, int len)
{
	if (len < 4 || len > 64 || count_digits(s, len) == 0)
		return false;
	for (int i = 0; i < len; i++)
		if (!is_letter(s[i]) && !is_digit(s[i]) && strchr("._:/-#", s[i]) == NULL)
			return false;
	return true;
}

/* The signals one value shows, as flags indexed by Signal; its words. */
static void
value_signals(const char *s, int len, bool *sig, int *nwords)
{
	Word		words[MAX_WORDS];
	int			n;
	bool		creds;

	memset(sig, 0, sizeof(bool) * SIG_COUNT);
	while (len > 0 && isspace((unsigned char) s[len - 1]))
		len--;
	while (len > 0 && isspace((unsigned char) *s))
		s++, len--;
	n = split_words(s, len, words);
	*nwords = n;
	if (len == 0)
		return;

	sig[SIG_EMAIL] = check_email(s, len);
	sig[SIG_LUHN] = check_luhn(s, len);
	sig[SIG_IBAN] = check_iban(s, len);
	sig[SIG_NPI] = check_npi(s, len);
	sig[SIG_DEA] = check_dea(s, len);
	sig[SIG_SSN] = check_ssn(s, len);
	sig[SIG_ABA] = check_aba(s, len);
	sig[SIG_IP] = check_ip(s, len);
	sig[SIG_MAC] = check_mac(s, len);
	sig[SIG_PHONE] = check_phone(s, len);
	sig[SIG_ZIP] = check_zip(s, len);
	sig[SIG_URL] = check_url(s, len, &creds);
	sig[SIG_URL_CREDENTIALS] = sig[SIG_URL] && creds;
	sig[SIG_CODE] = check_code(s, len);
	sig[SIG_DIGITS] = count_digits(s, len) == len;
	if (n == 1 && words[0].letters)
	{
		sig[SIG_FIRST_NAME] = lexicon_has(&first_names, words[0].text);
		sig[SIG_LAST_NAME] = lexicon_has(&last_names, words[0].text);
	}
	sig[SIG_FULL_NAME] = check_full_name(words, n);
	if (len < 64)
	{
		char		upper[64];

		for (int i = 0; i < len; i++)
			upper[i] = pg_ascii_toupper((unsigned char) s[i]);
		upper[len] = '\0';
		sig[SIG_PLACE] = lexicon_has(&places, upper);
	}
	sig[SIG_STREET] = !sig[SIG_EMAIL] && !sig[SIG_URL] && check_street(words, n);
	sig[SIG_FREE_TEXT] = n >= 6;
	sig[SIG_NAME_HANDLE] = n == 1 && check_name_handle(s, len);
	/* an address among other words: "Mary <mary@example.com>", a sentence */
	for (int i = 0; i < n && n >= 2 && !sig[SIG_EMAIL] && !sig[SIG_EMAIL_IN_TEXT]; i++)
	{
		const char *at = strchr(words[i].text, '@');

		sig[SIG_EMAIL_IN_TEXT] = at != NULL && at > words[i].text && strchr(at, '.') != NULL;
	}
	sig[SIG_NAMES_IN_TEXT] = n >= 4 && check_names_in_text(words, n);
}

static int
compare_texts(const void *a, const void *b)
{
	text	   *x = *(text *const *) a;
	text	   *y = *(text *const *) b;
	int			lx = VARSIZE_ANY_EXHDR(x);
	int			ly = VARSIZE_ANY_EXHDR(y);
	int			c = memcmp(VARDATA_ANY(x), VARDATA_ANY(y), Min(lx, ly));

	return c != 0 ? c : lx - ly;
}

/*
 * value_profile(vals text[]) returns jsonb
 *		{"sampled": n, "distinct": d, "avg_length": l, "avg_words": w,
 *		"blank": b, and per signal the number of values that show it}, over
 *		the elements that are neither NULL nor blank (those counted apart in
 *		blank: they say nothing).  Counts only: no value, no part of one, is
 *		returned, and no input raises an error.
 */
Datum
tdgen_value_profile(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int			n = 0;
	int			blank = 0;
	int			distinct = 0;
	int64		length = 0;
	int64		words = 0;
	int			counts[SIG_COUNT] = {0};
	text	  **vals;
	StringInfoData json;

	if (ARR_ELEMTYPE(arr) != TEXTOID)
		elog(ERROR, "value_profile takes text[]");
	lexicons_init();
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nelems);
	vals = palloc(sizeof(text *) * Max(nelems, 1));
	for (int i = 0; i < nelems; i++)
	{
		bool		sig[SIG_COUNT];
		int			nw;
		text	   *v;

		bool		empty = true;

		if (nulls[i])
			continue;
		v = DatumGetTextPP(elems[i]);
		for (int k = 0; k < (int) VARSIZE_ANY_EXHDR(v) && empty; k++)
			empty = isspace((unsigned char) VARDATA_ANY(v)[k]);
		if (empty)
		{
			blank++;
			continue;
		}
		vals[n++] = v;
		value_signals(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), sig, &nw);
		length += VARSIZE_ANY_EXHDR(v);
		words += nw;
		for (int k = 0; k < SIG_COUNT; k++)
			counts[k] += sig[k];
	}
	qsort(vals, n, sizeof(text *), compare_texts);
	for (int i = 0; i < n; i++)
		distinct += (i == 0 || compare_texts(&vals[i - 1], &vals[i]) != 0);

	initStringInfo(&json);
	appendStringInfo(&json, "{\"sampled\": %d, \"distinct\": %d, \"avg_length\": %.1f, \"avg_words\": %.1f, \"blank\": %d",
					 n, distinct, n > 0 ? (double) length / n : 0.0, n > 0 ? (double) words / n : 0.0, blank);
	for (int k = 0; k < SIG_COUNT; k++)
		appendStringInfo(&json, ", \"%s\": %d", signal_names[k], counts[k]);
	appendStringInfoChar(&json, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json.data)));
}

/*
 * value_signal(signal text, value text) returns boolean
 *		Whether one value shows a signal of value_profile (its validators,
 *		for tests and for categories' checks).  Unknown signal: 22023.
 */
Datum
tdgen_value_signal(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	text	   *v = PG_GETARG_TEXT_PP(1);
	bool		sig[SIG_COUNT];
	int			nw;

	lexicons_init();
	for (int k = 0; k < SIG_COUNT; k++)
	{
		if (strcmp(name, signal_names[k]) == 0)
		{
			value_signals(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), sig, &nw);
			PG_RETURN_BOOL(sig[k]);
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown value signal \"%s\"", name),
			 errhint("The signals are the keys of tdgen.value_profile's result after avg_words.")));
	PG_RETURN_NULL();
}
