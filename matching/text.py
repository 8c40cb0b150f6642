"""Dutch-aware text handling for job titles, CVs and vacancy texts.

Everything here is deterministic and dependency-free: folding (case and accents), cleaning job
titles of the noise Dutch vacancy titles carry (gender markers, hours, contract terms, seniority),
mapping feminine job-title forms to the base form, splitting compound job words at known head
words, and extracting content terms for a transparent lexical-overlap signal.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

__all__ = [
    "COMPOUND_HEADS",
    "GENERIC_TERMS",
    "NOT_EVIDENCE",
    "PLACE_WORDS",
    "STOPWORDS",
    "SpanCache",
    "TermLocator",
    "content_terms",
    "fold",
    "neutral_form",
    "normalize_title",
    "split_compounds",
    "term_spans",
]

_WS_RE = re.compile(r"\s+")

# --- job-title noise (applied to folded text) ------------------------------------------------

_GENDER_LETTERS = "mvwhxdf"
_GENDER_RE = re.compile(
    rf"\(\s*[{_GENDER_LETTERS}](?:\s*/\s*[{_GENDER_LETTERS}]){{1,3}}\s*\)"
    rf"|(?<![\w/])[{_GENDER_LETTERS}](?:\s*/\s*[{_GENDER_LETTERS}]){{1,3}}(?![\w/])"
)
# Runs before the hours pattern so that "0-uren" is not half-eaten as an hour range.
_CONTRACT_RE = re.compile(
    r"\b(?:"
    r"met\s+uitzicht\s+op\s+(?:een\s+)?vast(?:\s+contract|\s+dienstverband)?"
    r"|(?:vast|vaste|tijdelijk|tijdelijke)\s+(?:contract|dienstverband|baan|aanstelling)"
    r"|(?:0|nul)[\s-]?uren(?:[\s-]?contract)?"
    r"|full[\s-]?time|part[\s-]?time"
    r"|tijdelijke?|vast"
    r"|per\s+direct"
    r"|oproepkracht|oproepbasis|bijbaan|vakantiewerk|vakantiebaan"
    r")\b"
)
_NUM = r"\d{1,2}(?:[.,]\d+)?"
_HOURS_RE = re.compile(
    r"(?:\b(?:max(?:imaal)?|min(?:imaal)?|ca|circa|gem(?:iddeld)?|tot)\.?\s*)?"
    rf"\b{_NUM}\s*(?:(?:-|\u2013|\u2014|/|tot|a)\s*{_NUM}\s*)?"
    r"(?:uur|uren|u)\b"
    r"(?:\s*(?:per|p/?|/|in\s+de)\s*(?:week|wk|w)\b)?"
)
_PER_WEEK_RE = re.compile(r"\b(?:(?:uur|uren)\s+)?(?:per\s+week|p/w)\b|\b\d+(?:[.,]\d+)?\s*fte\b")
_SENIORITY_RE = re.compile(
    r"\b(?:junior|medior|senior|ervaren|startende|starter|beginnende?|jr|sr)\b\.?"
)
# Punctuation becomes a space; hyphens and slashes survive only between two letters/digits.
_PUNCT_RE = re.compile(r"[^\w\s/-]|_")
_LOOSE_JOINER_RE = re.compile(r"(?<![^\W_])[-/]|[-/](?![^\W_])")
_WORD_RE = re.compile(r"[^\W_]+")
_ASCII_RUN_RE = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]")

# --- feminine forms --------------------------------------------------------------------------

# Curated on purpose: a blanket "-ster" rule would turn "monster", "meester" or "zuster" into
# nonsense. Each key also maps as the tail of a compound ("kassamedewerkster").
_FEMININE: dict[str, str] = {
    "medewerkster": "medewerker",
    "werkster": "werker",
    "schoonmaakster": "schoonmaker",
    "verkoopster": "verkoper",
    "kapster": "kapper",
    "serveerster": "serveerder",
    "chauffeuse": "chauffeur",
    "verpleegster": "verpleegkundige",
    "verzorgster": "verzorger",
    "begeleidster": "begeleider",
    "bestuurster": "bestuurder",
    "beheerster": "beheerder",
    "inpakster": "inpakker",
    "sorteerster": "sorteerder",
    "bezorgster": "bezorger",
    "voorlichtster": "voorlichter",
    "vertegenwoordigster": "vertegenwoordiger",
    "ondernemster": "ondernemer",
    "werkneemster": "werknemer",
    "assistente": "assistent",
    "consulente": "consulent",
    "docente": "docent",
    "studente": "student",
    "stagiaire": "stagiair",
    "adviseuse": "adviseur",
    "controleuse": "controleur",
    "masseuse": "masseur",
    "coiffeuse": "coiffeur",
    "receptioniste": "receptionist",
    "telefoniste": "telefonist",
    "kassiere": "kassier",
    "lerares": "leraar",
    "directrice": "directeur",
    "kokkin": "kok",
    "gastvrouw": "gastheer",
}
_FEMININE_BY_LENGTH = tuple(sorted(_FEMININE.items(), key=lambda kv: -len(kv[0])))
_FEMININE_ENDINGS = tuple(feminine for feminine, _ in _FEMININE_BY_LENGTH)

# --- compound heads --------------------------------------------------------------------------

COMPOUND_HEADS: tuple[str, ...] = (
    "medewerker", "werker", "bewerker", "kracht",
    "chauffeur", "bestuurder", "bezorger", "koerier", "machinist",
    "monteur", "installateur", "technicus", "elektricien", "loodgieter", "lasser",
    "timmerman", "metselaar", "stukadoor", "schilder", "dekker", "hovenier", "maker",
    "verkoper", "kassier", "schoonmaker", "kok", "bakker", "slager", "kapper", "serveerder",
    "gastheer", "hulp", "assistent", "begeleider", "verzorgende", "verzorger",
    "verpleegkundige", "deskundige", "kundige", "man", "vrouw",
    "planner", "operator", "picker", "inpakker", "sorteerder",
    "beheerder", "administrateur", "adviseur", "consulent", "coordinator", "leider", "manager",
    "receptionist", "telefonist", "secretaresse", "docent", "leraar",
    "specialist", "analist", "ontwikkelaar", "tekenaar", "inspecteur", "controleur",
    "opzichter", "uitvoerder", "beveiliger", "ondersteuner",
)  # fmt: skip
_HEADS_BY_LENGTH = tuple(sorted(COMPOUND_HEADS, key=lambda h: (-len(h), h)))
_HEAD_SET = frozenset(COMPOUND_HEADS)
_MIN_PREFIX = 3
# A verb particle in front of a head makes a word of its own ("verwerker", "voorman"), not a
# compound.
_NOT_A_PREFIX = frozenset(
    {"ver", "ont", "her", "mede", "over", "onder", "voor", "door", "aan", "uit", "mee", "bij",
     "toe", "weg", "terug", "samen"}
)  # fmt: skip
# The linking "s" is only dropped after endings where it is certainly a linker; "ziekenhuis"
# or "bus" end in an "s" of their own.
_LINKING_S_ENDINGS = ("ings", "heids", "teits", "houds", "ijfs", "schaps", "doms", "ments", "koops")
_PLURAL_ENDINGS = ("en", "s", "n")

# --- stopwords and generic terms ------------------------------------------------------------

_DUTCH_STOPWORDS = """
aan af al alle alleen als altijd ander andere anders beide bent ben bij binnen bovendien bv bijv
ca circa daar daarbij daarnaast daarom daarvoor dan dat de deze die dit diverse doch doen doet
door dus echt eigen elk elke een eens en enz er ergens erg etc even evenals ga gaan gaat geen
gehad geweest ging graag had hadden haar heb hebben hebt heeft heel hem hen het hier hierbij
hiervoor hij hoe hun iedere ieder iemand iets ik in is ja je jezelf jij jou jouw jullie kan kon
konden krijg krijgt kun kunnen kunt maar mag me mee meer meest meestal men met mezelf mij mijn
mits moest moesten moet moeten mogen na nadat naar niet niets nog nu of om omdat ongeveer onder
ons onze ook op over overige per reeds rond rondom samen sinds soms steeds te tegen terwijl
tijdens toch toen tot tussen uit uw vaak van vanuit veel verschillende via voor voordat waar
waarbij waarin waarvan want was wat we wel welke werd werden wie wij wil wilde willen wilt
worden wordt zal ze zeer zei zelf zich zichzelf zij zijn zo zoals zonder zou zouden zowel zullen
"""
_ENGLISH_STOPWORDS = """
about above after all also an and any are as at be been being both but by can could did do
does done down during each few for from had has have having he her his how if in into is it its
just may me might more most must my no not of on only or other our out over own same she should
so some such than that the their them then there these they this those through to under up
very was we were what when where which while who will with would you your
"""
# Vacancy and CV filler that appears on both sides of nearly every pair, so sharing it says
# nothing. "ervaring" is here: what counts is the thing experienced, which is its own term.
_FILLER = """
wij zoeken zoek zoekt gezocht vacature vacatures functie functies baan banen werk werken werkt
gewerkt werkzaam werkzaamheden taak taken ervaring ervaren werkervaring kennis vaardigheden
competenties profiel naam adres telefoon email mail woonplaats geboortedatum geboren
nationaliteit heden periode niveau jaar jaren maand maanden week weken dag dagen uur uren
fulltime parttime goed goede prima uitstekend uitstekende leuk leuke nieuw nieuwe mooi mooie
enthousiast enthousiaste gemotiveerd gemotiveerde collega collegas team bedrijf organisatie
januari februari maart april mei juni juli augustus september oktober november december
january february march june july august october
"""
STOPWORDS: frozenset[str] = frozenset((_DUTCH_STOPWORDS + _ENGLISH_STOPWORDS + _FILLER).split())

# Words that many CVs and vacancies share without saying anything about the work: where and on
# which terms one works, how one applies, what every vacancy asks for. Found among the terms the
# demo CVs and vacancies share most, and their kin.
_NOT_EVIDENCE = """
regio regionaal omgeving buurt centrum gemeente gemeenten gemeentelijke provincie landelijk
nederland locatie locaties vestiging vestigingen standplaats uwv werkgever werkgevers
werknemer werknemers werkplek contract contracten dienstverband salaris loon cao vergoeding
reiskosten reiskostenvergoeding startdatum start starten direct vanaf beschikbaar
beschikbaarheid solliciteren sollicitatie solliciteer reageer reageren kandidaat kandidaten
bieden biedt bied aanbod vragen vraag help mogelijk mogelijkheid mogelijkheden verantwoordelijk
volgens basis vaste verder tijd open maken mensen bedrijven kleine klein grote groot hoogte
diploma diplomas certificaat certificaten interesse welkom prettig prettige fijn fijne
gezellig gezellige informeel informele uitdagend uitdagende afwisselend afwisselende passend
passende geschikt geschikte aantal
"""
NOT_EVIDENCE: frozenset[str] = frozenset(_NOT_EVIDENCE.split())
"""Generic words that are never a lexical term (see ``content_terms``)."""


def _place_words() -> frozenset[str]:
    path = Path(__file__).parent / "data" / "place_words.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if w and not w.startswith("#"))


PLACE_WORDS: frozenset[str] = _place_words()
"""Folded words of Dutch place, municipality and province names that are not also words
("deventer", "ridderkerk", "utrecht"; not "boer" or "winkel"); built by
``scripts/build_place_words.py`` from the bundled PC4 gazetteer (GeoNames) minus the ESCO NL
vocabulary. Never a lexical term: a shared place says nothing about fit, distance is a filter."""

GENERIC_TERMS: frozenset[str] = frozenset(
    {
        "medewerker", "werker", "kracht", "hulp", "assistent", "allround", "algemeen",
        "algemene", "man", "vrouw", "kundige", "maker", "specialist", "ondersteuner",
        "ondersteuning", "leerling", "stagiair", "trainee", "opleiding", "junior", "medior",
        "senior",
    }
)  # fmt: skip
"""Terms that occur in many unrelated job titles; callers should down-weight them.

