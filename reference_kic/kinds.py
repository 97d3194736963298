"""The eight KIC resources as data: everything that differs between them, in one table.

One :class:`Kind` per collection drives the generic code: routes, list filters and rendering
(handlers, rendering), request preparation (preparation), uniqueness, remote checks and
kic-001 (service) and the database tables (storage). What openapi.yaml says is read from it:
the schema, the response fields and their order, the list filters, which fields are nullable
and whether the resource takes PUT/PATCH. :data:`KINDS` adds what the spec does not say:
local links, stored columns and indexes, uniqueness, the hooks of resource_hooks.py, and the
remote APIs a resource depends on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zgw.errors import InvalidParam

from .defects import Defects
from .resource_hooks import (
    PRODUCT_CODE,
    AssignHook,
    FieldRenderer,
    PrepareHook,
    RulesHook,
    assign_identificatie,
    contactmoment_rules,
    klant_rules,
    prepare_contactmoment,
    prepare_klant,
    prepare_verzoek,
    prepare_verzoekproduct,
    render_product_identificatie,
    render_subject_identificatie,
    verzoekproduct_rules,
)
from .rules import PATTERN_CODES, unique_problem
from .shapes import variant_properties
from .spec import component_schema, load_spec, resolve
from .validation import ObjectChecker
from .zaak_relations import ZaakRelation


@dataclass(frozen=True)
class Filter:
    """A list filter: ``link`` filters take a local URL of ``target``, ``exact`` a string."""

    column: str
    mode: str  # "link" | "exact"
    target: str = ""
    validate_url: bool = True


@dataclass(frozen=True)
class Unique:
    """No two rows may share their values in ``columns``.

    ``refusal`` is the problem a duplicate gets (default: ``unique`` on nonFieldErrors naming
    the columns); ``relaxable``: the ``uniqueness-not-enforced`` defect drops this check.
    """

    columns: tuple[str, ...]
    refusal: InvalidParam | None = None
    relaxable: bool = False

    def problem(self, note: str = "") -> InvalidParam:
        """What a duplicate gets; ``note`` is added to the default reason."""
        return self.refusal or unique_problem(self.columns, note)

    def enforced(self, defects: Defects) -> bool:
        """Whether this KIC checks it (a deliberate defect may drop it)."""
        return not (self.relaxable and defects.uniqueness_not_enforced)


@dataclass(eq=False)
class Kind:
    """Everything about one collection; the fields after ``drc_mirrored`` come from the spec."""

    collection: str
    schema_name: str
    links: dict[str, str] = field(default_factory=dict)  # field -> target collection
    #: Data keys stored in columns of their own too (to filter, join or check uniqueness on).
    columns: tuple[str, ...] = ()
    indexes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> columns
    unique: Unique | None = None
    prepare: PrepareHook | None = None
    rules: RulesHook | None = None
    assign: AssignHook | None = None
    renderers: dict[str, FieldRenderer] = field(default_factory=dict)  # field -> renderer
    filter_columns: dict[str, str] = field(default_factory=dict)  # query parameter -> column
    #: The Zaken API holds the canonical relation; this KIC records its half (passive side).
    zaak_relation: ZaakRelation | None = None
    #: kic-001: every row is mirrored in the DRC; only drc_sync creates and deletes them.
    drc_mirrored: bool = False

    schema: dict[str, Any] = field(init=False)
    fields: tuple[str, ...] = field(init=False)  # response keys after ``url``, in spec order
    nullable: frozenset[str] = field(init=False)
    #: None: the list takes no filters and ignores unknown query parameters.
    filters: dict[str, Filter] | None = field(init=False)
    updatable: bool = field(init=False)  # takes PUT and PATCH
    checker: ObjectChecker = field(init=False)
    #: discriminator value -> the properties its variant adds (a klant's subjectIdentificatie).
    variants: dict[str, dict[str, Any]] = field(init=False)
    variant_checkers: dict[tuple[str, str], ObjectChecker] = field(init=False)

    def __post_init__(self) -> None:
        self.schema = component_schema(self.schema_name)
        self.checker = ObjectChecker(self.schema, PATTERN_CODES, links=frozenset(self.links))
        properties = {name: resolve(prop) for name, prop in self.schema["properties"].items()}
        self.variants = variant_properties(self.schema)
        added = {name: prop for variant in self.variants.values() for name, prop in variant.items()}
        self.fields = tuple(
            name for name, prop in {**properties, **added}.items() if not prop.get("readOnly")
        )
        self.nullable = frozenset(name for name, prop in properties.items() if prop.get("nullable"))
        self.variant_checkers = {
            (value, name): ObjectChecker(prop, PATTERN_CODES)
            for value, variant in self.variants.items()
            for name, prop in variant.items()
        }
        paths = load_spec()["paths"]
        self.filters = self._filters(paths[f"/{self.collection}"]["get"])
        self.updatable = "put" in paths[f"/{self.collection}/{{uuid}}"]
        self._check_columns()

    def _filters(self, list_operation: dict[str, Any]) -> dict[str, Filter] | None:
        parameters = [resolve(p) for p in list_operation.get("parameters", [])]
        filters: dict[str, Filter] = {}
        for parameter in parameters:
            if parameter.get("in") != "query":
                continue
            name = parameter["name"]
            validate_url = resolve(parameter.get("schema", {})).get("format") == "uri"
            if name in self.links:
                filters[name] = Filter(name, "link", self.links[name], validate_url)
            else:
                column = self.filter_columns.get(name, name)
                filters[name] = Filter(column, "exact", validate_url=validate_url)
        return filters or None

    def _check_columns(self) -> None:
        """Every column the table needs is declared (links, filters, unique, indexes)."""
        needed = {*self.links, *(self.unique.columns if self.unique else ())}
        needed |= {f.column for f in (self.filters or {}).values()}
        needed |= {column for columns in self.indexes.values() for column in columns}
        missing = needed - set(self.columns)
        if missing:
            raise ValueError(f"{self.collection}: columns {sorted(missing)} are not declared")


KINDS: dict[str, Kind] = {
    kind.collection: kind
    for kind in (
        Kind(
            "klanten",
            "Klant",
            prepare=prepare_klant,
            rules=klant_rules,
            renderers={"subjectIdentificatie": render_subject_identificatie},
        ),
        Kind(
            "contactmomenten",
            "ContactMoment",
            links={"klant": "klanten"},
            columns=("klant",),
            indexes={"contactmomenten_klant": ("klant",)},
            prepare=prepare_contactmoment,
            rules=contactmoment_rules,
        ),
        Kind(
            "verzoeken",
            "Verzoek",
            links={"klant": "klanten"},
            columns=("klant", "bronorganisatie", "identificatie"),
            indexes={
                "verzoeken_klant": ("klant",),
                "verzoeken_identificatie": ("identificatie", "bronorganisatie"),
            },
            unique=Unique(
                ("identificatie", "bronorganisatie"),
                InvalidParam(
                    "identificatie",
                    "identificatie-niet-uniek",
                    "Deze identificatie bestaat al voor deze bronorganisatie.",
                ),
                relaxable=True,
            ),
            prepare=prepare_verzoek,
            assign=assign_identificatie,
        ),
        Kind(
            "objectcontactmomenten",
            "ObjectContactMoment",
            links={"contactmoment": "contactmomenten"},
            columns=("contactmoment", "object"),
            indexes={"oco_pair": ("contactmoment", "object")},
            unique=Unique(("contactmoment", "object")),
            zaak_relation=ZaakRelation("zaakcontactmomenten", "contactmoment"),
        ),
        Kind(
            "objectverzoeken",
            "ObjectVerzoek",
            links={"verzoek": "verzoeken"},
            columns=("verzoek", "object"),
            indexes={"ov_pair": ("verzoek", "object")},
            unique=Unique(("verzoek", "object")),
            zaak_relation=ZaakRelation("zaakverzoeken", "verzoek"),
        ),
        Kind(
            "verzoekinformatieobjecten",
            "VerzoekInformatieObject",
            links={"verzoek": "verzoeken"},
            columns=("verzoek", "informatieobject"),
            indexes={"vio_pair": ("verzoek", "informatieobject")},
            unique=Unique(("verzoek", "informatieobject"), relaxable=True),
            drc_mirrored=True,
        ),
        Kind(
            "verzoekcontactmomenten",
            "VerzoekContactMoment",
            links={"verzoek": "verzoeken", "contactmoment": "contactmomenten"},
            columns=("verzoek", "contactmoment"),
            indexes={
                "vcm_pair": ("verzoek", "contactmoment"),
                "vcm_contactmoment": ("contactmoment",),
            },
            unique=Unique(("verzoek", "contactmoment"), relaxable=True),
        ),
        Kind(
            "verzoekproducten",
            "VerzoekProduct",
            links={"verzoek": "verzoeken"},
            columns=("verzoek", "product", PRODUCT_CODE),
            indexes={"vp_verzoek": ("verzoek",)},
            prepare=prepare_verzoekproduct,
            rules=verzoekproduct_rules,
            renderers={"productIdentificatie": render_product_identificatie},
            filter_columns={"productIdentificatie__code": PRODUCT_CODE},
        ),
    )
}

COLLECTIONS: tuple[str, ...] = tuple(KINDS)
#: The kic-001 kind: verzoekinformatieobjecten.
MIRRORED: Kind = next(kind for kind in KINDS.values() if kind.drc_mirrored)


def link_chain(start: str, ancestor: str) -> list[tuple[str, str]] | None:
    """The links leading from rows of ``start`` up to one ``ancestor`` row, or None.

    As ``(field, target collection)`` pairs: verzoekinformatieobjecten -> klanten is
    ``[("verzoek", "verzoeken"), ("klant", "klanten")]``.
    """
    if start == ancestor:
        return []
    for name, target in KINDS[start].links.items():
        rest = link_chain(target, ancestor)
        if rest is not None:
            return [(name, target), *rest]
    return None
