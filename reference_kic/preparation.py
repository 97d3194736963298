"""Turning a request body into the stored form of a resource, enforcing every local rule.

Order follows the reference: field checks (types, lengths, enums, formats, local links, RSIN)
are collected together; only when they pass do the either/or rules run on the merged result
(new values over stored ones, so an update cannot break a rule the create had to satisfy).
Remote checks and uniqueness belong to ``service``, which needs the database and the network.
"""

from __future__ import annotations

from typing import Any

from zgw.errors import InvalidParam, ValidationFailed

from . import rules
from .kinds import PATTERN_CODES, Kind, defaults_for
from .spec import component_schema, resolve
from .storage import Store
from .urls import parse_local
from .validation import ObjectChecker, now_utc

Errors = list[InvalidParam]


def _subtype_schemas() -> dict[str, dict[str, Any]]:
    """subjectType value -> the schema of its ``subjectIdentificatie`` (via the discriminator)."""
    klant = component_schema("Klant")
    result = {}
    for value in resolve(klant["properties"]["subjectType"]).get("enum", []):
        for part in component_schema(value).get("allOf", []):
            part = resolve(part)
            identificatie = part.get("properties", {}).get("subjectIdentificatie")
            if identificatie is not None:
                result[value] = resolve(identificatie)
    return result