Contains generic heads ("medewerker", "hulp", "kracht"), generic qualifiers ("allround",
"algemeen") and status words ("leerling", "junior"). These are still returned by
``content_terms``; a title whose only shared terms are generic is not a title match.
"""


def fold(text: str) -> str:
    """Lowercase, strip accents and collapse whitespace.

    Case-folds, decomposes (NFKD) and drops combining marks, so "Café" → "cafe", "ë" → "e",
    "Ĳsselmonde" → "ijsselmonde"; runs of whitespace become one space; leading and trailing
    whitespace is removed. Punctuation is kept. Idempotent.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WS_RE.sub(" ", stripped).strip()


def neutral_form(word: str) -> str:
    """Map a feminine Dutch job-title form to its base form; other words come back unchanged.

    Only curated forms are mapped ("medewerkster" → "medewerker", "kapster" → "kapper",
    "verpleegster" → "verpleegkundige"), also as the tail of a compound with a prefix of at
    least three characters ("kassamedewerkster" → "kassamedewerker"). Expects a folded word.
    """
    if not word.endswith(_FEMININE_ENDINGS):  # nearly every word: one C-level check
        return word
    for feminine, base in _FEMININE_BY_LENGTH:
        if word.endswith(feminine):
            prefix = word[: -len(feminine)]
            if not prefix or len(prefix) >= _MIN_PREFIX:
                return prefix + base
            return word
    return word


