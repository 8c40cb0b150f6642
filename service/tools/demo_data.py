"""Made-up demo data for Werkmatch: focus occupations, candidates with CVs, and vacancies.

Everything here is invented. The data is composed from the Dutch building blocks below with
``random.Random(seed)``; the default seed ``DEMO_SEED`` always yields the same data set, another
seed a different one. There are no names of people anywhere: candidates are known by an id only
and their CVs are written without a name ("Ik heb ... gewerkt als ...", "Kandidaat heeft ...").
Employer ids are invented slugs, and former employers in CVs are described generically ("bij een
distributiecentrum in de regio"). Postcodes are real PC4 areas (copied from the GeoNames file in
``shared/data/external/nl-postcodes``) with random letters.

Public API: ``DEMO_SEED``, ``focus_occupations()``, ``demo_candidates()``, ``demo_vacancies()``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = [
    "DEMO_SEED",
    "EMPLOYERS",
    "OCCUPATIONS",
    "REGIONS",
    "SECTORS",
    "demo_candidates",
    "demo_vacancies",
    "focus_occupations",
]

DEMO_SEED: int = 20261124

T = TypeVar("T")

# ------------------------------------------------------------------------------ building blocks


@dataclass(frozen=True)
class Occupation:
    """A focus occupation and the words that CVs and vacancies use around it."""

    slug: str
    name: str
    sector: str
    synonyms: tuple[str, ...]
    roles: tuple[str, ...]  # how a CV names the job: "Ik werkte als {role}"
    desired: tuple[str, ...]  # how a client system records it as a desired occupation
    titles: tuple[str, ...]  # bases of vacancy titles
    title_extras: tuple[str, ...]  # suffixes such as "2-ploegen" or "thuiszorg"
    tasks: tuple[str, ...]  # noun phrases: "verantwoordelijk voor {task}"
    skills: tuple[str, ...]
    certificates: tuple[str, ...]
    education: tuple[str, ...]  # typical education levels
    licence: float  # share of people and jobs in this occupation with a driving licence

    @property
    def label(self) -> str:
        """The clean occupation name used on vacancies ("verzorgende IG", "heftruckchauffeur")."""
        return _lower_first(self.name)


@dataclass(frozen=True)
class Sector:
    key: str
    domain: str  # "de logistiek": "ervaring in {domain}"
    weight: int  # share among the candidates of a municipality
    workplaces: tuple[str, ...]  # generic former employers: "bij een distributiecentrum"
    intros: tuple[str, ...]  # first sentence of a vacancy text, with {place}
    pay: str  # the pay line of a vacancy text


@dataclass(frozen=True)
class Region:
    key: str
    weight: int
    places: tuple[str, ...]
    pc4: tuple[str, ...]  # existing PC4 areas (GeoNames), checked against the file by the tests
    caseworkers: tuple[str, ...]


@dataclass(frozen=True)
class Employer:
    slug: str
    region: str
    sectors: tuple[str, ...]
    sites: tuple[tuple[str, str], ...]  # (postcode, place)
    weight: int  # relative number of vacancies


SECTORS: dict[str, Sector] = {
    s.key: s
    for s in (
        Sector(
            key="logistiek",
            domain="de logistiek",
            weight=16,
            workplaces=(
                "bij een distributiecentrum",
                "bij een transportbedrijf",
                "in het magazijn van een groothandel",
                "bij een webwinkel",
                "via een uitzendbureau bij een logistiek dienstverlener",
                "bij een koel- en vrieshuis",
            ),
            intros=(
                "Wij zijn een transport- en opslagbedrijf met een groot distributiecentrum in "
                "{place}.",
                "Ons distributiecentrum in {place} levert elke dag aan winkels in heel Nederland.",
                "Voor onze vestiging in {place} zoeken wij versterking van het logistieke team.",
            ),
            pay="Salaris volgens de cao Beroepsgoederenvervoer, met toeslag voor avonduren.",
        ),
        Sector(
            key="productie",
            domain="de productie",
            weight=12,
            workplaces=(
                "bij een voedingsmiddelenfabriek",
                "bij een verpakkingsbedrijf",
                "bij een metaalbedrijf",
                "bij een kunststoffabriek",
                "via een uitzendbureau bij een groenteverwerker",
                "bij een sociaal werkbedrijf",
            ),
            intros=(
                "In onze fabriek in {place} maken en verpakken wij elke dag duizenden producten.",
                "Wij zijn een productiebedrijf in {place} met ruim honderd collega's.",
                "Voor onze productielocatie in {place} zoeken wij nieuwe collega's.",
            ),
            pay="Een goed salaris volgens de cao, met ploegentoeslag.",
        ),
        Sector(
            key="schoonmaak",
            domain="de schoonmaak",
            weight=12,
            workplaces=(
                "bij een schoonmaakbedrijf",
                "in een kantoorgebouw",
                "in een ziekenhuis",
                "op scholen via een schoonmaakbedrijf",
                "bij een hotel",
            ),
            intros=(
                "Wij verzorgen de schoonmaak van kantoren, scholen en zorglocaties in en rond "
                "{place}.",
                "Ons schoonmaakbedrijf in {place} groeit en zoekt nieuwe collega's.",
                "Voor een vaste opdrachtgever in {place} zoeken wij een betrouwbare collega.",
            ),
            pay="Salaris volgens de cao Schoonmaak- en glazenwassersbedrijf.",
        ),
        Sector(
            key="zorg",
            domain="de zorg",
            weight=12,
            workplaces=(
                "bij een thuiszorgorganisatie",
                "in een verpleeghuis",
                "in een woonzorgcentrum",
                "bij een zorginstelling voor mensen met een beperking",
                "op een dagbesteding voor ouderen",
            ),
            intros=(
                "Wij bieden zorg en ondersteuning aan ouderen, thuis en in onze "
                "woonzorgcentra in {place}.",
                "Ons thuiszorgteam in {place} zoekt een warme en betrokken collega.",
                "Voor onze locatie in {place} zoeken wij collega's die het verschil willen "
                "maken voor onze cliënten.",
            ),
            pay="Salaris volgens de cao VVT, met onregelmatigheidstoeslag.",
        ),
        Sector(
            key="horeca",
            domain="de horeca",
            weight=11,
            workplaces=(
                "in een restaurant",
                "bij een cateringbedrijf",
                "in een hotel",
                "in een bedrijfsrestaurant",
                "bij een lunchroom",
                "in een eetcafé",
            ),
            intros=(
                "Ons restaurant in {place} is de hele week open voor lunch en diner.",
                "Wij zijn een horecabedrijf met een brasserie en een zalencentrum in {place}.",
                "Voor ons hotel en restaurant in {place} zoeken wij gastvrije collega's.",
            ),
            pay="Salaris volgens de cao Horeca, plus een deel van de fooienpot.",
        ),
        Sector(
            key="groen",
            domain="het groen",
            weight=7,
            workplaces=(
                "bij een hoveniersbedrijf",
                "bij de buitendienst van de gemeente",
                "bij een groenvoorzieningsbedrijf",
                "bij een kwekerij",
                "in de groenploeg van een sociaal werkbedrijf",
            ),
            intros=(
                "Wij leggen tuinen aan en onderhouden het openbaar groen in en rond {place}.",
                "Ons groenbedrijf in {place} werkt voor gemeenten, scholen en particulieren.",
            ),
            pay="Salaris volgens de cao Hoveniers, werkkleding en gereedschap van de zaak.",
        ),
        Sector(
            key="bouw",
            domain="de bouw",
            weight=7,
            workplaces=(
                "bij een bouwbedrijf",
                "bij een aannemer in de woningbouw",
                "bij een onderhoudsbedrijf voor woningcorporaties",
                "via een uitzendbureau op de bouwplaats",
                "bij een sloopbedrijf",
            ),
            intros=(
                "Wij zijn een bouwbedrijf in {place} en werken aan nieuwbouw en renovatie.",
                "Ons bouw- en onderhoudsbedrijf in {place} werkt vooral voor woningcorporaties.",
            ),
            pay="Salaris volgens de cao Bouw & Infra, met reisuren en werkkleding.",
        ),
        Sector(
            key="retail",
            domain="de detailhandel",
            weight=11,
            workplaces=(
                "bij een supermarkt",
                "in een bouwmarkt",
                "bij een kledingwinkel",
                "bij een drogisterij",
                "in een kringloopwinkel",
            ),
            intros=(
                "Onze winkel in {place} is zes dagen per week open en heeft een vast team.",
                "Wij zijn een supermarkt in {place} met een gezellig en hecht team.",
            ),
            pay="Salaris volgens de cao, met personeelskorting.",
        ),
        Sector(
            key="techniek",
            domain="de techniek",
            weight=5,
            workplaces=(
                "bij een installatiebedrijf",
                "bij een elektrotechnisch bedrijf",
                "bij een onderhoudsbedrijf",
                "bij een woningcorporatie",
            ),
            intros=(
                "Wij zijn een installatiebedrijf in {place} met twintig monteurs.",
                "Ons technisch bedrijf in {place} installeert en onderhoudt installaties in "
                "woningen en kantoren.",
            ),
            pay="Salaris volgens de cao Metaal en Techniek, met bus en gereedschap.",
        ),
        Sector(
            key="administratie",
            domain="de administratie",
            weight=7,
            workplaces=(
                "bij een administratiekantoor",
                "bij een gemeente",
                "bij een zorgverzekeraar",
                "bij een energiebedrijf",
                "op de backoffice van een webwinkel",
                "bij een callcenter",
            ),
            intros=(
                "Wij zijn een dienstverlener in {place} met een eigen klantcontactcentrum.",
                "Ons kantoor in {place} verwerkt de administratie voor honderden klanten.",
            ),
            pay="Een goed salaris, thuiswerkvergoeding en een laptop van de zaak.",
        ),
    )
}

OCCUPATIONS: tuple[Occupation, ...] = (
    Occupation(
        slug="heftruckchauffeur",
        name="Heftruckchauffeur",
        sector="logistiek",
        synonyms=(
            "vorkheftruckchauffeur",
            "vorkheftruckbestuurder",
            "heftruckbestuurder",
            "reachtruckchauffeur",
            "reachtruckbestuurder",
        ),
        roles=("heftruckchauffeur", "reachtruckchauffeur", "vorkheftruckchauffeur"),
        desired=(
            "heftruckchauffeur",
            "Heftruckchauffeur",
            "vorkheftruckchauffeur",
            "reachtruckchauffeur",
            "Heftruckbestuurder",
        ),
        titles=("Heftruckchauffeur", "Vorkheftruckchauffeur", "Reachtruckchauffeur"),
        title_extras=("dagdienst", "2-ploegendienst", "distributiecentrum"),
        tasks=(
            "het laden en lossen van vrachtwagens met de heftruck",
            "het inslaan en uithalen van pallets met de reachtruck",
            "het scannen van binnenkomende en uitgaande goederen",
            "het controleren van ladingen op aantallen en schade",
            "het bijhouden van de voorraad in het magazijnsysteem",
            "het rijden van pallets naar de expeditie",
            "het werken op hoogte in de stellingen",
        ),
        skills=(
            "heftruck rijden",
            "reachtruck rijden",
            "laden en lossen",
            "scanner",
            "orderpicken",
            "veilig werken",
        ),
        certificates=("heftruckcertificaat", "reachtruckcertificaat", "VCA basis"),
        education=("vmbo", "mbo1", "mbo2"),
        licence=0.5,
    ),
    Occupation(
        slug="magazijnmedewerker",
        name="Magazijnmedewerker",
        sector="logistiek",
        synonyms=(
            "medewerker magazijn",
            "orderpicker",
            "logistiek medewerker",
            "orderverzamelaar",
            "warehouse medewerker",
        ),
        roles=(
            "magazijnmedewerker",
            "orderpicker",
            "logistiek medewerker in het magazijn",
            "medewerker magazijn en expeditie",
        ),
        desired=(
            "Magazijnmedewerker",
            "magazijnmedewerker",
            "orderpicker",
            "medewerker magazijn",
            "logistiek medewerker",
        ),
        titles=("Magazijnmedewerker", "Medewerker magazijn", "Orderpicker", "Logistiek medewerker"),
        title_extras=("avonddienst", "dagdienst", "3-ploegendienst"),
        tasks=(
            "het orderpicken met een handscanner",
            "het verzamelen en inpakken van bestellingen",
            "het laden en lossen van vrachtwagens",
            "het ompakken en labelen van retouren",
            "het aanvullen van de voorraad in het magazijn",
            "het klaarzetten van rolcontainers voor de expeditie",
            "het tellen van de voorraad bij de inventarisatie",
            "het werken met de elektrische pompwagen",
        ),
        skills=(
            "orderpicken",
            "scanner",
            "laden en lossen",
            "voorraadbeheer",
            "elektrische pompwagen",
            "inpakken",
            "nauwkeurig werken",
        ),
        certificates=(
            "MBO Logistiek niveau 2",
            "VCA basis",
            "heftruckcertificaat",
            "certificaat elektrische pompwagen",
        ),
        education=("vmbo", "mbo1", "mbo2"),
        licence=0.4,
    ),
    Occupation(
        slug="vrachtwagenchauffeur",
        name="Vrachtwagenchauffeur",
        sector="logistiek",
        synonyms=("chauffeur C", "chauffeur CE", "vrachtautochauffeur", "distributiechauffeur"),
        roles=("vrachtwagenchauffeur", "chauffeur C", "distributiechauffeur"),
        desired=("Vrachtwagenchauffeur", "chauffeur C", "chauffeur CE", "distributiechauffeur"),
        titles=("Chauffeur C", "Vrachtwagenchauffeur", "Distributiechauffeur", "Chauffeur CE"),
        title_extras=("nationaal", "dagritten", "met laadklep"),
        tasks=(
            "het bezorgen van goederen bij winkels en bedrijven in de regio",
            "het laden en lossen met de laadklep en de pompwagen",
            "het plannen van de rit met de boordcomputer",
            "het controleren van de vrachtbrieven",
            "de dagelijkse controle van de vrachtwagen",
        ),
        skills=(
            "rijbewijs C",
            "laden en lossen",
            "routeplanning",
            "klantvriendelijk",
            "zelfstandig werken",
            "tachograaf",
        ),
        certificates=("rijbewijs C", "code 95", "digitale tachograafkaart", "ADR-certificaat"),
        education=("vmbo", "mbo2", "mbo3"),
        licence=1.0,
    ),
    Occupation(
        slug="productiemedewerker",
        name="Productiemedewerker",
        sector="productie",
        synonyms=(
            "medewerker productie",
            "lijnmedewerker",
            "inpakker",
            "productiewerker",
            "assemblagemedewerker",
        ),
        roles=("productiemedewerker", "inpakker", "lijnmedewerker", "medewerker assemblage"),
        desired=(
            "Productiemedewerker",
            "productiemedewerker",
            "inpakker",
            "medewerker productie",
            "assemblagemedewerker",
        ),
        titles=(
            "Productiemedewerker",
            "Medewerker productie",
            "Inpakker",
            "Productiemedewerker food",
            "Assemblagemedewerker",
        ),
        title_extras=("2-ploegen", "3-ploegen", "dagdienst", "food"),
        tasks=(
            "het inpakken van producten aan de productielijn",
            "het controleren van producten op kwaliteit",
            "het bijvullen van de lijn met verpakkingsmateriaal",
            "het stapelen van dozen op pallets",
            "het schoonmaken van de productieruimte volgens de hygiëneregels",
            "het monteren van onderdelen volgens werkinstructie",
            "het bijhouden van productiecijfers op een lijst",
        ),
        skills=(
            "inpakken",
            "kwaliteitscontrole",
            "hygiënisch werken",
            "werken in ploegendienst",
            "tempo houden",
            "nauwkeurig werken",
            "HACCP",
        ),
        certificates=("VCA basis", "HACCP", "certificaat Hygiëne in de voedingsindustrie"),
        education=("basisonderwijs", "vmbo", "mbo1", "mbo2"),
        licence=0.3,
    ),
    Occupation(
        slug="machineoperator",
        name="Machineoperator",
        sector="productie",
        synonyms=("operator", "machinebediende", "operator productie", "procesoperator"),
        roles=("machineoperator", "operator", "machinebediende"),
        desired=("machineoperator", "Operator productie", "machinebediende", "procesoperator"),
        titles=("Machineoperator", "Operator productie", "Procesoperator", "Machinebediende"),
        title_extras=("3-ploegen", "volcontinu", "2-ploegen"),
        tasks=(
            "het instellen en bedienen van de verpakkingsmachine",
            "het omstellen van de machine bij een nieuwe order",
            "het verhelpen van kleine storingen",
            "het invullen van controlelijsten en productierapporten",
            "het uitvoeren van eerstelijns onderhoud",
            "het bewaken van de kwaliteit tijdens de productie",
        ),
        skills=(
            "machine bedienen",
            "storingen oplossen",
            "kwaliteitscontrole",
            "technisch inzicht",
            "werken in ploegendienst",
            "omstellen",
        ),
        certificates=("VCA basis", "MBO Operator niveau 2", "heftruckcertificaat"),
        education=("vmbo", "mbo2", "mbo3"),
        licence=0.5,
    ),
    Occupation(
        slug="schoonmaker",
        name="Schoonmaker",
        sector="schoonmaak",
        synonyms=(
            "schoonmaakmedewerker",
            "medewerker schoonmaak",
            "schoonmaakster",
            "interieurverzorger",
            "schoonmaakmedewerker kantoren",
        ),
        roles=("schoonmaker", "schoonmaakmedewerker", "interieurverzorger"),
        desired=(
            "medewerker schoonmaak",
            "Schoonmaker",
            "schoonmaakmedewerker",
            "interieurverzorger",
            "schoonmaakster",
        ),
        titles=(
            "Schoonmaker",
            "Schoonmaakmedewerker",
            "Schoonmaakster",
            "Medewerker schoonmaak",
            "Interieurverzorger",
        ),
        title_extras=("kantoren", "avonduren", "ochtenduren", "ziekenhuis"),
        tasks=(
            "het schoonmaken van kantoren, kantines en sanitaire ruimtes",
            "het stofzuigen en dweilen van vloeren",
            "het bijvullen van zeep, papier en handdoeken",
            "het werken met een schrobzuigmachine",
            "het legen van prullenbakken en het scheiden van afval",
            "het werken volgens een vast schoonmaakschema",
        ),
        skills=(
            "schoonmaken",
            "schrobzuigmachine",
            "zelfstandig werken",
            "hygiënisch werken",
            "betrouwbaar",
            "punctueel",
        ),
        certificates=("certificaat Schoonmaaktechnisch Medewerker", "VCA basis", "BHV"),
        education=("basisonderwijs", "vmbo", "mbo1"),
        licence=0.2,
    ),
    Occupation(
        slug="glazenwasser",
        name="Glazenwasser",
        sector="schoonmaak",
        synonyms=("gevelreiniger", "glazenwasser/gevelreiniger", "medewerker glasbewassing"),
        roles=("glazenwasser", "gevelreiniger"),
        desired=("glazenwasser", "Glazenwasser", "gevelreiniger"),
        titles=("Glazenwasser", "Glazenwasser/gevelreiniger", "Allround glazenwasser"),
        title_extras=("hoogwerker", "particulieren"),
        tasks=(
            "het wassen van ramen en kozijnen bij bedrijven en woningen",
            "het werken met een telescoopsteel en osmose-installatie",
            "het werken vanaf een hoogwerker",
            "het reinigen van gevels en zonwering",
            "het maken van nieuwe afspraken met klanten",
        ),
        skills=(
            "glasbewassing",
            "werken op hoogte",
            "hoogwerker",
            "klantvriendelijk",
            "zelfstandig werken",
        ),
        certificates=("VCA basis", "certificaat Werken op hoogte", "IPAF-hoogwerker"),
        education=("vmbo", "mbo1", "mbo2"),
        licence=0.8,
    ),
    Occupation(
        slug="verzorgende-ig",
        name="Verzorgende IG",
        sector="zorg",
        synonyms=(
            "verzorgende individuele gezondheidszorg",
            "verzorgende",
            "verzorgende IG thuiszorg",
            "verzorgende niveau 3",
        ),
        roles=("verzorgende IG", "verzorgende in de thuiszorg", "verzorgende"),
        desired=(
            "Verzorgende IG",
            "verzorgende",
            "verzorgende IG",
            "Verzorgende individuele gezondheidszorg",
        ),
        titles=(
            "Verzorgende IG",
            "Verzorgende IG thuiszorg",
            "Verzorgende",
            "Verzorgende IG verpleeghuis",
        ),
        title_extras=("thuiszorg", "wijkteam", "psychogeriatrie"),
        tasks=(
            "de persoonlijke verzorging van ouderen",
            "het helpen bij wassen, aankleden en eten",
            "het delen en aftekenen van medicatie",
            "het bijhouden van het zorgdossier",
            "het signaleren van veranderingen in de gezondheid van cliënten",
            "het overleggen met familie, wijkverpleegkundige en huisarts",
            "verpleegtechnische handelingen zoals het aantrekken van steunkousen",
        ),
        skills=(
            "persoonlijke verzorging",
            "medicatie",
            "rapporteren",
            "empathisch",
            "ouderenzorg",
            "samenwerken",
            "geduldig",
        ),
        certificates=("diploma Verzorgende IG", "BHV", "certificaat Medicatieveiligheid"),
        education=("mbo3",),
        licence=0.6,
    ),
    Occupation(
        slug="helpende-zorg-en-welzijn",
        name="Helpende zorg en welzijn",
        sector="zorg",
        synonyms=("helpende", "helpende plus", "zorgassistent", "zorghulp"),
        roles=("helpende zorg en welzijn", "zorgassistent", "helpende in de zorg"),
        desired=("Helpende zorg en welzijn", "zorgassistent", "helpende", "Zorgassistent"),
        titles=(
            "Zorgassistent",
            "Helpende",
            "Helpende plus",
            "Zorgassistent thuiszorg",
            "Helpende zorg en welzijn",
        ),
        title_extras=("thuiszorg", "verpleeghuis", "dagbesteding"),
        tasks=(
            "het helpen bij de persoonlijke verzorging van bewoners",
            "het klaarmaken van de maaltijden en het helpen bij het eten",
            "het begeleiden van activiteiten op de dagbesteding",
            "het opmaken van bedden en het verzorgen van de kamers",
            "het bieden van een luisterend oor aan cliënten",
            "het doorgeven van bijzonderheden aan de verzorgende",
        ),
        skills=(
            "persoonlijke verzorging",
            "geduldig",
            "empathisch",
            "activiteitenbegeleiding",
            "rapporteren",
            "ouderenzorg",
        ),
        certificates=("diploma Helpende Zorg en Welzijn niveau 2", "BHV", "certificaat Zorghulp"),
        education=("mbo1", "mbo2"),
        licence=0.4,
    ),
    Occupation(
        slug="huishoudelijke-hulp",
        name="Huishoudelijke hulp",
        sector="zorg",
        synonyms=(
            "huishoudelijk medewerker",
            "thuishulp",
            "medewerker huishoudelijke ondersteuning",
            "alphahulp",
        ),
        roles=("huishoudelijke hulp in de thuiszorg", "huishoudelijk medewerker in de zorg"),
        desired=("huishoudelijke hulp", "Huishoudelijk medewerker", "thuishulp"),
        titles=("Huishoudelijke hulp", "Huishoudelijk medewerker thuiszorg", "Thuishulp"),
        title_extras=("thuiszorg", "Wmo", "flexibele uren"),
        tasks=(
            "het schoonhouden van de woning van ouderen en mensen met een beperking",
            "het doen van de was en het verschonen van bedden",
            "het signaleren van problemen bij cliënten",
            "het doen van kleine boodschappen",
            "het bijhouden van een overdrachtsschrift",
        ),
        skills=(
            "schoonmaken",
            "klantvriendelijk",
            "zelfstandig werken",
            "signaleren",
            "betrouwbaar",
            "empathisch",
        ),
        certificates=("certificaat Huishoudelijke Zorg", "BHV"),
        education=("basisonderwijs", "vmbo", "mbo1", "mbo2"),
        licence=0.3,
    ),
    Occupation(
        slug="kok",
        name="Kok",
        sector="horeca",
        synonyms=(
            "zelfstandig werkend kok",
            "leerling kok",
            "cateringkok",
            "grillkok",
            "kok/keukenmedewerker",
        ),
        roles=("kok", "zelfstandig werkend kok", "cateringkok"),
        desired=("kok", "Kok", "zelfstandig werkend kok", "cateringkok"),
        titles=("Kok", "Zelfstandig werkend kok", "Cateringkok", "Leerling kok", "Kok restaurant"),
        title_extras=("weekenden", "brasserie", "avonddienst"),
        tasks=(
            "het voorbereiden van groenten, vlees en sauzen (mise-en-place)",
            "het bereiden van gerechten à la carte",
            "het werken volgens HACCP en het bijhouden van temperatuurlijsten",
            "het bestellen en controleren van leveringen",
            "het schoonhouden van de keuken",
            "het meedenken over de menukaart",
        ),
        skills=(
            "koken",
            "HACCP",
            "mise-en-place",
            "hygiënisch werken",
            "stressbestendig",
            "samenwerken",
            "snel werken",
        ),
        certificates=(
            "SVH Basiskok",
            "SVH Zelfstandig werkend kok",
            "HACCP",
            "SVH Sociale Hygiëne",
        ),
        education=("vmbo", "mbo2", "mbo3"),
        licence=0.3,
    ),
    Occupation(
        slug="keukenhulp",
        name="Keukenhulp",
        sector="horeca",
        synonyms=("keukenassistent", "afwasser", "medewerker keuken", "spoelkeukenmedewerker"),
        roles=("keukenhulp", "keukenassistent", "afwasser in een restaurantkeuken"),
        desired=("keukenhulp", "afwasser", "medewerker keuken", "Keukenassistent"),
        titles=(
            "Keukenhulp",
            "Afwasser",
            "Medewerker spoelkeuken",
            "Keukenassistent",
            "Medewerker keuken",
        ),
        title_extras=("weekenden", "avonden", "bedrijfsrestaurant"),
        tasks=(
            "het afwassen van serviesgoed en pannen",
            "het schoonmaken van de keuken en de koelcel",
            "het voorbereiden van groenten en salades",
            "het opruimen van leveringen",
            "het helpen van de kok bij drukte",
        ),
        skills=(
            "afwassen",
            "HACCP",
            "hygiënisch werken",
            "snel werken",
            "samenwerken",
            "schoonmaken",
        ),
        certificates=("HACCP", "SVH Sociale Hygiëne"),
        education=("basisonderwijs", "vmbo", "mbo1"),
        licence=0.1,
    ),
    Occupation(
        slug="medewerker-bediening",
        name="Medewerker bediening",
        sector="horeca",
        synonyms=("bediening", "serveerster", "ober", "kelner", "medewerker restaurant"),
        roles=("medewerker bediening", "barmedewerker in de horeca", "medewerker restaurant"),
        desired=("medewerker bediening", "Bediening", "medewerker restaurant", "barmedewerker"),
        titles=(
            "Medewerker bediening",
            "Bediening",
            "Medewerker restaurant",
            "Barmedewerker",
            "Serveerster",
        ),
        title_extras=("weekenden", "terras", "lunch"),
        tasks=(
            "het opnemen van bestellingen en het serveren van eten en drinken",
            "het afrekenen aan tafel en bij de kassa",
            "het dekken en afruimen van tafels",
            "het tappen van bier en het maken van koffie",
            "het ontvangen en adviseren van gasten",
        ),
        skills=(
            "klantvriendelijk",
            "gastvrij",
            "kassa",
            "koffie zetten",
            "samenwerken",
            "stressbestendig",
            "SVH Sociale Hygiëne",
        ),
        certificates=("SVH Sociale Hygiëne", "SVH Barista", "BHV"),
        education=("vmbo", "mbo1", "mbo2", "havo"),
        licence=0.3,
    ),
    Occupation(
        slug="hovenier",
        name="Hovenier",
        sector="groen",
        synonyms=(
            "hovenier aanleg",
            "hovenier onderhoud",
            "tuinman",
            "allround hovenier",
            "medewerker hoveniersbedrijf",
        ),
        roles=("hovenier", "tuinman", "medewerker hoveniersbedrijf"),
        desired=("hovenier", "Hovenier", "tuinman", "hovenier onderhoud"),
        titles=(
            "Hovenier",
            "Allround hovenier",
            "Hovenier aanleg",
            "Hovenier onderhoud",
            "Medewerker hoveniersbedrijf",
        ),
        title_extras=("aanleg en onderhoud", "seizoen"),
        tasks=(
            "het aanleggen van tuinen met bestrating en beplanting",
            "het snoeien van hagen, heesters en bomen",
            "het maaien van gazons en het onderhouden van borders",
            "het werken met bosmaaier, heggenschaar en minigraver",
            "het leggen van tegels en klinkers",
        ),
        skills=(
            "snoeien",
            "bestraten",
            "maaien",
            "bosmaaier",
            "plantenkennis",
            "zelfstandig werken",
            "werken in de buitenlucht",
        ),
        certificates=(
            "diploma Hovenier niveau 2",
            "VCA basis",
            "trekkerrijbewijs",
            "certificaat Motorkettingzaag",
        ),
        education=("vmbo", "mbo2", "mbo3"),
        licence=0.6,
    ),
    Occupation(
        slug="medewerker-groenvoorziening",
        name="Medewerker groenvoorziening",
        sector="groen",
        synonyms=(
            "groenvoorziener",
            "medewerker groen",
            "medewerker openbaar groen",
            "groenmedewerker",
        ),
        roles=("medewerker groenvoorziening", "groenmedewerker", "medewerker openbaar groen"),
        desired=(
            "medewerker groen",
            "groenvoorziener",
            "Medewerker groenvoorziening",
            "groenmedewerker",
        ),
        titles=(
            "Medewerker groenvoorziening",
            "Medewerker groen",
            "Groenmedewerker",
            "Medewerker openbaar groen",
        ),
        title_extras=("buitendienst", "seizoen"),
        tasks=(
            "het onderhouden van plantsoenen en parken",
            "het prikken van zwerfafval",
            "het schoffelen en wieden van perken",
            "het ruimen van blad in het najaar",
            "het werken met bosmaaier en bladblazer",
        ),
        skills=(
            "maaien",
            "schoffelen",
            "bosmaaier",
            "werken in de buitenlucht",
            "samenwerken",
            "veilig werken",
        ),
        certificates=("VCA basis", "certificaat Veilig werken langs de weg", "trekkerrijbewijs"),
        education=("basisonderwijs", "vmbo", "mbo1", "mbo2"),
        licence=0.3,
    ),
    Occupation(
        slug="timmerman",
        name="Timmerman",
        sector="bouw",
        synonyms=("bouwtimmerman", "allround timmerman", "timmerman bouw", "timmerman onderhoud"),
        roles=("timmerman", "bouwtimmerman", "timmerman onderhoud"),
        desired=("timmerman", "Timmerman", "bouwtimmerman", "timmerman onderhoud"),
        titles=(
            "Timmerman",
            "Allround timmerman",
            "Bouwtimmerman",
            "Timmerman onderhoud",
            "Leerling timmerman",
        ),
        title_extras=("nieuwbouw", "renovatie", "onderhoud"),
        tasks=(
            "het plaatsen van kozijnen, deuren en trappen",
            "het maken van bekistingen op de bouwplaats",
            "het lezen van bouwtekeningen",
            "het afwerken van wanden en plafonds",
            "het uitvoeren van onderhoud aan huurwoningen",
        ),
        skills=(
            "timmeren",
            "bouwtekening lezen",
            "kozijnen plaatsen",
            "elektrisch gereedschap",
            "veilig werken",
            "nauwkeurig werken",
        ),
        certificates=("VCA basis", "MBO Timmerman niveau 2"),
        education=("vmbo", "mbo2", "mbo3"),
        licence=0.7,
    ),
    Occupation(
        slug="bouwplaatsmedewerker",
        name="Bouwplaatsmedewerker",
        sector="bouw",
        synonyms=("medewerker bouwplaats", "bouwvakker", "opperman", "hulpkracht bouw"),
        roles=("bouwplaatsmedewerker", "opperman", "hulpkracht in de bouw"),
        desired=("bouwvakker", "medewerker bouwplaats", "opperman", "Bouwplaatsmedewerker"),
        titles=("Bouwplaatsmedewerker", "Medewerker bouwplaats", "Opperman", "Hulpkracht bouw"),
        title_extras=("nieuwbouw", "infra", "sloop"),
        tasks=(
            "het aanvoeren van materialen naar de metselaars",
            "het opruimen en schoonhouden van de bouwplaats",
            "het mengen van specie en beton",
            "het helpen bij sloop- en grondwerk",
            "het plaatsen van bouwhekken en steigermateriaal",
        ),
        skills=("sjouwen", "veilig werken", "samenwerken", "bouwplaats", "fysiek sterk", "VCA"),
        certificates=("VCA basis", "certificaat Steigerbouw"),
        education=("basisonderwijs", "vmbo", "mbo1"),
        licence=0.4,
    ),
    Occupation(
        slug="verkoopmedewerker",
        name="Verkoopmedewerker",
        sector="retail",
        synonyms=(
            "winkelmedewerker",
            "medewerker winkel",
            "verkoper",
            "verkoopster",
            "kassamedewerker",
            "retailmedewerker",
        ),
        roles=("verkoopmedewerker", "winkelmedewerker", "kassamedewerker"),
        desired=("verkoopmedewerker", "Winkelmedewerker", "kassamedewerker", "verkoper"),
        titles=(
            "Verkoopmedewerker",
            "Winkelmedewerker",
            "Kassamedewerker",
            "Verkoopmedewerker bouwmarkt",
            "Medewerker winkel",
        ),
        title_extras=("zaterdag", "koopavond", "parttime"),
        tasks=(
            "het helpen en adviseren van klanten",
            "het afrekenen aan de kassa",
            "het spiegelen en presenteren van producten",
            "het uitpakken van leveringen",
            "het afhandelen van retouren en klachten",
        ),
        skills=(
            "klantvriendelijk",
            "kassa",
            "verkopen",
            "presenteren",
            "samenwerken",
            "communicatief",
        ),
        certificates=("MBO Verkoopmedewerker niveau 2", "BHV", "certificaat Kassabediening"),
        education=("vmbo", "mbo2", "mbo3", "havo"),
        licence=0.4,
    ),
    Occupation(
        slug="vakkenvuller",
        name="Vakkenvuller",
        sector="retail",
        synonyms=(
            "medewerker vulploeg",
            "vulploegmedewerker",
            "vakkenvuller supermarkt",
            "medewerker supermarkt",
        ),
        roles=("vakkenvuller", "medewerker vulploeg", "medewerker supermarkt"),
        desired=("vakkenvuller", "Vakkenvuller", "medewerker vulploeg", "medewerker supermarkt"),
        titles=(
            "Vakkenvuller",
            "Medewerker vulploeg",
            "Vakkenvuller supermarkt",
            "Medewerker vers",
        ),
        title_extras=("avondvulploeg", "ochtend", "weekend"),
        tasks=(
            "het vullen van de schappen met nieuwe producten",
            "het controleren van de houdbaarheidsdatum",
            "het uitpakken van rolcontainers",
            "het netjes houden van de winkelvloer",
            "het helpen van klanten die iets zoeken",
        ),
        skills=(
            "vakkenvullen",
            "voorraad",
            "klantvriendelijk",
            "snel werken",
            "netjes werken",
            "samenwerken",
        ),
        certificates=("BHV", "certificaat Versafdeling"),
        education=("basisonderwijs", "vmbo", "mbo1"),
        licence=0.2,
    ),
    Occupation(
        slug="installatiemonteur",
        name="Installatiemonteur",
        sector="techniek",
        synonyms=(
            "monteur installatietechniek",
            "loodgieter",
            "cv-monteur",
            "servicemonteur",
            "monteur W",
        ),
        roles=("installatiemonteur", "loodgieter", "cv-monteur", "servicemonteur"),
        desired=(
            "installatiemonteur",
            "Loodgieter",
            "cv-monteur",
            "Servicemonteur",
            "monteur installatietechniek",
        ),
        titles=(
            "Installatiemonteur",
            "Servicemonteur",
            "Loodgieter",
            "Monteur installatietechniek",
            "Eerste monteur installatietechniek",
        ),
        title_extras=("woningbouw", "utiliteit", "service en onderhoud"),
        tasks=(
            "het aanleggen van water- en afvoerleidingen",
            "het plaatsen en onderhouden van cv-ketels",
            "het monteren van badkamers en toiletten",
            "het opsporen en verhelpen van storingen",
            "het lezen van installatietekeningen",
            "het installeren van warmtepompen",
        ),
        skills=(
            "installatietechniek",
            "solderen",
            "storingen verhelpen",
            "technisch inzicht",
            "klantvriendelijk",
            "zelfstandig werken",
        ),
        certificates=(
            "VCA basis",
            "MBO Monteur Installatietechniek niveau 2",
            "F-gassencertificaat",
        ),
        education=("mbo2", "mbo3", "mbo4"),
        licence=0.85,
    ),
    Occupation(
        slug="elektromonteur",
        name="Elektromonteur",
        sector="techniek",
        synonyms=("elektricien", "monteur elektrotechniek", "eerste monteur elektro", "monteur E"),
        roles=("elektromonteur", "elektricien", "monteur elektrotechniek"),
        desired=("elektricien", "Elektromonteur", "monteur elektrotechniek"),
        titles=(
            "Elektromonteur",
            "Elektricien",
            "Monteur elektrotechniek",
            "Eerste monteur elektro",
        ),
        title_extras=("woningbouw", "utiliteit", "storingsdienst"),
        tasks=(
            "het aanleggen van elektrische installaties in nieuwbouwwoningen",
            "het trekken van kabels en het aansluiten van groepenkasten",
            "het meten en keuren van installaties volgens NEN 3140",
            "het plaatsen van laadpalen en zonnepanelen",
            "het verhelpen van storingen",
        ),
        skills=(
            "elektrotechniek",
            "NEN 3140",
            "storingen verhelpen",
            "tekening lezen",
            "technisch inzicht",
            "veilig werken",
        ),
        certificates=(
            "VCA basis",
            "NEN 3140 Vakbekwaam Persoon",
            "MBO Eerste Monteur Elektrotechniek",
        ),
        education=("mbo2", "mbo3", "mbo4"),
        licence=0.8,
    ),
    Occupation(
        slug="administratief-medewerker",
        name="Administratief medewerker",
        sector="administratie",
        synonyms=(
            "medewerker administratie",
            "administratief ondersteuner",
            "medewerker backoffice",
            "data-entry medewerker",
            "boekhoudkundig medewerker",
        ),
        roles=(
            "administratief medewerker",
            "medewerker backoffice",
            "medewerker financiële administratie",
        ),
        desired=(
            "administratief medewerker",
            "Medewerker administratie",
            "medewerker backoffice",
            "Data-entry medewerker",
        ),
        titles=(
            "Administratief medewerker",
            "Medewerker administratie",
            "Medewerker backoffice",
            "Data-entry medewerker",
            "Administratief medewerker crediteuren",
        ),
        title_extras=("crediteuren", "parttime", "tijdelijk"),
        tasks=(
            "het verwerken van facturen en inkooporders",
            "het invoeren van gegevens in het boekhoudprogramma",
            "het archiveren en scannen van documenten",
            "het beantwoorden van e-mail en telefoon",
            "het bijhouden van debiteuren en het versturen van herinneringen",
            "het maken van overzichten in Excel",
        ),
        skills=(
            "Excel",
            "Word",
            "gegevensinvoer",
            "nauwkeurig werken",
            "administratie",
            "boekhouden",
            "communicatief",
        ),
        certificates=(
            "MBO Secretarieel niveau 3",
            "cursus Excel gevorderd",
            "Praktijkdiploma Boekhouden",
        ),
        education=("mbo2", "mbo3", "mbo4", "havo", "hbo"),
        licence=0.5,
    ),
    Occupation(
        slug="klantenservicemedewerker",
        name="Klantenservicemedewerker",
        sector="administratie",
        synonyms=(
            "medewerker klantenservice",
            "callcentermedewerker",
            "klantcontactmedewerker",
            "medewerker klantcontactcentrum",
        ),
        roles=("klantenservicemedewerker", "callcentermedewerker", "medewerker klantcontact"),
        desired=("klantenservicemedewerker", "Medewerker klantenservice", "callcentermedewerker"),
        titles=(
            "Klantenservicemedewerker",
            "Medewerker klantenservice",
            "Callcentermedewerker",
            "Medewerker klantcontact",
        ),
        title_extras=("inbound", "thuiswerk", "avonduren"),
        tasks=(
            "het beantwoorden van vragen van klanten via telefoon, chat en e-mail",
            "het registreren van klachten en meldingen in het systeem",
            "het inplannen van afspraken voor monteurs",
            "het oplossen van problemen met facturen en bestellingen",
            "het doorverbinden naar de juiste afdeling",
        ),
        skills=(
            "klantvriendelijk",
            "telefoneren",
            "typevaardig",
            "communicatief",
            "geduldig",
            "computervaardig",
        ),
        certificates=(
            "MBO Medewerker contactcenter niveau 2",
            "cursus Klantgericht telefoneren",
            "cursus Excel basis",
        ),
        education=("vmbo", "mbo2", "mbo3", "mbo4", "havo"),
        licence=0.4,
    ),
)

_BY_SLUG: dict[str, Occupation] = {o.slug: o for o in OCCUPATIONS}
_BY_SECTOR: dict[str, tuple[Occupation, ...]] = {
    key: tuple(o for o in OCCUPATIONS if o.sector == key) for key in SECTORS
}


def _codes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Copied from nl_pc4_geonames.csv (GeoNames, CC BY 4.0); the module must not read it at run time.
REGIONS: dict[str, Region] = {
    r.key: r
    for r in (
        Region(
            key="rijnmond",
            weight=33,
            places=("Rotterdam", "Ridderkerk", "Barendrecht", "Schiedam"),
            pc4=_codes(
                "2981 2982 2983 2984 2985 2986 2987 2988 2989 2991 2992 3011 "
                "3012 3021 3032 3044 3071 3074 3081 3083 3086 3089 3112 3117"
            ),
            caseworkers=("cw-rotterdam-01", "cw-rotterdam-02", "cw-ridderkerk-01"),
        ),
        Region(
            key="deventer",
            weight=13,
            places=("Deventer", "Colmschate"),
            pc4=_codes("7411 7412 7415 7416 7418 7421 7422 7425 7429"),
            caseworkers=("cw-deventer-01",),
        ),
        Region(
            key="utrecht",
            weight=14,
            places=("Utrecht",),
            pc4=_codes("3511 3512 3521 3523 3525 3531 3532 3544 3555 3561 3564 3573 3584"),
            caseworkers=("cw-utrecht-01",),
        ),
        Region(
            key="groningen",
            weight=13,
            places=("Groningen",),
            pc4=_codes("9711 9712 9713 9715 9717 9721 9723 9726 9731 9737 9741 9744 9746"),
            caseworkers=("cw-groningen-01",),
        ),
        Region(
            key="eindhoven",
            weight=13,
            places=("Eindhoven",),
            pc4=_codes("5611 5612 5615 5616 5621 5623 5625 5628 5631 5641 5643 5652 5654 5656"),
            caseworkers=("cw-eindhoven-01",),
        ),
        Region(
            key="amsterdam",
            weight=14,
            places=("Amsterdam",),
            pc4=_codes(
                "1011 1013 1017 1018 1024 1031 1055 1062 1064 1069 1091 1093 1102 1103 1106"
            ),
            caseworkers=("cw-amsterdam-01",),
        ),
    )
}

EMPLOYERS: tuple[Employer, ...] = (
    Employer("transport-rijnmond-bv", "rijnmond", ("logistiek",),
             (("2983LB", "Ridderkerk"), ("2987BH", "Ridderkerk")), 9),
    Employer("dc-waalhaven-logistiek-bv", "rijnmond", ("logistiek", "productie"),
             (("3089KJ", "Rotterdam"),), 8),
    Employer("stichting-thuiszorg-maasoever", "rijnmond", ("zorg",),
             (("3074CE", "Rotterdam"), ("2982AB", "Ridderkerk")), 8),
    Employer("brasserie-groep-oude-haven", "rijnmond", ("horeca",),
             (("3011KT", "Rotterdam"), ("3012CL", "Rotterdam")), 7),
    Employer("schoonmaakbedrijf-ijsselmonde-bv", "rijnmond", ("schoonmaak",),
             (("3071ME", "Rotterdam"),), 6),
    Employer("voedingsmiddelen-barendrecht-bv", "rijnmond", ("productie", "logistiek"),
             (("2991LN", "Barendrecht"),), 6),
    Employer("buurtsuper-schiedam-oost-vof", "rijnmond", ("retail",),
             (("3117AG", "Schiedam"),), 4),
    Employer("logistiek-ijsselhaven-bv", "deventer", ("logistiek",),
             (("7418AH", "Deventer"),), 6),
    Employer("stichting-woonzorg-salland", "deventer", ("zorg",),
             (("7415CK", "Deventer"), ("7429AB", "Colmschate")), 6),
    Employer("bouwbedrijf-salland-vof", "deventer", ("bouw", "techniek"),
             (("7421AC", "Deventer"),), 5),
    Employer("kringloop-en-groen-deventer", "deventer", ("groen", "retail"),
             (("7422LP", "Deventer"),), 4),
    Employer("facilitaire-diensten-utrecht-bv", "utrecht", ("schoonmaak",),
             (("3544AD", "Utrecht"),), 6),
    Employer("hotel-restaurant-domstad", "utrecht", ("horeca",),
             (("3511CE", "Utrecht"), ("3512JE", "Utrecht")), 6),
    Employer("installatietechniek-oost-utrecht-bv", "utrecht", ("techniek", "bouw"),
             (("3555HK", "Utrecht"),), 5),
    Employer("backoffice-diensten-utrecht-bv", "utrecht", ("administratie",),
             (("3521AZ", "Utrecht"),), 5),
    Employer("voedingsfabriek-noord-groningen-bv", "groningen", ("productie", "logistiek"),
             (("9723TA", "Groningen"),), 7),
    Employer("thuiszorg-stad-en-ommeland", "groningen", ("zorg",),
             (("9711HL", "Groningen"), ("9741AB", "Groningen")), 6),
    Employer("supermarktgroep-noord-bv", "groningen", ("retail",),
             (("9726AE", "Groningen"), ("9737BK", "Groningen")), 5),
    Employer("groenbedrijf-hunze-vof", "groningen", ("groen",),
             (("9746AA", "Groningen"),), 6),
    Employer("metaal-en-assemblage-kempen-bv", "eindhoven", ("productie", "techniek"),
             (("5652AG", "Eindhoven"),), 6),
    Employer("logistiek-centrum-de-hurk-bv", "eindhoven", ("logistiek",),
             (("5652AK", "Eindhoven"),), 6),
    Employer("elektrotechniek-woensel-bv", "eindhoven", ("techniek",),
             (("5625AB", "Eindhoven"),), 4),
    Employer("winkels-en-horeca-stratumseind-vof", "eindhoven", ("retail", "horeca"),
             (("5611EN", "Eindhoven"),), 5),
    Employer("schoonmaak-amsterdam-west-bv", "amsterdam", ("schoonmaak",),
             (("1064KL", "Amsterdam"),), 6),
    Employer("grand-cafe-amstelzijde", "amsterdam", ("horeca",),
             (("1017CT", "Amsterdam"),), 5),
    Employer("klantcontactcentrum-amsterdam-west-bv", "amsterdam", ("administratie",),
             (("1055RE", "Amsterdam"),), 5)
)  # fmt: skip

LANGUAGE_NAMES: dict[str, str] = {
    "nl": "Nederlands",
    "en": "Engels",
    "de": "Duits",
    "ar": "Arabisch",
    "tr": "Turks",
    "pl": "Pools",
    "ti": "Tigrinya",
    "so": "Somalisch",
    "uk": "Oekraïens",
    "ro": "Roemeens",
    "fa": "Perzisch",
    "es": "Spaans",
    "bg": "Bulgaars",
}
# The first language of a profile is the one the CV calls the mother tongue.
LANGUAGE_PROFILES: tuple[tuple[tuple[str, ...], int], ...] = (
    (("nl",), 50),
    (("nl", "en"), 18),
    (("ar", "nl"), 7),
    (("tr", "nl"), 6),
    (("nl", "en", "de"), 3),
    (("pl", "en"), 3),
    (("pl", "nl"), 2),
    (("ti", "nl"), 2),
    (("so", "nl"), 2),
    (("uk", "en"), 2),
    (("uk", "nl"), 1),
    (("ro", "en"), 1),
    (("fa", "nl", "en"), 1),
    (("es", "nl"), 1),
    (("bg", "nl"), 1),
)
LANGUAGE_LEVELS: tuple[str, ...] = ("goed", "redelijk", "basis", "niveau A2", "niveau B1")

EDUCATION_LEVELS: tuple[str, ...] = (
    "basisonderwijs", "vmbo", "mbo1", "mbo2", "mbo3", "mbo4", "havo", "vwo", "hbo", "wo"
)  # fmt: skip
# Completes "Ik heb ..." and "Kandidaat heeft ...".
EDUCATION_PHRASES: dict[str, str] = {
    "basisonderwijs": "de basisschool afgerond",
    "vmbo": "een vmbo-diploma (basisberoepsgerichte leerweg)",
    "mbo1": "de Entreeopleiding (mbo niveau 1) afgerond",
    "mbo2": "een mbo-diploma op niveau 2",
    "mbo3": "een mbo-diploma op niveau 3",
    "mbo4": "een mbo-diploma op niveau 4",
    "havo": "een havo-diploma",
    "vwo": "een vwo-diploma",
    "hbo": "een hbo-diploma",
    "wo": "een universitair diploma",
}
EDUCATION_NAMES: dict[str, str] = {
    "basisonderwijs": "basisschool",
    "vmbo": "diploma vmbo (basisberoepsgerichte leerweg)",
    "mbo1": "diploma Entreeopleiding (mbo niveau 1)",
    "mbo2": "diploma mbo niveau 2",
    "mbo3": "diploma mbo niveau 3",
    "mbo4": "diploma mbo niveau 4",
    "havo": "diploma havo",
    "vwo": "diploma vwo",
    "hbo": "diploma hbo",
    "wo": "universitair diploma",
}
EDUCATION_REQUIREMENTS: dict[str | None, str] = {
    None: "Ervaring is mooi meegenomen, maar motivatie is belangrijker dan diploma's.",
    "basisonderwijs": "Een diploma is niet nodig.",
    "vmbo": "Je hebt minimaal een vmbo-diploma.",
    "mbo1": "Je hebt minimaal een Entree-diploma (mbo niveau 1).",
    "mbo2": "Je hebt een mbo-diploma op niveau 2 of vergelijkbare ervaring.",
    "mbo3": "Je hebt een mbo-diploma op niveau 3.",
    "mbo4": "Je hebt een mbo-diploma op niveau 4.",
    "havo": "Je hebt minimaal havo of een mbo-diploma op niveau 4.",
    "vwo": "Je hebt minimaal een vwo-diploma.",
    "hbo": "Je hebt een hbo-diploma.",
    "wo": "Je hebt een universitair diploma.",
}

NUMBER_WORDS: tuple[str, ...] = (
    "nul", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien",
    "elf", "twaalf", "dertien", "veertien", "vijftien"
)  # fmt: skip
MONTHS: tuple[str, ...] = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december"
)  # fmt: skip

SOFT_SKILLS: tuple[str, ...] = (
    "klantvriendelijk",
    "teamspeler",
    "punctueel",
    "betrouwbaar",
    "zelfstandig werken",
    "stressbestendig",
    "flexibel",
    "leergierig",
)
GENERAL_COURSES: tuple[str, ...] = (
    "taaltraject Nederlands (NT2)",
    "cursus Nederlands op B1-niveau",
    "training Solliciteren",
    "cursus Digitale vaardigheden",
    "EHBO",
    "cursus Excel basis",
    "training Omgaan met agressie",
)
HOBBIES: tuple[str, ...] = (
    "voetbal",
    "fitness",
    "wandelen",
    "koken voor vrienden en familie",
    "vrijwilligerswerk bij de voedselbank",
    "fietsen",
    "tuinieren",
    "vissen",
    "klussen in huis",
    "hardlopen",
    "muziek maken",
    "vrijwilligerswerk bij een sportvereniging",
)

# CV sentences in two voices: first person and third person ("Kandidaat ...").
VOICES: tuple[str, ...] = ("ik", "kandidaat")
JOB_LINES: dict[str, tuple[str, ...]] = {
    "ik": (
        "Van {start} tot {end} heb ik gewerkt als {role} {place}.",
        "Ik heb {years} jaar gewerkt als {role} {place} (van {start} tot {end}).",
        "In de periode {start}-{end} was ik {role} {place}.",
        "Tussen {start} en {end} werkte ik als {role} {place}.",
    ),
    "kandidaat": (
        "Van {start} tot {end} werkte kandidaat als {role} {place}.",
        "Kandidaat heeft {years} jaar gewerkt als {role} {place} (van {start} tot {end}).",
        "In de periode {start}-{end} was kandidaat werkzaam als {role} {place}.",
        "Kandidaat heeft tussen {start} en {end} gewerkt als {role} {place}.",
    ),
}
TASK_LINES: dict[str, tuple[str, ...]] = {
    "ik": (
        "Mijn taken waren {tasks}.",
        "Ik was daar verantwoordelijk voor {tasks}.",
        "Daar deed ik onder andere {tasks}.",
        "Tot mijn werk hoorden {tasks}.",
    ),
    "kandidaat": (
        "Taken: {tasks}.",
        "Kandidaat was verantwoordelijk voor {tasks}.",
        "Werkzaamheden waren onder meer {tasks}.",
        "Tot de taken behoorden {tasks}.",
    ),
}
ACHIEVEMENT_LINES: dict[str, tuple[str, ...]] = {
    "ik": (
        "Na een half jaar kreeg ik een contract voor onbepaalde tijd.",
        "Ik heb daar ook nieuwe collega's ingewerkt.",
        "Mijn leidinggevende was tevreden over mijn tempo en nauwkeurigheid.",
        "Ik heb daar een interne training over veilig werken gevolgd.",
        "Ik viel regelmatig in voor collega's op andere afdelingen.",
        "Ik werkte daar zowel in de dagdienst als in de avonddienst.",
    ),
    "kandidaat": (
        "Na een half jaar kreeg kandidaat een contract voor onbepaalde tijd.",
        "Kandidaat heeft daar ook nieuwe collega's ingewerkt.",
        "Volgens de referentie was de werkgever tevreden over tempo en nauwkeurigheid.",
        "Kandidaat heeft daar een interne training over veilig werken gevolgd.",
        "Kandidaat viel regelmatig in voor collega's op andere afdelingen.",
        "Kandidaat werkte daar zowel in de dagdienst als in de avonddienst.",
    ),
}
LEAVING_LINES: dict[str, tuple[str, ...]] = {
    "ik": (
        "Het contract werd niet verlengd door een reorganisatie.",
        "Het bedrijf ging failliet, waarna ik me heb ingeschreven bij het UWV.",
        "Na afloop van het uitzendcontract was er geen vaste plek voor mij.",
        "Ik ben daar gestopt omdat de reistijd te lang werd.",
    ),
    "kandidaat": (
        "Het contract werd niet verlengd door een reorganisatie.",
        "Na het faillissement van de werkgever heeft kandidaat zich ingeschreven bij het UWV.",
        "Na afloop van het uitzendcontract was er geen vaste plek.",
        "Kandidaat is daar gestopt vanwege de lange reistijd.",
    ),
}
PROFILE_LINES: dict[str, tuple[str, ...]] = {
    "ik": (
        "Ik ben een harde werker die graag de handen uit de mouwen steekt.",
        "Ik ben betrouwbaar, altijd op tijd en ik werk graag in een team.",
        "Oud-collega's noemen mij rustig, behulpzaam en nauwkeurig.",
        "Ik heb ervaring in {domain} en wil mij daarin verder ontwikkelen.",
        "Na een periode zonder werk wil ik graag weer aan de slag, het liefst in een vaste baan.",
        "Ik leer snel en sta open voor een opleiding of certificaat via de werkgever.",
        "Ik zoek een werkgever waar ik lang kan blijven en waar begeleiding mogelijk is.",
    ),
    "kandidaat": (
        "Kandidaat is een harde werker die graag de handen uit de mouwen steekt.",
        "Kandidaat is betrouwbaar, altijd op tijd en werkt graag in een team.",
        "Oud-collega's omschrijven kandidaat als rustig, behulpzaam en nauwkeurig.",
        "Kandidaat heeft ervaring in {domain} en wil zich daarin verder ontwikkelen.",
        "Na een periode zonder werk wil kandidaat graag weer aan de slag, het liefst in een "
        "vaste baan.",
        "Kandidaat leert snel en staat open voor een opleiding of certificaat via de werkgever.",
        "Kandidaat zoekt een werkgever waar begeleiding op de werkvloer mogelijk is.",
    ),
}
VOLUNTEER_LINES: dict[str, tuple[str, ...]] = {
    "ik": (
        "Sinds {year} help ik één ochtend per week bij de voedselbank met het uitdelen van "
        "pakketten.",
        "Bij de sportvereniging in mijn wijk sta ik op zaterdag achter de bar en help ik bij "
        "toernooien.",
        "In de buurtkamer zet ik koffie en maak ik een praatje met bewoners; dat doe ik sinds "
        "{year}.",
        "Via het taalcafé oefen ik elke week Nederlands met andere nieuwkomers en help ik "
        "mensen met formulieren.",
    ),
    "kandidaat": (
        "Sinds {year} helpt kandidaat één ochtend per week bij de voedselbank met het "
        "uitdelen van pakketten.",
        "Kandidaat staat op zaterdag achter de bar bij een sportvereniging en helpt bij "
        "toernooien.",
        "Kandidaat zet sinds {year} koffie in de buurtkamer en is daar een vast aanspreekpunt "
        "voor bewoners.",
        "Kandidaat oefent elke week Nederlands in het taalcafé en helpt anderen met formulieren.",
    ),
}
SWITCH_LINES: dict[str, tuple[str, ...]] = {
    "ik": (
        "Ik wil graag overstappen naar {domain} en sta open voor een opleiding of een "
        "werkervaringsplaats.",
        "Mijn wens is een overstap naar {domain}; daar wil ik graag voor leren.",
    ),
    "kandidaat": (
        "Kandidaat wil overstappen naar {domain} en staat open voor een opleiding of "
        "werkervaringsplaats.",
        "Kandidaat wil graag een overstap maken naar {domain} en daarvoor een opleiding volgen.",
    ),
}
CERT_LINES: dict[str, tuple[str, ...]] = {
    "ik": ("Ik heb de volgende certificaten en diploma's: {certs}.", "Certificaten: {certs}."),
    "kandidaat": ("Kandidaat heeft de volgende certificaten: {certs}.", "In bezit van: {certs}."),
}
EDUCATION_LINES: dict[str, str] = {"ik": "Ik heb {edu}.", "kandidaat": "Kandidaat heeft {edu}."}
LANGUAGE_LINES: dict[str, str] = {"ik": "Ik spreek {langs}.", "kandidaat": "Talen: {langs}."}
LICENCE_LINES: dict[tuple[str, bool], tuple[str, ...]] = {
    ("ik", True): ("Ik heb rijbewijs B en een eigen auto.", "Ik heb rijbewijs B."),
    ("ik", False): (
        "Ik heb geen rijbewijs, maar ik reis makkelijk met de fiets of het openbaar vervoer.",
        "Ik heb geen rijbewijs.",
    ),
    ("kandidaat", True): ("Kandidaat heeft rijbewijs B.", "Rijbewijs B en eigen vervoer."),
    ("kandidaat", False): (
        "Geen rijbewijs; reist met fiets of openbaar vervoer.",
        "Kandidaat heeft geen rijbewijs.",
    ),
}
HOURS_LINES: dict[str, tuple[str, ...]] = {
    "ik": ("Ik kan {hours} uur per week werken.", "Ik zoek een baan van {hours} uur per week."),
    "kandidaat": (
        "Kandidaat is beschikbaar voor {hours} uur per week.",
        "Gewenste omvang: {hours} uur per week.",
    ),
}
AVAILABLE_LINES: dict[str, str] = {
    "ik": "Ik ben beschikbaar vanaf {date}.",
    "kandidaat": "Beschikbaar vanaf {date}.",
}
OPENING_LINES: dict[str, tuple[str, ...]] = {
    "ik": (
        "Ik ben op zoek naar werk als {occupation}.",
        "Ik zoek een baan als {occupation}, het liefst dicht bij huis.",
        "Graag wil ik weer aan het werk als {occupation}.",
    ),
    "kandidaat": (
        "Kandidaat zoekt werk als {occupation}.",
        "Kandidaat is op zoek naar een baan als {occupation} in de regio.",
        "Zoekt werk als {occupation}.",
    ),
}

# Vacancy texts speak to the reader ("je").
VACANCY_TASK_LINES: tuple[str, ...] = (
    "Je bent verantwoordelijk voor {task}.",
    "Ook {task} hoort bij je werk.",
    "Verder help je mee met {task}.",
    "Daarnaast zorg je voor {task}.",
)
VACANCY_CERT_LINES: tuple[str, ...] = (
    "Gewenst: {certs} (of je bent bereid dit te halen).",
    "Een pré: {certs}.",
    "Vereist: {certs}.",
)
VACANCY_SOFT_LINES: tuple[str, ...] = (
    "Je bent betrouwbaar en altijd op tijd.",
    "Je werkt graag samen in een team.",
    "Je bent fysiek fit en houdt van aanpakken.",
    "Je bent klantvriendelijk en flexibel.",
    "Je werkt nauwkeurig en veilig.",
)
VACANCY_OFFERS: tuple[str, ...] = (
    "Een contract voor een jaar met uitzicht op een vast dienstverband.",
    "Reiskostenvergoeding en een goede inwerkperiode met een vaste buddy.",
    "Een werkplek dichtbij huis, goed bereikbaar met openbaar vervoer.",
    "De mogelijkheid om op onze kosten een certificaat of diploma te halen.",
    "Een prettige werksfeer in een team met collega's uit alle windstreken.",
    "Vaste werktijden, zodat je werk en privé goed kunt combineren.",
)
KIND_OFFERS: dict[str, str] = {
    "regular": "",
    "work_experience": "Een werkervaringsplaats van zes maanden met begeleiding door een "
    "jobcoach, met behoud van uitkering.",
    "volunteer": "Een vrijwilligersvergoeding, een gezellig team en een goede begeleiding.",
    "learn_work": "Een BBL-opleiding: vier dagen werken en één dag naar school, betaald door ons.",
}
VACANCY_CLOSINGS: tuple[str, ...] = (
    "Kandidaten met een uitkering via de gemeente of het UWV zijn van harte welkom.",
    "Solliciteren kan via je werkcoach of via het werkgeversservicepunt in de regio.",
    "Een proefplaatsing met behoud van uitkering is mogelijk.",
    "Wij werken samen met de gemeente en staan open voor mensen die opnieuw beginnen.",
)

VAC_0001: dict[str, Any] = {
    "external_id": "vac-0001",
    "employer_id": "transport-rijnmond-bv",
    "title": "Heftruckchauffeur (m/v) 32 uur",
    "description": (
        "Voor ons distributiecentrum in Ridderkerk zoeken wij een heftruckchauffeur voor 32 uur "
        "per week.\n\n"
        "Wat ga je doen?\n"
        "Je rijdt op de heftruck en de reachtruck in ons magazijn. Je laadt en lost "
        "vrachtwagens, zet pallets in en uit de stellingen en houdt met de scanner bij waar "
        "alles staat. Je controleert binnenkomende goederen op aantallen en schade en werkt "
        "nauw samen met de orderpickers en de planning.\n\n"
        "Wat vragen wij?\n"
        "Je hebt een geldig heftruckcertificaat; een reachtruckcertificaat is een pré. Je hebt "
        "ervaring met laden en lossen in een magazijn of distributiecentrum. Je spreekt en "
        "begrijpt Nederlands op basisniveau, je werkt veilig en nauwkeurig en je bent "
        "beschikbaar in de dagdienst.\n\n"
        "Wat bieden wij?\n"
        "Een contract voor 32 uur per week met uitzicht op een vast dienstverband, salaris "
        "volgens de cao Beroepsgoederenvervoer, reiskostenvergoeding en een goede "
        "inwerkperiode. Kandidaten via de gemeente of het UWV zijn van harte welkom."
    ),
    "occupation": "heftruckchauffeur",
    "skills": ["heftruck rijden", "reachtruck rijden", "laden en lossen", "scanner"],
    "hours_per_week": 32,
    "postcode": "2983LB",
    "requires_driving_licence": False,
    "languages": ["nl"],
    "education_level": "vmbo",
    "kind": "regular",
    "status": "open",
    "closes_on": "2027-01-31",
}

# Rijnmond quotas guarantee visible ranking differences in the demo: forklift and warehouse
# profiles next to care and catering profiles near the vac-0001 warehouse in Ridderkerk.
RIJNMOND_QUOTAS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("heftruckchauffeur", "magazijnmedewerker"), 14),
    (("verzorgende-ig", "helpende-zorg-en-welzijn", "huishoudelijke-hulp"), 7),
    (("kok", "keukenhulp", "medewerker-bediening"), 7),
)

LONG_CV_SHARE = 0.15
SHORT_CV_WORDS = (60, 250)
LONG_CV_WORDS = (350, 700)
CAREER_SWITCH_SHARE = 0.06
_UNISSUED_LETTERS = ("SA", "SD", "SS")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# ------------------------------------------------------------------------------ small helpers


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _words(text: str) -> int:
    return len(text.split())


def _join(items: Sequence[str]) -> str:
    """Dutch enumeration: "a", "a en b", "a, b en c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " en " + items[-1]


