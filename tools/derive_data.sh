#!/usr/bin/env bash
# ----------------------------------------------------------------------------
# derive_data.sh
#     Rebuild data/ from the public-domain US Census lists.
#
# Run by hand when the source lists change; the outputs are committed and the
# build, the demo and the tests read only data/.  Usage:
#     tools/derive_data.sh PATH/TO/census
# ----------------------------------------------------------------------------
set -euo pipefail

src=${1:?usage: tools/derive_data.sh CENSUS_DIR}
out=$(cd "$(dirname "$0")/../data" && pwd)

# "MCDONALD" -> "McDonald", "SMITH" -> "Smith"
proper='function proper(s,   r) {
	r = toupper(substr(s, 1, 1)) tolower(substr(s, 2))
	if (r ~ /^Mc[a-z]/) r = "Mc" toupper(substr(r, 3, 1)) substr(r, 4)
	return r
}'

# first names: name, sex, weight (frequency in thousandths of a percent)
{
	printf 'name\tsex\tweight\n'
	awk "$proper"' { printf "%s\tF\t%d\n", proper($1), $2 * 1000 + 0.5 }' "$src/dist.female.first"
	awk "$proper"' { printf "%s\tM\t%d\n", proper($1), $2 * 1000 + 0.5 }' "$src/dist.male.first"
} | awk -F'\t' 'NR == 1 || $3 > 0' > "$out/first_names.tsv"

# last names: the 18,839 surnames held by at least 0.001% of people
{
	printf 'name\tweight\n'
	awk "$proper"' $2 >= 0.001 { printf "%s\t%d\n", proper($1), $2 * 1000 + 0.5 }' "$src/dist.all.last"
} > "$out/last_names.tsv"

# places: state, name without its place-type suffix, latitude, longitude
{
	printf 'state\tcity\tlatitude\tlongitude\n'
	iconv -f ISO-8859-1 -t UTF-8 "$src/places2010.tsv" | tr -d '\r"' | awk -F'\t' 'NR > 1 {
		name = $4
		sub(/ \(balance\)$/, "", name)
		sub(/ (city|CDP|town|village|borough|comunidad|zona urbana|municipality|corporation|urban county|(unified|consolidated|metropolitan|metro) government)$/, "", name)
		key = $1 "\t" name
		if (!(key in seen)) {
			seen[key] = 1
			printf "%s\t%s\t%.4f\t%.4f\n", $1, name, $9, $10
		}
	}'
} > "$out/places.tsv"

wc -l "$out"/first_names.tsv "$out"/last_names.tsv "$out"/places.tsv