def _neutralise(text: str) -> str:
    return _WORD_RE.sub(lambda m: neutral_form(m.group(0)), text)


def normalize_title(title: str) -> str:
    """Reduce a job title to the occupation it names.

    Folds the title, then removes gender markers ("(m/v/x)", "m/v"), hours ("32 uur",
    "24-32 uur per week", "32u"), contract terms ("fulltime", "vast contract", "per direct",
    "0-uren", "oproepkracht"...) and seniority words ("junior", "senior", "ervaren",
    "starter"); "leerling" and "in opleiding" are kept. Punctuation becomes a space except
    hyphens and slashes between two letters or digits. Feminine forms are mapped with
    ``neutral_form``. The result is folded and single-spaced; it is "" when nothing but
    noise was given.

    >>> normalize_title("Ervaren Schoonmaakster 20-24 uur per week")
    'schoonmaker'
    """
    text = fold(title)
    text = _GENDER_RE.sub(" ", text)
    text = _CONTRACT_RE.sub(" ", text)
    text = _HOURS_RE.sub(" ", text)
    text = _PER_WEEK_RE.sub(" ", text)
    text = _SENIORITY_RE.sub(" ", text)
    text = _PUNCT_RE.sub(" ", text)
    text = _WS_RE.sub(" ", text)
    text = _LOOSE_JOINER_RE.sub(" ", text)
    return _WS_RE.sub(" ", _neutralise(text)).strip()


