/*-------------------------------------------------------------------------
 *
 * dict.h
 *	  Dictionaries compiled into the library from data/ (see
 *	  tools/gen_dict.pl) and the word lists kept in dict.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TDGEN_DICT_H
#define TDGEN_DICT_H

/* A list of words, optionally weighted by cumulative counts. */
typedef struct TdgenDict
{
	int			count;
	const char *const *words;
	const uint32 *cumulative;	/* NULL when every word weighs the same */
	uint32		total;			/* last cumulative weight */
} TdgenDict;

typedef struct TdgenState
{
	const char *code;			/* USPS code, e.g. "MA" */
	const char *name;
} TdgenState;

typedef struct TdgenPlace
{
	const char *city;
	int			state;			/* index into tdgen_states */
} TdgenPlace;

/* dict_data.c, generated */
extern const TdgenDict tdgen_first_names;
extern const TdgenDict tdgen_last_names;
extern const TdgenState tdgen_states[];
extern const int tdgen_state_count;
extern const TdgenPlace tdgen_places[];
extern const int tdgen_place_count;

/* dict.c */
extern const TdgenDict tdgen_street_names;
extern const TdgenDict tdgen_street_suffixes;
extern const TdgenDict tdgen_lorem_words;
extern const TdgenDict tdgen_example_domains;

extern const char *TdgenDictPick(const TdgenDict *dict, uint64 r);

#endif							/* TDGEN_DICT_H */
