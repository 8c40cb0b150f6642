"""Build ``matching/data/place_words.txt``: words of Dutch place names that are not also words.

Sharing "deventer" says nothing about a candidate's fit (distance is its own filter), so the
lexical terms (``matching.text.content_terms``) leave place names out. The names are the places,
other places, municipalities and provinces of the bundled PC4 gazetteer
(``matching/data/nl_pc4_geonames.csv``, GeoNames, CC BY 4.0), folded and split into words as the
terms are. A word is left *out* of the list when it is also a word of the bundled ESCO NL
occupation labels or descriptions (``matching/data/esco-nl``) or in ``ALSO_WORDS`` (English and
Dutch words not in ESCO's Dutch text): "Boer", "Loon", "Winkel", "Best", "Enter" and "Mill" are
places, but a CV that says "boer" or "winkel" means the word. The price: a few towns that are
also Dutch words ("Leiden", "Assen", "Houten", "Kampen", "Putten") stay terms.

Usage (rerun after changing either source)::

    .venv/bin/python scripts/build_place_words.py
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from matching.esco import BUNDLED_ESCO_NL, read_esco
from matching.text import STOPWORDS, fold

DATA = Path(__file__).resolve().parents[1] / "matching" / "data"
_WORD = re.compile(r"[^\W_]+")
# English words and Dutch words outside ESCO's Dutch text that are also place names here.
_ALSO_WORDS = """
bad born bosch burg dal dam dijk dorp duin ell enter est gem goes gent hall halle ham heer
heide hoeve hoop horn horst kiel klomp kring kruis lek lies maas made mill noord oost oever
peel rijk rijp sluis small son spier spui steeg stein stede west zuid
"""
ALSO_WORDS = frozenset(_ALSO_WORDS.split())

# Names that ESCO's Dutch text uses as names (the river in "binnenvaart op de Rijn").
ALWAYS_PLACES = frozenset(["rijn"])


def build() -> list[str]:
    names: set[str] = set()
    with (DATA / "nl_pc4_geonames.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            for name in (row["place"], row["municipality"], row["province"]):
                names.add(name)
            names.update(p for p in row["other_places"].split("|") if p)
    vocabulary: set[str] = set()
    for record in read_esco(BUNDLED_ESCO_NL):
        for text in (record.preferred_label, *record.alt_labels, record.description):
            vocabulary.update(_WORD.findall(fold(text)))
    words = {w for name in names for w in _WORD.findall(fold(name))}
    return sorted(
        w
        for w in words
        if len(w) >= 3 and not w.isdigit() and w not in STOPWORDS
        if w in ALWAYS_PLACES or (w not in vocabulary and w not in ALSO_WORDS)
    )


def main() -> None:
    words = build()
    header = (
        "# Words of Dutch place names that are not also words (scripts/build_place_words.py).\n"
        "# Source: GeoNames PC4 places (CC BY 4.0, matching/data/nl_pc4_geonames.csv),\n"
        "# minus words of ESCO NL (ESCO, European Commission, https://esco.ec.europa.eu).\n"
    )
    (DATA / "place_words.txt").write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} words to {DATA / 'place_words.txt'}")


if __name__ == "__main__":
    main()