@lru_cache(maxsize=16384)
def _split_word(word: str) -> tuple[str, ...]:
    """Split one hyphen-free, slash-free folded word at its head, if it has a known one."""
    for head in _HEADS_BY_LENGTH:
        for plural in ("", *_PLURAL_ENDINGS):
            if not word.endswith(head + plural):
                continue
            prefix = word[: len(word) - len(head) - len(plural)]
            if not prefix or len(prefix) < _MIN_PREFIX or prefix in _NOT_A_PREFIX:
                return (word,)
            if prefix.endswith(_LINKING_S_ENDINGS) and len(prefix) > _MIN_PREFIX:
                prefix = prefix[:-1]
            return (prefix, head + plural)
    return (word,)


def _word_parts(word: str) -> tuple[str, ...]:
    """Parts of one whitespace-free word: hyphen/slash pieces, each split at its head."""
    pieces = [p for p in re.split(r"[-/]", word) if p]
    if "-" in word and any(len(p) < 2 for p in pieces):
        # "e-commerce" is one word, not "e" + "commerce".
        pieces = [p for p in word.split("/") if p]
    parts: list[str] = []
    for piece in pieces:
        parts.extend(_split_word(piece))
    return tuple(parts)


def split_compounds(text: str) -> str:
    """Split Dutch compound job words at known head words (``COMPOUND_HEADS``).

    "heftruckchauffeur" → "heftruck chauffeur", "magazijnmedewerker" → "magazijn medewerker".
    The input is folded first. A head (also in plural: "chauffeurs") splits off only when the
    prefix left has at least three characters and is not a verb particle ("verwerker" stays
    whole); the longest matching head wins, so "medewerker" and "verpleegkundige" stay whole.
    A linking "s" is dropped after endings where it is certainly a linker
    ("beveiligingsmedewerker" → "beveiliging medewerker"). Hyphens and slashes between words
    become spaces ("klantenservice-medewerker" → "klantenservice medewerker"), except in words
    with a one-letter piece ("e-commerce"). Returns the parts single-spaced.
    """
    out: list[str] = []
    for word in fold(text).split(" "):
        if word:
            out.extend(_word_parts(word))
    return " ".join(out)


