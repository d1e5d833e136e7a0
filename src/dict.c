/*-------------------------------------------------------------------------
 *
 * dict.c
 *	  Small word lists kept in code, and weighted picks from any list.
 *
 * The large lists (census names and places) are generated from data/ into
 * dict_data.c at build time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "dict.h"

#define WORD_LIST(name, ...) \
	static const char *const name##_words[] = {__VA_ARGS__}; \
	const TdgenDict name = {lengthof(name##_words), name##_words, NULL, lengthof(name##_words)}

/* street names that are not surnames; surnames are drawn as well */
WORD_LIST(tdgen_street_names,
		  "Main", "Oak", "Maple", "Cedar", "Pine", "Elm", "Park", "Lake", "Hill",
		  "Church", "Washington", "Lincoln", "Jefferson", "Madison", "Franklin",
		  "Walnut", "Spruce", "Chestnut", "Willow", "Sunset", "River", "Forest",
		  "Highland", "Meadow", "Ridge", "Spring", "Valley", "Mill", "Center",
		  "Union", "Railroad", "Prospect", "Cherry", "Birch", "Dogwood", "Laurel");

WORD_LIST(tdgen_street_suffixes,
		  "St", "Ave", "Rd", "Dr", "Ln", "Blvd", "Ct", "Way", "Pl", "Ter", "Cir");

/* the vocabulary of the classical placeholder text */
WORD_LIST(tdgen_lorem_words,
		  "lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing",
		  "elit", "sed", "do", "eiusmod", "tempor", "incididunt", "ut", "labore",
		  "et", "dolore", "magna", "aliqua", "enim", "ad", "minim", "veniam",
		  "quis", "nostrud", "exercitation", "ullamco", "laboris", "nisi",
		  "aliquip", "ex", "ea", "commodo", "consequat", "duis", "aute", "irure",
		  "in", "reprehenderit", "voluptate", "velit", "esse", "cillum", "eu",
		  "fugiat", "nulla", "pariatur", "excepteur", "sint", "occaecat",
		  "cupidatat", "non", "proident", "sunt", "culpa", "qui", "officia",
		  "deserunt", "mollit", "anim", "id", "est", "laborum", "porta", "nibh",
		  "vitae", "purus", "urna", "felis", "mauris", "morbi", "arcu");

/* reserved for documentation by RFC 2606: never anyone's mailbox */
WORD_LIST(tdgen_example_domains, "example.com", "example.net", "example.org");

/*
 * Guide tables for the weighted lists: guide[k] is the first word whose
 * cumulative weight exceeds k * total / GUIDE_SIZE, so a pick starts next
 * to its word and walks a step or two instead of a binary search through
 * cache misses.  Built on first use in each backend: static memory, the
 * same for every session, a few hundred kilobytes in all.
 */
#define GUIDE_BITS 16
#define GUIDE_SIZE (1 << GUIDE_BITS)

typedef struct Guide
{
	const TdgenDict *dict;
	uint32		index[GUIDE_SIZE];
} Guide;

static Guide guides[4];
static int	guide_count = 0;

static const Guide *
guide_for(const TdgenDict *dict)
{
	Guide	   *g;
	int			idx = 0;

	for (int i = 0; i < guide_count; i++)
		if (guides[i].dict == dict)
			return &guides[i];
	if (guide_count == lengthof(guides))
		return NULL;

	g = &guides[guide_count];
	for (int k = 0; k < GUIDE_SIZE; k++)
	{
		uint32		target = (uint32) (((uint64) k * dict->total) >> GUIDE_BITS);

		while (dict->cumulative[idx] <= target)
			idx++;
		g->index[k] = (uint32) idx;
	}
	g->dict = dict;
	guide_count++;
	return g;
}

/*
 * TdgenDictPick
 *		The word a uniform value r selects: of an unweighted list by r
 *		modulo its length; of a weighted one by the low 32 bits of r, in
 *		proportion to the word weights.  Weighted picks scale r by the
 *		total (a multiply, not a division) and start from the guide slot of
 *		r's top bits, which never lies past the word sought.
 */
const char *
TdgenDictPick(const TdgenDict *dict, uint64 r)
{
	uint32		r32 = (uint32) r;
	uint32		target;
	const Guide *g;
	int			idx;

	if (dict->cumulative == NULL)
		return dict->words[r % dict->total];

	target = (uint32) (((uint64) r32 * dict->total) >> 32);
	g = guide_for(dict);
	if (g != NULL)
		idx = (int) g->index[r32 >> (32 - GUIDE_BITS)];
	else
	{
		/* first index whose cumulative weight exceeds target */
		int			lo = 0;
		int			hi = dict->count - 1;

		while (lo < hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (dict->cumulative[mid] > target)
				hi = mid;
			else
				lo = mid + 1;
		}
		idx = lo;
	}
	while (dict->cumulative[idx] <= target)
		idx++;
	return dict->words[idx];
}
