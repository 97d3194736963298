"""The eight KIC resources as data: their schema, local links, filters and how they render.

One :class:`Kind` per collection drives the generic Falcon resources; what differs between
resources beyond this table (rules, remote checks) lives in ``preparation`` and ``service``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .spec import component_schema, resolve
from .validation import ObjectChecker

#: The reference names an A-nummer pattern failure with its own code.
PATTERN_CODES = {"inpANummer": "a-nummer-incorrect-format"}


@dataclass(frozen=True)
class Filter:
    """A list filter: ``link`` filters take a local URL of ``target``, ``exact`` a string."""

    column: str
    mode: str  # "link" | "exact"
    target: str = ""
    validate_url: bool = True


@dataclass
class Kind:
    """Everything generic about one collection."""

    collection: str
    schema_name: str
    fields: tuple[str, ...]  # response keys after ``url``, in the reference's order
    links: dict[str, str] = field(default_factory=dict)  # field -> target collection
    filters: dict[str, Filter] | None = None  # None: no filters and unknown params ignored
    updatable: bool = False
    checker: ObjectChecker = field(init=False)

    def __post_init__(self) -> None:
        schema = component_schema(self.schema_name)
        self.checker = ObjectChecker(schema, PATTERN_CODES, links=frozenset(self.links))
        self.schema = schema


def defaults_for(schema: dict[str, Any]) -> dict[str, Any]:
    """The rendered shape of an object with nothing stored: '' strings, [] lists, null objects."""
    result: dict[str, Any] = {}
    for name, prop in resolve(schema).get("properties", {}).items():
        prop = resolve(prop)
        if prop.get("readOnly"):
            continue
        kind = prop.get("type", "object" if "properties" in prop else None)
        if prop.get("nullable") or kind not in ("string", "array"):
            result[name] = None
        else:
            result[name] = "" if kind == "string" else []
    return result


def _link_filter(column: str, target: str) -> Filter:
    return Filter(column, "link", target)


KINDS: dict[str, Kind] = {
    kind.collection: kind
    for kind in (
        Kind(
            "klanten",
            "Klant",
            (
                "voornaam",
                "achternaam",
                "adres",
                "telefoonnummer",
                "emailadres",
                "functie",
                "subject",
                "subjectType",
                "subjectIdentificatie",
            ),
            updatable=True,
        ),
        Kind(
            "contactmomenten",
            "ContactMoment",
            (
                "bronorganisatie",
                "klant",
                "interactiedatum",
                "kanaal",
                "voorkeurskanaal",
                "tekst",
                "onderwerpLinks",
                "initiatiefnemer",
                "medewerker",
                "medewerkerIdentificatie",
            ),
            links={"klant": "klanten"},
            updatable=True,
        ),
        Kind(
            "verzoeken",
            "Verzoek",
            (
                "identificatie",
                "bronorganisatie",
                "externeIdentificatie",
                "klant",
                "interactiedatum",
                "voorkeurskanaal",
                "tekst",
                "status",
            ),
            links={"klant": "klanten"},
            updatable=True,
        ),
        Kind(
            "objectcontactmomenten",
            "ObjectContactMoment",
            ("contactmoment", "object", "objectType"),
            links={"contactmoment": "contactmomenten"},
            filters={
                "object": Filter("object", "exact"),
                "contactmoment": _link_filter("contactmoment", "contactmomenten"),
            },
        ),
        Kind(
            "objectverzoeken",
            "ObjectVerzoek",
            ("verzoek", "object", "objectType"),
            links={"verzoek": "verzoeken"},
            filters={
                "object": Filter("object", "exact"),
                "verzoek": _link_filter("verzoek", "verzoeken"),
            },
        ),
        Kind(
            "verzoekinformatieobjecten",
            "VerzoekInformatieObject",
            ("informatieobject", "verzoek"),
            links={"verzoek": "verzoeken"},
            filters={
                "verzoek": _link_filter("verzoek", "verzoeken"),
                "informatieobject": Filter("informatieobject", "exact"),
            },
        ),
        Kind(
            "verzoekcontactmomenten",
            "VerzoekContactMoment",
            ("contactmoment", "verzoek"),
            links={"verzoek": "verzoeken", "contactmoment": "contactmomenten"},
            filters={
                "verzoek": _link_filter("verzoek", "verzoeken"),
                "contactmoment": _link_filter("contactmoment", "contactmomenten"),
            },
        ),
        Kind(
            "verzoekproducten",
            "VerzoekProduct",
            ("verzoek", "product", "productIdentificatie"),
            links={"verzoek": "verzoeken"},
            filters={
                "verzoek": _link_filter("verzoek", "verzoeken"),
                "product": Filter("product", "exact"),
                "productIdentificatie__code": Filter("productCode", "exact", validate_url=False),
            },
        ),
    )
}

Renderer = Callable[[dict[str, Any], str], dict[str, Any]]


def make_renderer(kind: Kind, defects: frozenset[str]) -> Renderer:
    """A function turning a stored row into its response body for a given API base URL."""
    fields = kind.fields
    links = kind.links
    collection = kind.collection
    drop_tekst = collection == "verzoeken" and "field-dropped" in defects
    join_links = collection == "contactmomenten" and "wrong-type" in defects
    is_klant = collection == "klanten"
    is_product = collection == "verzoekproducten"

    def render(row: dict[str, Any], base: str) -> dict[str, Any]:
        body: dict[str, Any] = {"url": f"{base}/{collection}/{row['uuid']}"}
        for name in fields:
            if name in links:
                target = row.get(name)
                body[name] = f"{base}/{links[name]}/{target}" if target else None
            elif is_product and name == "productIdentificatie":
                # An empty code is not a valid Product (minLength 1): leave the key out.
                if row.get("productCode"):
                    body[name] = {"code": row["productCode"]}
            elif is_klant and name == "subjectIdentificatie":
                if row.get("subjectType") is not None and row.get(name) is not None:
                    body[name] = row[name]
            elif name in row:
                # Absent keys are values the spec cannot represent (see preparation.spec_shaped).
                body[name] = row[name]
        if drop_tekst:
            body.pop("tekst", None)
        if join_links:
            body["onderwerpLinks"] = ",".join(body.get("onderwerpLinks") or [])
        return body

    return render
