"""Shaping generated cases so that a correct KIC can accept them.

openapi.yaml allows requests that a correct KIC must refuse for business reasons: an RSIN
that fails the 11-proef, a local klant/verzoek/contactmoment URL that points nowhere, an
informatieobject or zaak URL the KIC cannot fetch, a path uuid of no object. Left alone, the
fuzz phase would mostly test the 400 and 404 branches and send the KIC fetching random host
names. Each rule below is a small function that rewrites one part of a *positive* case from
values that exist (drawn with Hypothesis, so the seed still decides everything). Negative
cases keep every component the generator made invalid; only their valid path parameters are
pointed at existing objects, so the invalid body meets a real object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.core.parameters import ParameterLocation

from harness.templating import uuid_of

from .generation import Draw
from .world import EXAMPLE_MEDEWERKER, FuzzWorld

#: An ETag no server hands out: If-None-Match must never turn a fuzzed read into a 304
#: (304 is not among the documented responses), and a generated "*" would.
NEVER_MATCHING_ETAG = '"kic-conformance-fuzz-never-matches"'
#: Body and query fields holding local KIC URLs, by the collection they point into.
LOCAL_LINKS = {"klant": "klanten", "verzoek": "verzoeken", "contactmoment": "contactmomenten"}


@dataclass(frozen=True)
class Target:
    """What a case is about: the operation, its collection and its action."""

    operation_id: str
    collection: str
    action: str  # list, create, read, update, partial_update, delete

    @classmethod
    def of(cls, operation_id: str, path: str) -> Target:
        collection = path.strip("/").split("/", 1)[0]
        action = operation_id.split("_", 1)[1]
        return cls(operation_id, collection, action)


def _weighted_rsin(digits: list[int]) -> int:
    return sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True))


def rsins() -> st.SearchStrategy[str]:
    """Nine-digit RSINs passing the 11-proef."""
    return (
        st.lists(st.integers(0, 9), min_size=8, max_size=8)
        .filter(lambda ds: _weighted_rsin(ds) % 11 != 10)
        .map(lambda ds: "".join(map(str, ds)) + str(_weighted_rsin(ds) % 11))
    )


def is_positive(case: Case, location: ParameterLocation) -> bool:
    """Whether ``location`` of ``case`` was generated valid (True without metadata)."""
    meta = case.meta
    if meta is None:
        return True
    component = meta.components.get(location)
    return component is None or not component.mode.is_negative


def shape_case(case: Case, target: Target, world: FuzzWorld, draw: Draw) -> None:
    """Apply every rule to ``case`` in place."""
    shape_path(case, target, world, draw)
    shape_conditional_headers(case)
    if is_positive(case, ParameterLocation.QUERY):
        shape_query_filters(case, world, draw)
    if is_positive(case, ParameterLocation.BODY) and isinstance(case.body, dict):
        shape_rsins(case.body, draw)
        shape_local_links(case.body, world, draw)
        shape_either_or(case.body, target, draw)
        shape_remote_objects(case.body, target, world, draw)


def shape_path(case: Case, target: Target, world: FuzzWorld, draw: Draw) -> None:
    """Read and update an existing object; delete a fresh one made for this example."""
    if "uuid" not in (case.path_parameters or {}):
        return
    if not is_positive(case, ParameterLocation.PATH):
        return
    if target.action == "delete":
        url = world.fresh(target.collection)
    else:
        pool = world.pool(target.collection)
        url = draw(st.sampled_from(pool)) if pool else None
    if url:
        case.path_parameters = {**case.path_parameters, "uuid": uuid_of(url)}


def shape_conditional_headers(case: Case) -> None:
    """If-None-Match stays a header the server must read, but never matches."""
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "if-none-match":
            case.headers = {**headers, name: NEVER_MATCHING_ETAG}


def shape_query_filters(case: Case, world: FuzzWorld, draw: Draw) -> None:
    """Local-URL filters sometimes name an existing object, so filtering finds something."""
    query = case.query or {}
    for name, collection in LOCAL_LINKS.items():
        pool = world.pool(collection)
        if name in query and pool and draw(st.booleans()):
            case.query = {**query, name: draw(st.sampled_from(pool))}
            query = case.query


def shape_rsins(body: dict[str, Any], draw: Draw) -> None:
    """bronorganisatie is an RSIN: the spec says string of at most 9, the rule says 11-proef."""
    if "bronorganisatie" in body:
        body["bronorganisatie"] = draw(rsins())


def shape_local_links(body: dict[str, Any], world: FuzzWorld, draw: Draw) -> None:
    """klant, verzoek and contactmoment must point at existing objects of the right kind."""
    for name, collection in LOCAL_LINKS.items():
        pool = world.pool(collection)
        if body.get(name) is not None and pool:
            body[name] = draw(st.sampled_from(pool))


def shape_either_or(body: dict[str, Any], target: Target, draw: Draw) -> None:
    """Mostly satisfy 'medewerker or medewerkerIdentificatie' on a full contactmoment body.

    Not always: the documented 400 for the rule is part of what the fuzz phase observes.
    """
    if target.collection != "contactmomenten" or target.action not in ("create", "update"):
        return
    has_one = body.get("medewerker") or body.get("medewerkerIdentificatie")
    if not has_one and draw(st.integers(0, 3)):
        body["medewerker"] = EXAMPLE_MEDEWERKER


def shape_remote_objects(
    body: dict[str, Any], target: Target, world: FuzzWorld, draw: Draw
) -> None:
    """informatieobject is a fresh mock-DRC document; object is a zaak linking the KIC object."""
    if target.action != "create":
        return
    if target.collection == "verzoekinformatieobjecten" and "informatieobject" in body:
        body["informatieobject"] = world.document()
    if target.collection == "objectcontactmomenten" and "object" in body:
        body["object"] = world.zaak(contactmoment=body.get("contactmoment"))
    if target.collection == "objectverzoeken" and "object" in body:
        body["object"] = world.zaak(verzoek=body.get("verzoek"))