def _singular_head(term: str) -> str:
    if term in _HEAD_SET:
        return term
    for plural in _PLURAL_ENDINGS:
        if term.endswith(plural) and term[: -len(plural)] in _HEAD_SET:
            return term[: -len(plural)]
    return term


def _keep(term: str) -> bool:
    return len(term) >= 3 and not term.isdigit() and term not in STOPWORDS


def _is_term(term: str) -> bool:
    return _keep(term) and term not in NOT_EVIDENCE and term not in PLACE_WORDS


def content_terms(text: str) -> list[str]:
    """Terms of a text for a transparent lexical-overlap signal.

    Folds the text and takes its runs of letters and digits. Drops ``STOPWORDS`` (Dutch and
    English function words plus vacancy/CV filler such as "ervaring", "functie", "uur"),
    ``NOT_EVIDENCE`` (generic words such as "regio", "contract", "diploma"), ``PLACE_WORDS``
    (place names such as "deventer"), terms shorter than three characters and pure numbers.
    Feminine job forms are mapped to the base form. A compound adds the whole word and then
    its parts ("heftruckchauffeur" → "heftruckchauffeur", "heftruck", "chauffeur"); a plural
    head part is made singular ("heftruckchauffeurs" → ..., "chauffeur"). Generic terms
    (``GENERIC_TERMS``) are kept. Returns each term once, in order of first appearance.
    """
    seen: dict[str, None] = {}
    for match in _WORD_RE.finditer(fold(text)):
        word = neutral_form(match.group(0))
        if not _keep(word):
            continue
        if _is_term(_singular_head(word)):
            seen.setdefault(_singular_head(word), None)
        parts = _split_word(word)
        if len(parts) > 1:
            for part in parts:
                part = _singular_head(part)
                if _is_term(part):
                    seen.setdefault(part, None)
    return list(seen)


def _fold_with_offsets(text: str) -> tuple[str, Sequence[int]]:
    """``fold`` per character without collapsing whitespace, and each output char's origin.

    One input character can fold to several ("Ĳ" → "ij") or to none (a combining accent), so
    the i-th folded character came from ``text[origin[i]]``.
    """
    if text.isascii():  # ASCII folds one to one: casefold is lower, nothing decomposes
        return text.lower(), range(len(text))
    out: list[str] = []
    origin: list[int] = []
    for run in _ASCII_RUN_RE.finditer(text):  # runs of ASCII whole, other characters one by one
        i = run.start()
        if run.end() - i > 1 or run.group().isascii():
            out.append(run.group().lower())
            origin.extend(range(i, run.end()))
            continue
        for c in unicodedata.normalize("NFKD", text[i].casefold()):
            if not unicodedata.combining(c):
                out.append(c)
                origin.append(i)
    return "".join(out), origin


def term_spans(text: str, terms: Iterable[str], limit: int = 50) -> list[tuple[str, int, int]]:
    """Where the given ``content_terms`` occur in ``text``, as ``(term, start, end)`` offsets.

    Words are found and reduced exactly as ``content_terms`` does (fold, feminine forms, plural
    heads, compound parts), so a term matches regardless of case and accents ("Café" for
    "cafe"). ``text[start:end]`` is the whole word when the term is the word, and the part of
    the compound when the term is one of its parts and can be located in it ("chauffeur" in
    "Heftruckchauffeurs"); otherwise the whole word. In text order, at most ``limit`` spans.
    To look up several term sets in one text, make one :class:`TermLocator` instead.
    """
    return TermLocator(text).spans(terms, limit)


@lru_cache(maxsize=65536)
def _analyse_word(raw: str) -> tuple[str, tuple[tuple[str, bool, int, int], ...]] | None:
    """What :class:`TermLocator` keeps of one folded word (None: not a content word): its whole
    term and, for a compound, each part's term, whether it is kept, and its offsets in ``raw``
    (-1: changed by ``neutral_form`` or a dropped linking s, so the whole word is its span).
    Cached: a vocabulary repeats over texts, and this is the per-word cost of a highlight."""
    word = neutral_form(raw)
    if not _keep(word):
        return None
    parts = _split_word(word)
    pos = 0
    located: list[tuple[str, bool, int, int]] = []
    for part in parts if len(parts) > 1 else ():
        found = raw.find(part, pos)
        term = _singular_head(part)
        located.append((term, _keep(term), found, found + len(part)))
        if found >= 0:
            pos = found + len(part)
    return _singular_head(word), tuple(located)