def _merge_nested(stored: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Update a stored sub-object field by field; nested sub-objects likewise, null = keep."""
    merged = dict(stored or {})
    for key, value in new.items():
        if isinstance(value, dict):
            merged[key] = _merge_nested(merged.get(key), value)
        elif value is None and isinstance(merged.get(key), dict):
            continue
        else:
            merged[key] = value
    return merged


def _render_defaults(schema: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """Fill every property of ``schema`` missing from ``value`` (nested objects too)."""
    filled = {**defaults_for(schema), **value}
    for name, prop in resolve(schema).get("properties", {}).items():
        prop = resolve(prop)
        if isinstance(filled.get(name), dict) and "properties" in prop:
            filled[name] = _render_defaults(prop, filled[name])
    return filled


def spec_shaped(schema: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """``value`` without what its schema cannot represent, so every response is spec-valid.

    The VNG reference returns ``""`` for an unset enum (``initiatiefnemer``,
    ``geslachtsaanduiding``) and ``null`` for unset non-nullable sub-objects (``verblijfsadres``);
    neither is valid against the spec, so such keys are left out instead.
    """
    properties = resolve(schema).get("properties", {})
    shaped: dict[str, Any] = {}
    for key, item in value.items():
        prop = resolve(properties[key]) if key in properties else None
        if prop is not None:
            if item == "" and "enum" in prop:
                continue
            if item is None and not prop.get("nullable"):
                continue
            if isinstance(item, dict) and "properties" in prop:
                item = spec_shaped(prop, item)
        shaped[key] = item
    return shaped


class Preparer:
    """Validates bodies for every kind against one store (for local links)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.subtypes = {
            value: ObjectChecker(schema, PATTERN_CODES)
            for value, schema in _subtype_schemas().items()
        }
        self.subtype_schemas = _subtype_schemas()
        self.medewerker_schema = resolve(
            component_schema("ContactMoment")["properties"]["medewerkerIdentificatie"]
        )

    def prepare(
        self, kind: Kind, body: Any, stored: dict[str, Any] | None = None, *, partial: bool = False
    ) -> dict[str, Any]:
        """The new stored form (without ``uuid``) or :class:`ValidationFailed`."""
        errors: Errors = []
        cleaned = kind.checker.check(body, "", errors, partial=partial)
        if not isinstance(body, dict):
            raise ValidationFailed(errors)
        self._resolve_links(kind, cleaned, errors)
        base = stored if stored is not None else self._defaults(kind)
        special = getattr(self, f"_prepare_{kind.collection}", None)
        if special is not None:
            special(body, cleaned, base, stored is not None, errors)
        if errors:
            raise ValidationFailed(errors)
        merged = {k: v for k, v in base.items() if k != "uuid"}
        merged.update(cleaned)
        merged = spec_shaped(kind.schema, merged)
        check = getattr(self, f"_rules_{kind.collection}", None)
        problems = check(merged) if check is not None else []
        if problems:
            raise ValidationFailed(problems)
        return merged

    # -- generic pieces ---------------------------------------------------------------------
    @staticmethod
    def _defaults(kind: Kind) -> dict[str, Any]:
        defaults = defaults_for(kind.schema)
        if "interactiedatum" in defaults:
            defaults["interactiedatum"] = now_utc()
        return defaults

    def _resolve_links(self, kind: Kind, cleaned: dict[str, Any], errors: Errors) -> None:
        nullable = {
            name
            for name, prop in kind.schema.get("properties", {}).items()
            if resolve(prop).get("nullable")
        }
        for name, target in kind.links.items():
            if name not in cleaned:
                continue
            value = cleaned[name]
            if value in ("", None):
                if name in nullable:
                    cleaned[name] = None
                else:
                    errors.append(InvalidParam(name, "null", "Dit veld mag niet leeg zijn."))
                    del cleaned[name]
                continue
            parsed = parse_local(value)
            if parsed is None:
                code, reason = "no_match", "Ongeldige hyperlink - Geen overeenkomende URL."
            elif parsed[0] != target:
                code, reason = "incorrect_match", "Ongeldige hyperlink - Ongeldige URL."
            elif not self.store.exists(target, parsed[1]):
                code, reason = "does_not_exist", "Ongeldige hyperlink - Object bestaat niet."
            else:
                cleaned[name] = parsed[1]
                continue
            errors.append(InvalidParam(name, code, reason))
            del cleaned[name]

    # -- klanten ----------------------------------------------------------------------------
    def _prepare_klanten(
        self,
        body: dict[str, Any],
        cleaned: dict[str, Any],
        base: dict[str, Any],
        is_update: bool,
        errors: Errors,
    ) -> None:
        stored_type = base.get("subjectType")
        if is_update and "subjectType" in cleaned:
            errors.extend(
                rules.immutable_problems("subjectType", stored_type, cleaned["subjectType"])
            )
        subject_type = cleaned.get("subjectType", stored_type)
        if "subjectIdentificatie" not in body:
            return
        raw = body["subjectIdentificatie"]
        if raw is None:
            errors.append(
                InvalidParam("subjectIdentificatie", "null", "Dit veld mag niet leeg zijn.")
            )
            return
        checker = self.subtypes.get(subject_type) if isinstance(subject_type, str) else None
        if checker is None:
            return  # without a (valid) type there is no shape: the identificatie is ignored
        before = len(errors)
        identificatie = checker.check(raw, "subjectIdentificatie", errors, partial=True)
        for key in ("inpBsn", "innNnpId"):
            errors.extend(
                rules.rsin_problems(
                    identificatie.get(key), f"subjectIdentificatie.{key}", allow_blank=True
                )
            )
        if len(errors) > before or not identificatie:
            return
        merged = _merge_nested(base.get("subjectIdentificatie"), identificatie)
        schema = self.subtype_schemas[subject_type]
        cleaned["subjectIdentificatie"] = spec_shaped(schema, _render_defaults(schema, merged))

    @staticmethod
    def _rules_klanten(data: dict[str, Any]) -> Errors:
        return rules.subject_problems(data.get("subject"), data.get("subjectIdentificatie"))

    # -- contactmomenten --------------------------------------------------------------------
    def _prepare_contactmomenten(
        self,
        body: dict[str, Any],
        cleaned: dict[str, Any],
        base: dict[str, Any],
        is_update: bool,
        errors: Errors,
    ) -> None:
        if "bronorganisatie" in cleaned:
            errors.extend(rules.rsin_problems(cleaned["bronorganisatie"], "bronorganisatie"))
        if "medewerkerIdentificatie" in cleaned:
            new = cleaned["medewerkerIdentificatie"]
            if new is None:
                # null does not remove a stored medewerkerIdentificatie (reference behaviour)
                cleaned["medewerkerIdentificatie"] = base.get("medewerkerIdentificatie")
            else:
                merged = _merge_nested(base.get("medewerkerIdentificatie"), new)
                cleaned["medewerkerIdentificatie"] = _render_defaults(
                    self.medewerker_schema, merged
                )

    @staticmethod
    def _rules_contactmomenten(data: dict[str, Any]) -> Errors:
        return rules.medewerker_problems(
            data.get("medewerker"), data.get("medewerkerIdentificatie")
        )

    # -- verzoeken --------------------------------------------------------------------------
    def _prepare_verzoeken(
        self,
        body: dict[str, Any],
        cleaned: dict[str, Any],
        base: dict[str, Any],
        is_update: bool,
        errors: Errors,
    ) -> None:
        if "bronorganisatie" in cleaned:
            errors.extend(rules.rsin_problems(cleaned["bronorganisatie"], "bronorganisatie"))
        errors.extend(rules.externe_identificatie_problems(cleaned.get("externeIdentificatie")))
        new_identificatie = cleaned.get("identificatie")
        if is_update and new_identificatie:
            errors.extend(
                rules.immutable_problems(
                    "identificatie", base.get("identificatie"), new_identificatie
                )
            )
        elif is_update:
            # An empty identificatie on update keeps the stored one (no silent regeneration).
            cleaned.pop("identificatie", None)

    # -- verzoekproducten -------------------------------------------------------------------
    def _prepare_verzoekproducten(
        self,
        body: dict[str, Any],
        cleaned: dict[str, Any],
        base: dict[str, Any],
        is_update: bool,
        errors: Errors,
    ) -> None:
        identificatie = cleaned.pop("productIdentificatie", None)
        if identificatie is not None:
            cleaned["productCode"] = identificatie.get("code", "")
        base.setdefault("productCode", "")
        base.pop("productIdentificatie", None)

    @staticmethod
    def _rules_verzoekproducten(data: dict[str, Any]) -> Errors:
        return rules.product_problems(data.get("product"), data.get("productCode"))
