/*-------------------------------------------------------------------------
 *
 * transform_id.c
 *	  Format-preserving, unique-preserving masks of identifiers: phone
 *	  numbers, SSNs, card numbers, IBANs and IP addresses.
 *
 * Each keeps the value's layout (separators, spaces, letter positions) and
 * runs the characters it replaces through a keyed permutation (prf.c)
 * whose tweak covers everything it keeps, so distinct inputs give distinct
 * outputs.  Check digits (Luhn, IBAN mod 97) are recomputed.  Errors about
 * malformed input never quote the input.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/socket.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/inet.h"

#include "tdgen.h"

PG_FUNCTION_INFO_V1(tdgen_phone);
PG_FUNCTION_INFO_V1(tdgen_ssn);
PG_FUNCTION_INFO_V1(tdgen_credit_card);
PG_FUNCTION_INFO_V1(tdgen_iban);
PG_FUNCTION_INFO_V1(tdgen_ip);

/*
 * A value being masked: its result text, a copy of it that is edited in
 * place, and the positions and values of the characters to replace.  Short
 * values keep their arrays on the stack.
 */
#define NUMERAL_INLINE 64

typedef struct Numeral
{
	text	   *result;
	char	   *chars;			/* VARDATA(result) */
	int			len;
	int		   *pos;			/* index in chars of each digit */
	uint8	   *digits;			/* digit values */
	int			n;
	int			pos_buf[NUMERAL_INLINE];
	uint8		digit_buf[NUMERAL_INLINE];
} Numeral;

static inline void
collect(Numeral *num, text *value, bool (*accept) (char c), uint8 (*digit_value) (char c))
{
	num->len = VARSIZE_ANY_EXHDR(value);
	num->result = (text *) palloc(VARHDRSZ + num->len);
	SET_VARSIZE(num->result, VARHDRSZ + num->len);
	num->chars = VARDATA(num->result);
	memcpy(num->chars, VARDATA_ANY(value), num->len);
	if (num->len <= NUMERAL_INLINE)
	{
		num->pos = num->pos_buf;
		num->digits = num->digit_buf;
	}
	else
	{
		num->pos = palloc(sizeof(int) * num->len);
		num->digits = palloc(num->len);
	}
	num->n = 0;
	for (int i = 0; i < num->len; i++)
	{
		if (accept(num->chars[i]))
		{
			num->pos[num->n] = i;
			num->digits[num->n++] = digit_value(num->chars[i]);
		}
	}
}

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline uint8
decimal_value(char c)
{
	return (uint8) (c - '0');
}

/* Write digits[from..] back over their positions. */
static void
store_digits(Numeral *num, int from)
{
	for (int i = from; i < num->n; i++)
		num->chars[num->pos[i]] = '0' + num->digits[i];
}

/*
 * Tweak for the digits from index `from` on: the layout (every character
 * with the free digits blanked) under the transform's sub-key, so values
 * that differ in what is kept are permuted independently.
 */
static uint64
layout_tweak(const uint8 *subkey, const Numeral *num, int from)
{
	char		buf[NUMERAL_INLINE];
	char	   *layout = num->len <= NUMERAL_INLINE ? buf : palloc(num->len);

	memcpy(layout, num->chars, num->len);
	for (int i = from; i < num->n; i++)
		layout[num->pos[i]] = '#';
	return TdgenPrf64(subkey, layout, num->len);
}

static void
bad_format(const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("value is not %s", what),
			 errhint("%s", hint)));
}

/*
 * The length of the country calling code (ITU-T E.164) a number of n
 * digits starts with: 1 and 7 alone, the two-digit codes below, three
 * digits otherwise.
 */
static int
country_code_length(const uint8 *d, int n)
{
	static const uint8 two_digit[] = {
		20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49,
		51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84,
		86, 90, 91, 92, 93, 94, 95, 98,
	};

	if (n < 2 || d[0] == 1 || d[0] == 7)
		return Min(n, 1);
	for (int i = 0; i < (int) lengthof(two_digit); i++)
		if (d[0] * 10 + d[1] == two_digit[i])
			return 2;
	return Min(n, 3);
}

/*
 * A North American number (NANP, ten digits NPA NXX XXXX): area code and
 * exchange start with 2 to 9 and are no N11 service code.
 */
static inline bool
nanp_valid(uint64 x)
{
	uint64		npa = x / 10000000;
	uint64		nxx = (x / 10000) % 1000;

	return npa >= 200 && npa % 100 != 11 && nxx >= 200 && nxx % 100 != 11;
}