Span = tuple[str, int, int]
"""(term, start, end): ``text[start:end]`` shows the term."""


def _occurrences(
    folded: str, origin: Sequence[int]
) -> Iterator[tuple[str, Span, tuple[Span, ...]]]:
    """Each content word of a folded text in text order: its whole term with the word's span
    in the original text, and its kept compound parts with theirs (the whole word's span when
    a part cannot be located in it)."""
    for match in _WORD_RE.finditer(folded):
        analysed = _analyse_word(match.group())
        if analysed is None:
            continue
        whole, parts = analysed
        start, stop = match.span()
        first, last = origin[start], origin[stop - 1] + 1
        yield (
            whole,
            (whole, first, last),
            tuple(
                (t, first, last)
                if found < 0
                else (t, origin[start + found], origin[start + end - 1] + 1)
                for t, kept, found, end in parts
                if kept
            ),
        )


class _WordsByTerm:
    """Where each term occurs in one text, for many lookups of small term sets.

    ``positions[term]`` lists (rank, span, whole): ``rank`` orders all spans as the text does
    (a word's own span before its parts'), and ``whole`` is None for a word's whole term, else
    the whole term of the compound the part is in: a word whose whole term is wanted shows as
    the whole word, not as its parts.
    """

    __slots__ = ("positions",)

    def __init__(self, folded: str, origin: Sequence[int]) -> None:
        positions: dict[str, list[tuple[int, Span, str | None]]] = {}
        rank = 0
        for whole, whole_span, parts in _occurrences(folded, origin):
            positions.setdefault(whole, []).append((rank, whole_span, None))
            for k, part in enumerate(parts, 1):
                positions.setdefault(part[0], []).append((rank + k, part, whole))
            rank += len(parts) + 1
        self.positions = positions

    def spans(self, wanted: set[str], limit: int) -> list[Span]:
        found = [
            (rank, span)
            for term in wanted
            for rank, span, whole in self.positions.get(term, ())
            if whole is None or whole not in wanted
        ]
        found.sort()
        return [span for _, span in found[:limit]]


class TermLocator:
    """A text folded once, for :func:`term_spans` lookups of several term sets.

    The first lookup locates only the words that hold a wanted term (a returned row's text is
    looked up once). A second lookup indexes the text's spans per term once
    (``_WordsByTerm``), so the query text shared by every returned row is not read again.
    """

    def __init__(self, text: str) -> None:
        self._folded, self._origin = _fold_with_offsets(text) if text else ("", [])
        self._index: _WordsByTerm | None = None
        self._looked_up = False

    def spans(self, terms: Iterable[str], limit: int = 50) -> list[Span]:
        """``term_spans`` of the prepared text for ``terms``: in text order, at most ``limit``."""
        wanted = set(terms)
        if not wanted or not self._folded or limit <= 0:
            return []
        if self._index is not None:
            return self._index.spans(wanted, limit)
        if self._looked_up:
            self._index = _WordsByTerm(self._folded, self._origin)
            return self._index.spans(wanted, limit)
        self._looked_up = True
        return self._scan(wanted, limit)

    def _scan(self, wanted: set[str], limit: int) -> list[Span]:
        """One lookup without an index: only the words that hold a wanted term are located
        (``str.find`` of whole words), the others are looked at once per distinct word."""
        folded, origin = self._folded, self._origin
        relevant = _VOCABULARY.holding(_distinct_words(folded), wanted)
        found: list[tuple[int, str]] = []
        size = len(folded)
        for word in relevant:
            n = len(word)
            i = folded.find(word)
            while i >= 0:
                # a whole word: no letter or digit on either side (as _WORD_RE delimits words)
                if (i == 0 or not folded[i - 1].isalnum()) and (
                    i + n == size or not folded[i + n].isalnum()
                ):
                    found.append((i, word))
                # the word's own letters cannot start another whole occurrence of it
                i = folded.find(word, i + n)
        found.sort()
        out: list[Span] = []
        for start, word in found:
            whole, parts = _analyse_word(word)  # type: ignore[misc]  # relevant: not None
            stop = start + len(word)
            if whole in wanted:
                out.append((whole, origin[start], origin[stop - 1] + 1))
            else:
                out.extend(
                    (t, origin[start], origin[stop - 1] + 1)
                    if at < 0
                    else (t, origin[start + at], origin[start + end - 1] + 1)
                    for t, kept, at, end in parts
                    if kept and t in wanted
                )
            if len(out) >= limit:
                return out[:limit]
        return out