def _weighted(rng: random.Random, options: Sequence[tuple[T, int]]) -> T:
    values = [value for value, _ in options]
    weights = [weight for _, weight in options]
    return rng.choices(values, weights=weights, k=1)[0]


def _unique(items: Sequence[str]) -> list[str]:
    """Drop case-insensitive duplicates, keeping the first spelling and the order."""
    seen: list[str] = []
    out: list[str] = []
    for item in items:
        if item.lower() not in seen:
            seen.append(item.lower())
            out.append(item)
    return out


def _postcode(rng: random.Random, pc4: str) -> str:
    while True:
        letters = rng.choice(_LETTERS) + rng.choice(_LETTERS)
        if letters not in _UNISSUED_LETTERS:
            return pc4 + letters


def _date_2026(rng: random.Random) -> str:
    return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _date_nl(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{int(day)} {MONTHS[int(month) - 1]} {year}"


# ------------------------------------------------------------------------------ focus occupations


def focus_occupations() -> list[dict[str, Any]]:
    """The ~20 focus occupations (focusberoepen) across the ten sectors, with Dutch synonyms."""
    return [{"slug": o.slug, "name": o.name, "synonyms": list(o.synonyms)} for o in OCCUPATIONS]


# ------------------------------------------------------------------------------ candidates


@dataclass(frozen=True)
class _Job:
    occupation: Occupation
    start: int
    end: int


@dataclass(frozen=True)
class _Profile:
    """What a CV is written from: one candidate's facts and the voice of the text."""

    voice: str
    occupation: Occupation
    target: Occupation  # differs from occupation for career switchers
    region: Region
    certificates: tuple[str, ...]
    skills: tuple[str, ...]
    languages: tuple[str, ...]
    education: str | None
    licence: bool
    hours: tuple[int, int]
    available_from: str | None
    desired_first: str


def _candidate_slots(rng: random.Random, n: int) -> list[tuple[Region, Occupation | None]]:
    """(region, forced occupation) per candidate: the Rijnmond quotas first, then random."""
    slots: list[tuple[Region, Occupation | None]] = []
    for slugs, count in RIJNMOND_QUOTAS:
        slots.extend((REGIONS["rijnmond"], _BY_SLUG[rng.choice(slugs)]) for _ in range(count))
    slots = slots[:n]
    regions = [(r, r.weight) for r in REGIONS.values()]
    slots.extend((_weighted(rng, regions), None) for _ in range(n - len(slots)))
    rng.shuffle(slots)
    return slots


def _random_occupation(rng: random.Random) -> Occupation:
    sector = _weighted(rng, [(s.key, s.weight) for s in SECTORS.values()])
    return rng.choice(_BY_SECTOR[sector])


def _job_history(rng: random.Random, occupation: Occupation, count: int) -> list[_Job]:
    """Jobs from the most recent backwards; older jobs may be in other occupations."""
    jobs: list[_Job] = []
    end = rng.choice((2022, 2023, 2024, 2025, 2025, 2026))
    for i in range(count):
        length = rng.randint(1, 9) if count <= 2 else rng.randint(1, 5)
        start = max(1990, end - length)
        if start >= end:
            break
        occ = occupation
        if i > 0:
            pick = rng.random()
            if pick < 0.25:
                occ = rng.choice(_BY_SECTOR[occupation.sector])
            elif pick < 0.4:
                occ = _random_occupation(rng)
        jobs.append(_Job(occ, start, end))
        end = start - rng.choice((0, 0, 0, 1, 2))
    return jobs


def _job_place(rng: random.Random, job: _Job, region: Region) -> str:
    workplace = rng.choice(SECTORS[job.occupation.sector].workplaces)
    where = rng.choice(("in de regio", f"in {rng.choice(region.places)}", "", "in de regio"))
    return f"{workplace} {where}".strip()


def _job_text(rng: random.Random, job: _Job, p: _Profile, n_tasks: int, style: str) -> str:
    role = rng.choice(job.occupation.roles)
    place = _job_place(rng, job, p.region)
    tasks = _join(rng.sample(job.occupation.tasks, k=min(n_tasks, len(job.occupation.tasks))))
    if style == "kopjes":
        head = f"{job.start}-{job.end}: {_upper_first(role)}, {place}."
        return f"{head} Taken: {tasks}."
    years = job.end - job.start
    line = rng.choice(JOB_LINES[p.voice]).format(
        start=job.start,
        end=job.end,
        years=NUMBER_WORDS[years] if years < len(NUMBER_WORDS) else str(years),
        role=role,
        place=place,
    )
    return f"{line} {rng.choice(TASK_LINES[p.voice]).format(tasks=tasks)}"


def _language_text(p: _Profile, rng: random.Random) -> str:
    parts = [f"{LANGUAGE_NAMES[p.languages[0]]} (moedertaal)"]
    parts += [f"{LANGUAGE_NAMES[c]} ({rng.choice(LANGUAGE_LEVELS)})" for c in p.languages[1:]]
    return _join(parts)


def _hours_text(p: _Profile) -> str:
    lo, hi = p.hours
    return str(hi) if lo == hi else f"{lo} tot {hi}"


def _closing_lines(rng: random.Random, p: _Profile) -> list[str]:
    """Certificates, education, languages, licence, hours and availability, in the voice."""
    v = p.voice
    lines: list[str] = []
    if p.certificates:
        lines.append(rng.choice(CERT_LINES[v]).format(certs=_join(p.certificates)))
    if p.education is not None and rng.random() < 0.7:
        lines.append(EDUCATION_LINES[v].format(edu=EDUCATION_PHRASES[p.education]))
    lines.append(LANGUAGE_LINES[v].format(langs=_language_text(p, rng)))
    lines.append(rng.choice(LICENCE_LINES[v, p.licence]))
    lines.append(rng.choice(HOURS_LINES[v]).format(hours=_hours_text(p)))
    if p.available_from is not None:
        lines.append(AVAILABLE_LINES[v].format(date=_date_nl(p.available_from)))
    return lines


def _switch_line(rng: random.Random, p: _Profile) -> list[str]:
    if p.target is p.occupation:
        return []
    domain = SECTORS[p.target.sector].domain
    return [rng.choice(SWITCH_LINES[p.voice]).format(domain=domain)]


def _short_cv(rng: random.Random, p: _Profile) -> str:
    """A prose or headed CV of 60-250 words with one or two jobs."""
    style = rng.choice(("proza", "proza", "kopjes"))
    jobs = _job_history(rng, p.occupation, rng.choice((1, 1, 2)))
    opening = rng.choice(OPENING_LINES[p.voice]).format(occupation=_lower_first(p.desired_first))
    body = [_job_text(rng, job, p, rng.randint(2, 3), style) for job in jobs]
    extra = _switch_line(rng, p) + _closing_lines(rng, p)
    domain = SECTORS[p.occupation.sector].domain
    fillers = [line.format(domain=domain) for line in rng.sample(PROFILE_LINES[p.voice], k=4)]

    def compose(used: int) -> str:
        if style == "kopjes":
            return "\n".join(["Werkervaring", *body, "", "Overig", *extra, *fillers[:used]])
        return " ".join([opening, *body, *extra, *fillers[:used]])

    used = 0
    text = compose(used)
    while _words(text) < SHORT_CV_WORDS[0] and used < len(fillers):
        used += 1
        text = compose(used)
    while _words(text) > SHORT_CV_WORDS[1] and len(body) > 1:
        body.pop()
        text = compose(used)
    return text


def _long_cv(rng: random.Random, p: _Profile) -> str:
    """A headed CV of 350-700 words: profile, several jobs, courses, skills, hobbies."""
    v = p.voice
    domain = SECTORS[p.occupation.sector].domain
    profile = [line.format(domain=domain) for line in rng.sample(PROFILE_LINES[v], k=4)]
    profile += _switch_line(rng, p)
    jobs = _job_history(rng, p.occupation, 8)
    blocks: list[str] = []
    for job in jobs:
        block = [_job_text(rng, job, p, rng.randint(3, 4), "proza")]
        block += rng.sample(ACHIEVEMENT_LINES[v], k=rng.randint(1, 2))
        if rng.random() < 0.5:
            block.append(rng.choice(LEAVING_LINES[v]))
        blocks.append(" ".join(block))
    first_year = jobs[-1].start if jobs else 2010
    courses = [f"- {rng.randint(first_year, 2025)}: {c}" for c in p.certificates]
    courses += [f"- {rng.randint(2015, 2025)}: {c}" for c in rng.sample(GENERAL_COURSES, k=2)]
    if p.education is not None:
        courses.insert(0, f"- {max(1990, first_year - 1)}: {EDUCATION_NAMES[p.education]}")
    volunteering = [line.format(year=rng.randint(2018, 2025)) for line in VOLUNTEER_LINES[v]]
    rng.shuffle(volunteering)
    other = [
        rng.choice(LICENCE_LINES[v, p.licence]),
        rng.choice(HOURS_LINES[v]).format(hours=_hours_text(p)),
    ]
    if p.available_from is not None:
        other.append(AVAILABLE_LINES[v].format(date=_date_nl(p.available_from)))
    head = ["Profiel\n" + " ".join(profile)]
    tail = [
        "Opleidingen en cursussen\n" + "\n".join(courses),
        "Vaardigheden\n" + _upper_first(", ".join(p.skills)) + ".",
        "Talen\n" + _upper_first(_language_text(p, rng)) + ".",
        "Hobby's\n" + _upper_first(_join(rng.sample(HOBBIES, k=rng.randint(2, 3)))) + ".",
        "Overig\n" + " ".join(other),
    ]

    def compose(n_jobs: int, n_volunteer: int) -> str:
        sections = [*head, "Werkervaring\n" + "\n\n".join(blocks[:n_jobs])]
        if n_volunteer:
            sections.append("Vrijwilligerswerk\n" + " ".join(volunteering[:n_volunteer]))
        return "\n\n".join([*sections, *tail])

    # A random target spreads the long CVs over the whole 350-700 word range.
    target = rng.randint(LONG_CV_WORDS[0], LONG_CV_WORDS[1] - 100)
    n_jobs, n_volunteer = min(2, len(blocks)), int(rng.random() < 0.4)
    while _words(compose(n_jobs, n_volunteer)) < target and n_jobs < len(blocks):
        n_jobs += 1
    while _words(compose(n_jobs, n_volunteer)) < LONG_CV_WORDS[0]:
        if n_volunteer == len(volunteering):
            break
        n_volunteer += 1
    while _words(compose(n_jobs, n_volunteer)) > LONG_CV_WORDS[1] and n_jobs > 1:
        n_jobs -= 1
    return compose(n_jobs, n_volunteer)


def _client_group(rng: random.Random, step: int) -> str:
    if step >= 5:
        return _weighted(rng, [("matchen", 70), ("groeien", 30)])
    if step == 4:
        return _weighted(rng, [("matchen", 25), ("groeien", 60), ("faciliteren", 15)])
    if step == 3:
        return _weighted(rng, [("groeien", 45), ("faciliteren", 45), ("zorgen", 10)])
    return _weighted(rng, [("faciliteren", 40), ("zorgen", 60)])


def _benefit_type(rng: random.Random, group: str) -> str:
    if group in ("faciliteren", "zorgen"):
        return _weighted(rng, [("participatiewet", 75), ("wajong", 15), ("wia", 5), ("none", 5)])
    return _weighted(
        rng, [("ww", 35), ("participatiewet", 40), ("wajong", 8), ("wia", 7), ("none", 10)]
    )


def _hours_range(rng: random.Random, group: str) -> tuple[int, int]:
    maxima = (16, 20, 24, 28, 32, 36, 38, 40)
    if group in ("matchen", "groeien"):
        weights = (3, 6, 8, 6, 12, 10, 5, 12)
    else:  # clients without a work obligation look for few hours
        weights = (8, 8, 5, 2, 1, 1, 0, 0)
    hi = rng.choices(maxima, weights=weights, k=1)[0]
    lo = rng.choice([h for h in range(8, hi + 1, 4)] + [hi])
    return lo, hi


def _desired(rng: random.Random, target: Occupation) -> list[str]:
    """1-3 desired occupations in real-world spellings, around the target occupation."""
    chosen = [rng.choice(target.desired)]
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        if rng.random() < 0.5:
            chosen.append(rng.choice(target.desired))
        else:
            chosen.append(rng.choice(rng.choice(_BY_SECTOR[target.sector]).desired))
    return _unique(chosen)[:3]


def _candidate_skills(rng: random.Random, occ: Occupation, certs: Sequence[str]) -> list[str]:
    skills = rng.sample(occ.skills, k=rng.randint(2, min(5, len(occ.skills))))
    skills += rng.sample(SOFT_SKILLS, k=rng.randint(0, 2))
    skills += [c for c in certs if c in ("HACCP", "VCA basis", "BHV") and rng.random() < 0.5]
    return _unique(skills)[:8]


def _candidate(
    rng: random.Random, index: int, region: Region, forced: Occupation | None, long_cv: bool
) -> dict[str, Any]:
    occupation = forced or _random_occupation(rng)
    target = occupation
    if forced is None and rng.random() < CAREER_SWITCH_SHARE:
        others = [o for o in OCCUPATIONS if o.sector != occupation.sector]
        target = rng.choice(others)
    step = _weighted(rng, [(1, 2), (2, 4), (3, 8), (4, 18), (5, 30), (6, 38)])
    group = _client_group(rng, step)
    certs = tuple(c for c in occupation.certificates if rng.random() < 0.55)
    licence = occupation.licence >= 1.0 or rng.random() < occupation.licence
    education = None if rng.random() < 0.15 else rng.choice(occupation.education)
    languages = _weighted(rng, LANGUAGE_PROFILES)
    hours = _hours_range(rng, group)
    available = None if rng.random() < 0.2 else _date_2026(rng)
    desired = _desired(rng, target)
    skills = _candidate_skills(rng, occupation, certs)
    profile = _Profile(
        voice=rng.choice(VOICES),
        occupation=occupation,
        target=target,
        region=region,
        certificates=certs,
        skills=tuple(skills),
        languages=languages,
        education=education,
        licence=licence,
        hours=hours,
        available_from=available,
        desired_first=desired[0],
    )
    cv_text = _long_cv(rng, profile) if long_cv else _short_cv(rng, profile)
    base_chance = {1: 0.1, 2: 0.2, 3: 0.33, 4: 0.48, 5: 0.6, 6: 0.72}[step]
    chance = min(0.99, max(0.01, rng.gauss(base_chance, 0.12)))
    return {
        "external_id": f"kand-{index:04d}",
        "cv_text": cv_text,
        "desired_occupations": desired,
        "skills": skills,
        "languages": list(languages),
        "participation_ladder_step": step,
        "client_group": group,
        "benefit_type": _benefit_type(rng, group),
        "work_chance_score": round(chance, 2),
        "hours_per_week_min": hours[0],
        "hours_per_week_max": hours[1],
        "postcode": _postcode(rng, rng.choice(region.pc4)),
        "max_travel_km": rng.choice((5, 10, 10, 15, 15, 20, 20, 25, 30, 30, 40, 50, 60)),
        "driving_licence": licence,
        "education_level": education,
        "available_from": available,
        "caseworker_id": rng.choice(region.caseworkers),
        "active": rng.random() < 0.95,
    }


def demo_candidates(seed: int = DEMO_SEED, n: int = 300) -> list[dict[str, Any]]:
    """``n`` made-up candidates ("kand-0001" ...) with Dutch CVs; the same seed, the same list.

    About 15 % have long CVs (350-700 words), the rest 60-250 words. At least 28 (if n allows) are
    Rijnmond forklift/warehouse and care/catering profiles (see RIJNMOND_QUOTAS), shuffled
    among the others.
    """
    rng = random.Random(seed)
    slots = _candidate_slots(rng, n)
    long_ids = set(rng.sample(range(n), k=round(n * LONG_CV_SHARE)))
    return [
        _candidate(rng, i + 1, region, forced, long_cv=i in long_ids)
        for i, (region, forced) in enumerate(slots)
    ]


# ------------------------------------------------------------------------------ vacancies


def _vacancy_counts(rng: random.Random, n: int) -> list[int]:
    """Vacancies per employer: at least 2 and at most 10 each while n allows it."""
    counts = [min(2, n // len(EMPLOYERS))] * len(EMPLOYERS)
    counts[0] = max(counts[0], 1)  # vac-0001's employer always posts
    while sum(counts) < n:
        open_ = [i for i, c in enumerate(counts) if c < 10] or list(range(len(counts)))
        i = rng.choices(open_, weights=[EMPLOYERS[j].weight for j in open_], k=1)[0]
        counts[i] += 1
    return counts


def _title(rng: random.Random, occ: Occupation, kind: str, hours: int) -> str:
    base = rng.choice(occ.titles)
    low = _lower_first(base)
    if kind == "work_experience":
        return rng.choice((f"Werkervaringsplaats {low}", f"Werkervaringsplek {low} ({hours} uur)"))
    if kind == "volunteer":
        return rng.choice((f"Vrijwilliger {low}", f"Vrijwilliger {low} ({hours} uur)"))
    if kind == "learn_work":
        if base.startswith("Leerling"):
            return f"{base} (BBL)"
        return rng.choice((f"Leerwerkplek {low} (BBL)", f"BBL {low} niveau 2", f"Leerling {low}"))
    extra = rng.choice(occ.title_extras)
    lo = max(8, hours - rng.choice((4, 8)))
    senior = rng.choice(("Ervaren", "Junior", "Allround"))
    patterns = [
        f"{base} (m/v) {hours} uur",
        f"{base} (m/v/x)",
        f"{base} {lo}-{hours} uur",
        f"{base} {extra}",
        f"{base} ({extra})",
        f"{base} | {extra} | {hours} uur",
        f"Wij zoeken: {low} (m/v)",
        base,
    ]
    if hours >= 36:
        patterns += [f"{base} - fulltime", f"{base} fulltime (m/v/x)"]
    elif hours <= 28:
        patterns.append(f"{base} parttime {hours} uur")
    if base.split()[0] not in ("Ervaren", "Junior", "Allround", "Eerste", "Leerling"):
        patterns.append(f"{senior} {low} {hours} uur")
    return rng.choice(patterns)


def _vacancy_description(
    rng: random.Random,
    occ: Occupation,
    place: str,
    kind: str,
    hours: int,
    licence: bool,
    languages: Sequence[str],
    education: str | None,
) -> str:
    sector = SECTORS[occ.sector]
    tasks = rng.sample(occ.tasks, k=min(3, len(occ.tasks)))
    lines = rng.sample(VACANCY_TASK_LINES, k=len(tasks))
    doing = " ".join(line.format(task=task) for line, task in zip(lines, tasks, strict=True))
    ask: list[str] = []
    certs = rng.sample(occ.certificates, k=rng.randint(0, min(2, len(occ.certificates))))
    if certs:
        ask.append(rng.choice(VACANCY_CERT_LINES).format(certs=_join(certs)))
    if licence:
        ask.append("Je hebt rijbewijs C." if occ.licence >= 1.0 else "Je hebt rijbewijs B.")
    if "nl" in languages:
        ask.append(
            rng.choice(
                (
                    "Je spreekt en begrijpt Nederlands op minimaal A2-niveau.",
                    "Je spreekt genoeg Nederlands om veiligheidsinstructies te begrijpen.",
                )
            )
        )
    others = [LANGUAGE_NAMES[code] for code in languages if code != "nl"]
    if others and "nl" in languages:
        ask.append(f"Je spreekt ook {_join(others)}.")
    elif others:
        ask.append(f"Je spreekt {_join(others)}; Nederlands is niet nodig.")
    ask.append(EDUCATION_REQUIREMENTS[education])
    ask += rng.sample(VACANCY_SOFT_LINES, k=2)
    offers = [f"Een baan van {hours} uur per week.", sector.pay]
    offers += rng.sample(VACANCY_OFFERS, k=2)
    if KIND_OFFERS[kind]:
        offers.insert(0, KIND_OFFERS[kind])
    intro = rng.choice(sector.intros).format(place=place)
    return "\n\n".join(
        [
            intro,
            "Wat ga je doen?\n" + doing,
            "Wat vragen wij?\n" + " ".join(ask),
            "Wat bieden wij?\n" + " ".join(offers) + " " + rng.choice(VACANCY_CLOSINGS),
        ]
    )


def _vacancy(rng: random.Random, employer: Employer) -> dict[str, Any]:
    sector = rng.choice(employer.sectors)
    occ = rng.choice(_BY_SECTOR[sector])
    postcode, place = rng.choice(employer.sites)
    kind = _weighted(
        rng, [("regular", 75), ("work_experience", 11), ("learn_work", 7), ("volunteer", 7)]
    )
    if kind == "volunteer" and sector not in ("zorg", "horeca", "groen", "retail"):
        kind = "work_experience"  # nobody volunteers as a forklift driver
    if kind == "volunteer":
        hours = rng.choice((8, 12, 16))
    elif kind == "learn_work":
        hours = rng.choice((32, 36, 38))
    else:
        hours = _weighted(
            rng, [(16, 2), (20, 4), (24, 6), (28, 4), (32, 10), (36, 6), (38, 4), (40, 8)]
        )
    licence = occ.licence >= 1.0 or rng.random() < occ.licence * 0.5
    languages = _weighted(rng, [(("nl",), 85), (("nl", "en"), 10), (("nl", "de"), 2)])
    if sector in ("logistiek", "productie") and rng.random() < 0.05:
        languages = ("en",)  # international teams in warehouses and factories
    education = None if rng.random() < 0.25 else rng.choice(occ.education)
    closes_on = None
    if rng.random() < 0.8:
        month = rng.choice((12, 1, 2, 3, 4, 5, 6, 7, 8, 9))
        year = 2026 if month == 12 else 2027
        closes_on = f"{year}-{month:02d}-{rng.randint(1, 28):02d}"
    return {
        "external_id": "",
        "employer_id": employer.slug,
        "title": _title(rng, occ, kind, hours),
        "description": _vacancy_description(
            rng, occ, place, kind, hours, licence, languages, education
        ),
        "occupation": None if rng.random() < 0.1 else occ.label,
        "skills": rng.sample(occ.skills, k=rng.randint(2, min(6, len(occ.skills)))),
        "hours_per_week": hours,
        "postcode": postcode,
        "requires_driving_licence": licence,
        "languages": list(languages),
        "education_level": education,
        "kind": kind,
        "status": _weighted(rng, [("open", 85), ("closed", 8), ("filled", 7)]),
        "closes_on": closes_on,
    }


def demo_vacancies(seed: int = DEMO_SEED, n: int = 150) -> list[dict[str, Any]]:
    """``n`` made-up vacancies ("vac-0001" ...) of ~25 employers; the same seed, the same list.

    "vac-0001" is always the fixed forklift vacancy of "transport-rijnmond-bv" in Ridderkerk.
    """
    if n <= 0:
        return []
    rng = random.Random(seed)
    counts = _vacancy_counts(rng, n)
    rest: list[dict[str, Any]] = []
    for employer, count in zip(EMPLOYERS, counts, strict=True):
        own = count - 1 if employer is EMPLOYERS[0] else count
        rest.extend(_vacancy(rng, employer) for _ in range(own))
    rng.shuffle(rest)
    vacancies = [dict(VAC_0001, skills=list(VAC_0001["skills"]), languages=["nl"]), *rest]
    for i, vacancy in enumerate(vacancies, start=1):
        vacancy["external_id"] = f"vac-{i:04d}"
    return vacancies


def demo_texts() -> list[str]:
    """The texts ``werkmatch demo`` embeds, in load order: each demo candidate's and vacancy's
    embedding text as the import computes it (validated like an imported line)."""
    from service.batch.importer import parse_line
    from service.store import crud

    texts = []
    for kind, rows in ((crud.CANDIDATES, demo_candidates()), (crud.VACANCIES, demo_vacancies())):
        for row in rows:
            _, item = parse_line(kind, json.dumps(row))
            texts.append(kind.embed_text(item))
    return texts