/*
 * phone(value text, keep_leading int, scope text) returns text
 *		Same length, punctuation and spaces; the other digits permuted.
 *		Kept: a leading '+' with the country calling code after it and
 *		(outside +1) the national number's first three digits, or a
 *		trunk prefix 0 with the three digits after it, and the first
 *		keep_leading digits.  A North American number (+1 and ten
 *		digits, or ten digits, or eleven starting with 1, without '+') stays
 *		one: its digits are permuted as one number, cycle-walking, so that a
 *		number valid under the NANP maps to a valid one (and any other to
 *		any other: injective over every input).  A value without digits to
 *		replace is returned as it is.
 */
Datum
tdgen_phone(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	int32		keep_leading = PG_GETARG_INT32(1);
	const uint8 *subkey;
	Numeral		num;
	int			lead = 0;
	int			national;		/* index of the national number's first digit */
	int			kept;

	if (keep_leading < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("keep_leading must not be negative")));
	subkey = TdgenCallSubkey(fcinfo, "phone", PG_GETARG_TEXT_PP(2));
	collect(&num, value, is_digit, decimal_value);
	while (lead < num.len && num.chars[lead] == ' ')
		lead++;
	if (lead < num.len && num.chars[lead] == '+')
		national = country_code_length(num.digits, num.n);
	else
		national = (num.n == 11 && num.digits[0] == 1) ? 1 : 0;
	kept = Max(keep_leading, national);
	/*
	 * Outside the NANP, numbering plans tell mobile from fixed lines, and
	 * areas and operators apart, by the national number's first digits:
	 * the first three are kept (after the trunk prefix 0 when written
	 * without the country code), so the number stays valid in its plan.
	 */
	if (national > 0 && num.digits[0] != 1)
		kept = Max(kept, national + 3);
	else if (national == 0 && num.n > 0 && num.digits[0] == 0)
		kept = Max(kept, 4);
	if (kept >= num.n)
		PG_RETURN_TEXT_P(num.result);
	if (num.n - national == 10 && (national == 0 || num.digits[0] == 1) && kept - national < 10)
	{
		/* the free digits as one number, walked until it is as valid as before */
		int			free_digits = num.n - kept;
		uint64		scale = 1;
		uint64		fixed = 0;
		uint64		x = 0;
		uint64		tweak = layout_tweak(subkey, &num, kept);
		bool		valid;

		for (int i = 0; i < free_digits; i++)
			scale *= 10;
		for (int i = national; i < kept; i++)
			fixed = fixed * 10 + num.digits[i];
		for (int i = kept; i < num.n; i++)
			x = x * 10 + num.digits[i];
		valid = nanp_valid(fixed * scale + x);
		do
			x = TdgenPermuteInt(subkey, tweak, 10, free_digits, x);
		while (nanp_valid(fixed * scale + x) != valid);
		for (int i = num.n - 1; i >= kept; i--, x /= 10)
			num.digits[i] = (uint8) (x % 10);
	}
	else
		TdgenPermuteDigits(subkey, layout_tweak(subkey, &num, kept), 10, num.digits + kept, num.n - kept);
	store_digits(&num, kept);
	PG_RETURN_TEXT_P(num.result);
}

/* An SSN that can be issued: area 001-899 but not 666, group and serial not 0. */
static inline bool
ssn_issuable(uint64 x)
{
	uint64		area = x / 1000000;

	return area >= 1 && area <= 899 && area != 666 &&
		(x / 10000) % 100 != 0 && x % 10000 != 0;
}

/*
 * ssn(value text, unissued boolean, scope text) returns text
 *		AAA-GG-SSSS (or AAAGGSSSS, dashes as in the input).
 *
 *		unissued: the area number becomes 900-999, never issued.  The eight
 *		digits after the first are permuted under a tweak of the first, so
 *		two inputs with the same first digit never collide.  Only 10^8 SSNs
 *		start with 9, fewer than the issuable ones, so inputs that differ in
 *		the first digit can.
 *
 *		Otherwise all nine digits are permuted, cycle-walking so that an
 *		issuable SSN maps to an issuable one and any other nine digits to
 *		other such digits: a bijection, injective over every input.
 */