class SpanCache:
    """Where each term occurs in the texts of recently highlighted rows, by row id: a row that
    answers return again (the next page, the same vacancy asked again) is not read word by word
    each time.

    A row's first lookup scans its text as :class:`TermLocator` does (only the words that can
    hold a wanted term) and notes the text's digest; its second indexes the text's spans per
    term (``_WordsByTerm``, about four scans' work) and keeps the index, which later lookups
    read (a few microseconds). A lookup with another text than the one noted (the row changed
    since) starts again. Bounded: the ``size`` rows looked up last (an entry is about 16 KB for
    a demo CV of 1,000 characters, so 512 rows ~8 MB; a long CV's entry is several times
    that). The owner drops a row's entry when the row is replaced or removed
    (:meth:`discard`), so an erased row's words do not stay here.
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._entries: OrderedDict[int, tuple[bytes, _WordsByTerm | None]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, row: object) -> bool:
        return row in self._entries

    def spans(
        self, row: int, text: str, terms: Iterable[str], limit: int = 50, keep: bool = True
    ) -> list[Span]:
        """``term_spans(text, terms, limit)`` of row ``row``'s text ``text``; with ``keep``
        False nothing new is noted (the row is gone)."""
        wanted = set(terms)
        if not wanted or not text or limit <= 0:
            return []
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self._lock:
            entry = self._entries.get(row)
            if entry is not None and entry[0] == digest:
                self._entries.move_to_end(row)
            else:
                entry = None
        if entry is None:
            found = TermLocator(text).spans(wanted, limit)
            index = None
        elif entry[1] is None:
            index = _WordsByTerm(*_fold_with_offsets(text))
            found = index.spans(wanted, limit)
        else:
            return entry[1].spans(wanted, limit)
        if keep:
            with self._lock:
                self._entries[row] = (digest, index)
                self._entries.move_to_end(row)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return found

    def discard(self, rows: Iterable[int]) -> None:
        """Forget the given rows' entries (unknown rows are ignored)."""
        with self._lock:
            for row in rows:
                self._entries.pop(int(row), None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# ASCII letters and digits kept, every other byte a space: _WORD_RE's words of an ASCII text
_ASCII_WORD_BYTES = bytes(i if chr(i).isalnum() else 32 for i in range(256))


def _distinct_words(folded: str) -> set[str]:
    """The distinct words of a folded text, as ``_WORD_RE`` finds them."""
    if folded.isascii():  # a byte translation and a split: half the time of the expression
        return set(folded.encode().translate(_ASCII_WORD_BYTES).decode().split())
    return set(_WORD_RE.findall(folded))


class _Vocabulary:
    """The folded words seen so far, and per term the words that show it: the words of a text
    that hold a wanted term are then found by set operations, not by a look at each word.

    Bounded: past ``limit`` words (50,000: about 15 MB of sets) it starts again empty. A lookup
    works on the state it read first, in which a word is marked known only after it is filed
    under its terms, so threads that add words never make another thread's lookup miss one.
    """

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self._state: tuple[set[str], dict[str, set[str]]] = (set(), {})
        self._lock = threading.Lock()

    def holding(self, words: set[str], wanted: set[str]) -> set[str]:
        """Those of ``words`` (folded words) that show one of the ``wanted`` terms."""
        known, by_term = self._state
        new = words - known
        if new:
            with self._lock:
                if len(known) + len(new) > self.limit:
                    known, by_term = self._state = (set(), {})
                    new = set(words)
                for word in new:
                    for term in _word_terms(word):
                        by_term.setdefault(term, set()).add(word)
                known.update(new)
        out: set[str] = set()
        for term in wanted:
            holders = by_term.get(term)
            if holders:
                out.update(words.intersection(holders))
        return out


_VOCABULARY = _Vocabulary()


@lru_cache(maxsize=65536)
def _word_terms(raw: str) -> frozenset[str]:
    """Every term one folded word can show: its whole term and its kept parts' terms."""
    analysed = _analyse_word(raw)
    if analysed is None:
        return frozenset()
    whole, parts = analysed
    return frozenset([whole, *(t for t, kept, _, _ in parts if kept)])
