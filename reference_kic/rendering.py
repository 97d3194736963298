"""Turning a stored row into its response body: local links as URLs, fields in spec order.

Keys a row lacks are values the spec cannot represent (see shapes.spec_shaped): they are
left out, unless the answer profile gives them a blank value (profiles.py). A kind's field
renderers give the fields it stores in another form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .defects import Defects
from .kinds import Kind
from .profiles import DEFAULT, Profile, blank_value
from .urls import resource_url

Renderer = Callable[[dict[str, Any], str], dict[str, Any]]


def make_renderer(kind: Kind, defects: Defects, profile: Profile = DEFAULT) -> Renderer:
    """A function turning a stored row into its response body for a given API base URL."""
    fields = kind.fields
    blanks = profile.blanks(kind.collection)
    links = kind.links
    renderers = kind.renderers
    collection = kind.collection
    drop_tekst = defects.field_dropped and collection == "verzoeken"
    join_links = defects.wrong_type and collection == "contactmomenten"

    def render(row: dict[str, Any], base: str) -> dict[str, Any]:
        body: dict[str, Any] = {"url": resource_url(base, collection, row["uuid"])}
        for name in fields:
            if name in links:
                target = row.get(name)
                body[name] = resource_url(base, links[name], target) if target else None
            elif name in renderers:
                value = renderers[name](row)
                if value is not None:
                    body[name] = value
                elif name in blanks:
                    body[name] = blank_value(blanks[name])
            elif name in row:
                body[name] = row[name]
            elif name in blanks:
                body[name] = blank_value(blanks[name])
        if drop_tekst:
            body.pop("tekst", None)
        if join_links:
            body["onderwerpLinks"] = ",".join(body.get("onderwerpLinks") or [])
        return body

    return render