Datum
tdgen_ssn(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	bool		unissued = PG_GETARG_BOOL(1);
	const uint8 *subkey = TdgenCallSubkey(fcinfo, "ssn", PG_GETARG_TEXT_PP(2));
	Numeral		num;
	bool		dashed;

	collect(&num, value, is_digit, decimal_value);
	dashed = num.len == 11 && num.chars[3] == '-' && num.chars[6] == '-';
	if (num.n != 9 || !(num.len == 9 || dashed))
		bad_format("a social security number",
				   "Expected nine digits as AAA-GG-SSSS or AAAGGSSSS.");

	if (unissued)
	{
		TdgenPermuteDigits(subkey, num.digits[0], 10, num.digits + 1, 8);
		num.digits[0] = 9;
	}
	else
	{
		uint64		x = 0;
		bool		issuable;

		for (int i = 0; i < 9; i++)
			x = x * 10 + num.digits[i];
		issuable = ssn_issuable(x);
		do
			x = TdgenPermuteInt(subkey, 10, 10, 9, x);
		while (ssn_issuable(x) != issuable);
		for (int i = 8; i >= 0; i--, x /= 10)
			num.digits[i] = (uint8) (x % 10);
	}
	store_digits(&num, 0);
	PG_RETURN_TEXT_P(num.result);
}

/* Luhn check digit for digits[0..n-1] followed by the check digit. */
uint8
TdgenLuhnDigit(const uint8 *digits, int n)
{
	int			sum = 0;

	for (int i = n - 1, k = 0; i >= 0; i--, k++)
	{
		int			d = digits[i];

		if (k % 2 == 0)
			d = (d * 2 > 9) ? d * 2 - 9 : d * 2;
		sum += d;
	}
	return (uint8) ((10 - sum % 10) % 10);
}

static bool
is_card_separator(char c)
{
	return c == ' ' || c == '-';
}

/*
 * credit_card(value text, keep_bin boolean, scope text) returns text
 *		Same length and separators; the digits before the check digit are
 *		permuted after the first four (six when keep_bin), which name the
 *		card's network, so validators still take its brand, and the Luhn
 *		check digit recomputed.  12 to 19 digits, separated by spaces or
 *		dashes.
 */
Datum
tdgen_credit_card(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	bool		keep_bin = PG_GETARG_BOOL(1);
	const uint8 *subkey = TdgenCallSubkey(fcinfo, "credit_card", PG_GETARG_TEXT_PP(2));
	Numeral		num;
	int			from = keep_bin ? 6 : 4;

	collect(&num, value, is_digit, decimal_value);
	for (int i = 0; i < num.len; i++)
		if (!is_digit(num.chars[i]) && !is_card_separator(num.chars[i]))
			num.n = 0;
	if (num.n < 12 || num.n > 19)
		bad_format("a card number",
				   "Expected 12 to 19 digits, optionally grouped by spaces or dashes.");

	/* the check digit is recomputed, so it takes no part in the tweak */
	num.digits[num.n - 1] = 0;
	num.chars[num.pos[num.n - 1]] = '#';
	TdgenPermuteDigits(subkey, layout_tweak(subkey, &num, from), 10,
					   num.digits + from, num.n - 1 - from);
	num.digits[num.n - 1] = TdgenLuhnDigit(num.digits, num.n - 1);
	store_digits(&num, 0);
	PG_RETURN_TEXT_P(num.result);
}

