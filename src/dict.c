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
 * TdgenDictPick
 *		The word a uniform 64-bit value r selects, in proportion to the
 *		word weights when the list has them.
 */
const char *
TdgenDictPick(const TdgenDict *dict, uint64 r)
{
	uint32		target = (uint32) (r % dict->total);
	int			lo = 0;
	int			hi = dict->count - 1;

	if (dict->cumulative == NULL)
		return dict->words[target];

	/* first index whose cumulative weight exceeds target */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (dict->cumulative[mid] > target)
			hi = mid;
		else
			lo = mid + 1;
	}
	return dict->words[lo];
}
