"""Protected attributes: fields Werkmatch refuses, so that matching can never use them.

Age, gender, nationality, ethnicity, religion and names (and the other grounds of the Dutch
equal-treatment act: sexual orientation, civil status, political opinion) are not part of any
request model. Request bodies already reject unknown fields; this module makes that refusal say
*why* for these names, in every spelling a client system is likely to send (``date_of_birth``,
``birthDate``, ``geboortedatum``, ``geslacht``, ``voornaam``, ...), and finds them inside free
JSON that Werkmatch keeps as sent (a JobPosting's extra properties) as well.

Two scopes:

* **Request fields** (:func:`refuse_protected_fields`): an undeclared top-level key of a request
  body that names a protected attribute. Declared fields are never refused (a focus
  occupation's ``name`` is the occupation's name).
* **JSON-LD** (:func:`find_in_jsonld`): every key at any depth of a schema.org document. There
  ``name`` is the name of a Thing (an Organization, a DefinedTerm, the JobPosting itself) and is
  refused only inside a ``Person`` (so is a Person as ``hiringOrganization``); the Person
  properties (``givenName``, ``familyName``, ``birthDate``, ``gender``, ``nationality``,
  ``honorificPrefix``) and PeopleAudience's ``requiredGender``, ``requiredMinAge`` and the like
  are refused anywhere.

Free text (a CV, a vacancy description) is not searched: it cannot be filtered reliably, and it
never reaches ranking other than through its embedding and shared terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

_CATEGORIES: dict[str, tuple[str, ...]] = {
    "age": (
        "age", "ages", "agerange", "agegroup", "minage", "maxage", "minimumage", "maximumage",
        "requiredminage", "requiredmaxage", "suggestedage", "suggestedminage", "suggestedmaxage",
        "birthdate", "birthday", "dateofbirth", "dob", "birthyear", "yearofbirth",
        "leeftijd", "leeftijden", "leeftijdscategorie", "leeftijdsgrens", "minimumleeftijd",
        "maximumleeftijd", "minleeftijd", "maxleeftijd", "geboortedatum", "geboortejaar",
    ),
    "gender": (
        "gender", "genders", "sex", "geslacht", "genderidentity", "genderidentiteit",
        "requiredgender", "suggestedgender", "honorificprefix", "salutation", "aanhef",
    ),
    "nationality": (
        "nationality", "nationalities", "citizenship", "nationaliteit", "nationaliteiten",
        "staatsburgerschap", "countryofbirth", "birthcountry", "geboorteland", "placeofbirth",
        "birthplace", "geboorteplaats",
    ),
    "ethnicity": (
        "ethnicity", "ethnic", "ethnicorigin", "ethnicbackground", "race", "etniciteit",
        "etnischeachtergrond", "etnischeafkomst", "afkomst", "herkomst", "migrationbackground",
        "migratieachtergrond",
    ),
    "religion": (
        "religion", "religie", "faith", "geloof", "geloofsovertuiging", "levensovertuiging",
    ),
    "name": (
        "name", "firstname", "lastname", "fullname", "givenname", "familyname", "surname",
        "middlename", "additionalname", "maidenname", "nickname", "initials", "naam",
        "voornaam", "voornamen", "achternaam", "familienaam", "volledigenaam", "roepnaam",
        "voorletters", "tussenvoegsel", "geboortenaam", "meisjesnaam",
    ),
    "sexual orientation": ("sexualorientation", "seksuelegeaardheid", "geaardheid"),
    "civil status": ("maritalstatus", "civilstatus", "burgerlijkestaat"),
    "political opinion": (
        "politicalopinion", "politicalaffiliation", "politiekevoorkeur", "politiekegezindheid",
    ),
}  # fmt: skip
PROTECTED: dict[str, str] = {key: cat for cat, keys in _CATEGORIES.items() for key in keys}
"""Normalised key (see :func:`normalise_key`) → the protected attribute it carries."""

_NOT_KEY = re.compile(r"[^0-9a-z]+")
_PERSON_TYPES = frozenset({"person", "patient"})
# In JSON-LD these name any Thing (an Organization, a DefinedTerm, the JobPosting itself): a
# person's name only inside a Person.
_THING_NAMES = frozenset({"name", "naam"})


def normalise_key(key: str) -> str:
    """Compare keys by letters and digits only, case-folded; JSON-LD IRIs by their last part.

    ``date_of_birth``, ``Date-Of-Birth`` and ``dateOfBirth`` all become ``dateofbirth``;
    ``https://schema.org/gender`` and ``schema:gender`` become ``gender``.
    """
    last = re.split(r"[/#:]", key.strip())[-1]
    return _NOT_KEY.sub("", last.casefold())


def protected_category(key: str) -> str | None:
    """The protected attribute a field name carries (``"age"``, ``"name"``, ...), or None."""
    return PROTECTED.get(normalise_key(key))


_MESSAGE = (
    "'{field}' is a protected attribute ({category}) that Werkmatch does not accept: "
    "matching never uses a person's age, gender, nationality, ethnicity, religion or name"
)


def message(key: str, category: str) -> str:
    """The refusal, as a 422 and an import rejection state it."""
    return _MESSAGE.format(field=key, category=category)


def _error(loc: tuple[str | int, ...], key: str, category: str) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError(
            "protected_attribute", _MESSAGE, {"field": key, "category": category}
        ),
        loc=loc,
        input=key,  # the field's name, never its value
    )


def _is_person(obj: Mapping[str, Any]) -> bool:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(isinstance(k, str) and normalise_key(k) in _PERSON_TYPES for k in kinds)


def find_in_jsonld(doc: Any) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """Protected keys at any depth of a JSON(-LD) value: (location, key, category), in order.

    ``name`` counts only inside a Person (see the module docstring). Iterative, so a deeply
    nested body cannot exhaust the stack.
    """
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), doc)]
    while stack:
        loc, value = stack.pop()
        children: list[tuple[tuple[str | int, ...], Any]] = []
        if isinstance(value, Mapping):
            person = _is_person(value)
            for key, child in value.items():
                key = str(key)
                category = protected_category(key)
                if category is not None and (person or normalise_key(key) not in _THING_NAMES):
                    yield (*loc, key), key, category
                children.append(((*loc, key), child))
        elif isinstance(value, list):
            children = [((*loc, i), child) for i, child in enumerate(value)]
        stack.extend(reversed(children))


def refuse_protected_fields(
    title: str,
    data: Mapping[str, Any],
    declared: Iterable[str],
    free_json: Iterable[str] = (),
) -> None:
    """Refuse a request body that carries a protected attribute.

    Args:
        title: the model's name, for the error.
        data: the body as sent.
        declared: the model's fields; these are never refused.
        free_json: declared fields holding free JSON (kept as sent), searched with the JSON-LD
            rules of :func:`find_in_jsonld`.
    Raises:
        ValidationError: one ``protected_attribute`` error per field found, located at it.
    """
    known = set(declared)
    errors = [
        _error((str(key),), str(key), category)
        for key in data
        if str(key) not in known and (category := protected_category(str(key))) is not None
    ]
    for field in free_json:
        value = data.get(field)
        errors += [_error((field, *loc), key, cat) for loc, key, cat in find_in_jsonld(value)]
    if errors:
        raise ValidationError.from_exception_data(title, errors)