static inline bool
is_alnum(char c)
{
	return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline uint8
alnum_value(char c)
{
	if (is_digit(c))
		return (uint8) (c - '0');
	return (uint8) (10 + pg_ascii_toupper((unsigned char) c) - 'A');
}

/*
 * IBAN check digits: 98 - (BBAN + country + "00", letters as 10..35) mod 97,
 * reducing the running number only when it nears 2^63.  chars: the
 * IBAN's letters and digits as values 0..35, country first.
 */
int
TdgenIbanCheck(const uint8 *chars, int n)
{
	uint64		acc = 0;

	for (int k = 0; k < n; k++)
	{
		int			i = (k + 4) % n;	/* BBAN first, then country, check */
		int			v = (k >= n - 2) ? 0 : chars[i];

		if (acc >= (UINT64CONST(1) << 56))
			acc %= 97;
		acc = (v >= 10) ? acc * 100 + v : acc * 10 + v;
	}
	return 98 - (int) (acc % 97);
}

/*
 * iban(value text, scope text) returns text
 *		Same country, length, spacing and letter positions, valid mod-97
 *		check digits.  The BBAN's digits are permuted under a tweak of its
 *		letters, then its letters under a tweak of the new digits: each step
 *		is invertible, so distinct BBANs stay distinct.
 */
Datum
tdgen_iban(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	const uint8 *subkey = TdgenCallSubkey(fcinfo, "iban", PG_GETARG_TEXT_PP(1));
	Numeral		num;
	uint8	   *digits;
	uint8	   *letters;
	int			ndigits = 0;
	int			nletters = 0;
	uint64		country;
	int			check;

	collect(&num, value, is_alnum, alnum_value);
	for (int i = 0; i < num.len; i++)
		if (!is_alnum(num.chars[i]) && num.chars[i] != ' ')
			num.n = 0;
	if (num.n < 15 || num.n > 34 ||
		num.digits[0] < 10 || num.digits[1] < 10 || num.digits[2] >= 10 || num.digits[3] >= 10)
		bad_format("an IBAN",
				   "Expected a two-letter country code, two check digits and 11 to 30 letters or digits, optionally grouped by spaces.");

	/* split the BBAN (from index 4) by class */
	digits = palloc(num.n);
	letters = palloc(num.n);
	for (int i = 4; i < num.n; i++)
	{
		if (num.digits[i] < 10)
			digits[ndigits++] = num.digits[i];
		else
			letters[nletters++] = num.digits[i] - 10;
	}
	/* most BBANs are all digits: then the letters step has nothing to do */
	country = (uint64) (num.digits[0] << 8 | num.digits[1]);
	TdgenPermuteDigits(subkey, (nletters > 0 ? TdgenPrf64(subkey, letters, nletters) : 0) ^ country,
					   10, digits, ndigits);
	if (nletters > 0)
		TdgenPermuteDigits(subkey, TdgenPrf64(subkey, digits, ndigits) ^ country, 26, letters, nletters);
	ndigits = nletters = 0;
	for (int i = 4; i < num.n; i++)
		num.digits[i] = (num.digits[i] < 10) ? digits[ndigits++] : 10 + letters[nletters++];

	check = TdgenIbanCheck(num.digits, num.n);
	num.digits[2] = check / 10;
	num.digits[3] = check % 10;
	for (int i = 0; i < num.n; i++)
	{
		char		c = num.chars[num.pos[i]];
		uint8		v = num.digits[i];

		if (v < 10)
			num.chars[num.pos[i]] = '0' + v;
		else
			num.chars[num.pos[i]] = (c >= 'a' ? 'a' : 'A') + (v - 10);
	}
	PG_RETURN_TEXT_P(num.result);
}

/*
 * ip(value inet, keep_prefix int, scope text) returns inet
 *		Same family and netmask; the first keep_prefix bits are kept and the
 *		others permuted under a tweak of the kept ones, so addresses stay
 *		distinct within every kept prefix.
 */
Datum
tdgen_ip(PG_FUNCTION_ARGS)
{
	inet	   *in = PG_GETARG_INET_PP(0);
	int32		keep_prefix = PG_GETARG_INT32(1);
	const uint8 *subkey = TdgenCallSubkey(fcinfo, "ip", PG_GETARG_TEXT_PP(2));
	int			nbits = ip_maxbits(in);
	inet	   *out = (inet *) palloc0(sizeof(inet));
	uint8		bits[128];
	uint8		kept[17];

	if (keep_prefix < 0 || keep_prefix > nbits)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("keep_prefix must be between 0 and %d for this address family", nbits)));

	for (int i = 0; i < nbits; i++)
		bits[i] = (ip_addr(in)[i / 8] >> (7 - i % 8)) & 1;

	/* tweak: family and the kept prefix */
	memset(kept, 0, sizeof(kept));
	kept[0] = (uint8) ip_family(in);
	for (int i = 0; i < keep_prefix; i++)
		kept[1 + i / 8] |= bits[i] << (7 - i % 8);
	TdgenPermuteDigits(subkey, TdgenPrf64(subkey, kept, sizeof(kept)) ^ (uint64) keep_prefix,
					   2, bits + keep_prefix, nbits - keep_prefix);

	ip_family(out) = ip_family(in);
	ip_bits(out) = ip_bits(in);
	for (int i = 0; i < nbits; i++)
		ip_addr(out)[i / 8] |= bits[i] << (7 - i % 8);
	SET_INET_VARSIZE(out);
	PG_RETURN_INET_P(out);
}
