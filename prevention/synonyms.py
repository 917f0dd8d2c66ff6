"""Words young people use for the things the articles name, per language.

A search for any word in a group searches for all of them, so "nudes" finds the
article about "nakenbilder" and "groomad" finds the articles about grooming.
Write each word in lower case, without accents (search folds both away), and
keep a group to words that mean the same thing to the reader.
"""

SYNONYM_GROUPS: dict[str, list[frozenset[str]]] = {
    "sv": [
        frozenset({"nudes", "nude", "nudebild", "nudebilder", "nakenbild", "nakenbilder", "nakenbilden", "dickpic"}),
        frozenset({"sextortion", "utpressning", "utpressad", "utpressar", "utpressare", "sexutpressning"}),
        frozenset({"grooming", "groomad", "groomade", "groomar", "groomer", "groomare"}),
        frozenset({"skarmdump", "skarmdumpar", "screenshot", "screenshots", "skarmbild", "skarmbilder"}),
        frozenset({"polisanmala", "polisanmalan", "anmala", "anmalan"}),
        frozenset({"natet", "internet", "online"}),
        frozenset({"fejkkonto", "fakekonto", "catfish", "catfishing", "falskt"}),
    ],
    "en": [
        frozenset({"nudes", "nude", "naked", "nudepic", "nudepics"}),
        frozenset({"sextortion", "blackmail", "blackmailed", "blackmailing", "extortion"}),
        frozenset({"grooming", "groomed", "groomer", "grooms", "groom"}),
        frozenset({"screenshot", "screenshots", "screengrab"}),
        frozenset({"online", "internet"}),
        frozenset({"catfish", "catfishing", "fake"}),
    ],
}


def synonyms_of(word: str, language: str) -> frozenset[str]:
    """The word and every word in its group; ``word`` is lower case without accents."""
    for group in SYNONYM_GROUPS.get(language, []):
        if word in group:
            return group
    return frozenset({word})
