"""Deliberate defects of the reference KIC: one typed switch per broken behaviour.

The suite proves its checks by running them against a KIC that breaks one rule on purpose.
:class:`Defects` is the set of defect names a KIC runs with (``Defects()``: none, the correct
KIC), checked when it is made: an unknown name raises :class:`UnknownDefect` listing the
valid ones. The code asks it through one attribute per defect (``defects.mirror_skipped``),
never by name. :data:`DEFECTS` maps every name to what it breaks, for help texts.

A defect is declared in the class body with :func:`switch` (on or off). A family of defects
that takes a parameter (``skip-rule:invalid-subject``) is declared with :func:`family`: its
attribute is the set of parameters given (``"invalid-subject" in defects.skipped_rules``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from zgw.errors import InvalidParam

#: What separates a family's name from its parameter: ``skip-rule:invalid-subject``.
PARAMETER_SEPARATOR = ":"


class UnknownDefect(ValueError):
    """A defect name (or a family's parameter) that does not exist; the message lists the valid."""


class _Declared:
    """One defect declared on a :class:`Defects` class; registers itself there by name."""

    takes_parameter = False

    def __init__(self, name: str, breaks: str) -> None:
        self.name = name
        self.breaks = breaks
        self.attribute = ""  # the attribute of Defects it is read through

    @property
    def label(self) -> str:
        """How help texts name it."""
        return self.name

    def __set_name__(self, owner: type[Defects], attribute: str) -> None:
        if "declared" not in owner.__dict__:  # a subclass extends a copy of its parent's
            owner.declared = dict(getattr(owner, "declared", {}))
        owner.declared[self.name] = self
        self.attribute = attribute


class _Switch(_Declared):
    def __get__(self, defects: Defects | None, owner: type | None = None) -> bool:
        return defects is not None and self.name in defects


class _Family(_Declared):
    takes_parameter = True

    def __init__(
        self,
        name: str,
        parameter: str,
        breaks: str,
        choices: Callable[[], Collection[str]] | None,
    ) -> None:
        super().__init__(name, breaks)
        self.parameter = parameter
        self.choices = choices
        self.prefix = name + PARAMETER_SEPARATOR

    @property
    def label(self) -> str:
        return self.prefix + self.parameter

    def __get__(self, defects: Defects | None, owner: type | None = None) -> frozenset[str]:
        if defects is None:
            return frozenset()
        prefix = self.prefix
        return frozenset(name.removeprefix(prefix) for name in defects if name.startswith(prefix))

    def check(self, value: str) -> None:
        """Refuse a value outside ``choices`` (when there are choices)."""
        if self.choices is not None and value not in self.choices():
            raise UnknownDefect(
                f"unknown {self.parameter} {value!r} in defect {self.prefix}{value}; "
                f"valid: {', '.join(sorted(self.choices()))}"
            )


def switch(name: str, breaks: str) -> Any:
    """A defect that is on or off; ``breaks`` says what it breaks (shown in help texts)."""
    return _Switch(name, breaks)


def family(
    name: str,
    parameter: str,
    breaks: str,
    choices: Callable[[], Collection[str]] | None = None,
) -> Any:
    """Defects named ``<name>:<value>``; the attribute is the set of values given.

    ``breaks`` describes it in terms of ``parameter`` (``skip the rule RULE``); ``choices``,
    when given, returns the valid values (called while checking names, so it may read the
    spec): other values are refused like an unknown name.
    """
    return _Family(name, parameter, breaks, choices)


class Defects(frozenset):
    """The names of the defects a KIC runs with, each readable as a typed attribute.

    Made from any collection of names (surrounding blanks ignored); it equals the frozenset
    of those names.
    """

    declared: dict[str, _Declared]  # name -> declaration, filled by the class body

    def __new__(cls, names: Iterable[str] = ()) -> Defects:
        chosen = frozenset(name.strip() for name in names)
        unknown = sorted(name for name in chosen if cls._declaration(name) is None)
        if unknown:
            valid = ", ".join(sorted(cls.described()))
            raise UnknownDefect(f"unknown defect(s) {', '.join(unknown)}; valid: {valid}")
        for name in sorted(chosen):
            declared = cls._declaration(name)
            if isinstance(declared, _Family):
                declared.check(name.removeprefix(declared.prefix))
        return super().__new__(cls, chosen)

    @classmethod
    def _declaration(cls, given: str) -> _Declared | None:
        """What ``given`` names: a switch by its name, a family by ``<name>:<value>``."""
        name, separator, _ = given.partition(PARAMETER_SEPARATOR)
        declared = cls.declared.get(name)
        if declared is None or declared.takes_parameter != bool(separator):
            return None
        return declared

    @classmethod
    def described(cls) -> dict[str, str]:
        """Every defect by name (a family as ``name:PARAMETER``) with what it breaks."""
        return {declared.label: declared.breaks for declared in cls.declared.values()}

    mirror_skipped: bool = switch(
        "mirror-skipped", "never POST the DRC mirror of a verzoekinformatieobject"
    )
    mirror_wrong_objecttype: bool = switch(
        "mirror-wrong-objecttype", "POST the DRC mirror with objectType 'zaak'"
    )
    mirror_before_commit: bool = switch(
        "mirror-before-commit", "POST the DRC mirror before the relation is committed"
    )
    delete_mirror_skipped: bool = switch("delete-mirror-skipped", "never delete the DRC mirror")
    delete_wrong_mirror: bool = switch(
        "delete-wrong-mirror", "list DRC mirrors by object only and delete the first one"
    )
    delete_mirror_while_visible: bool = switch(
        "delete-mirror-while-visible", "keep the relation visible while deleting the mirror"
    )
    field_dropped: bool = switch("field-dropped", "verzoek responses lack 'tekst'")
    wrong_type: bool = switch(
        "wrong-type", "contactmoment responses carry onderwerpLinks as one comma-joined string"
    )
    create_status_200: bool = switch("create-status-200", "every create answers 200 instead of 201")
    filter_ignored: bool = switch("filter-ignored", "relation list filters are ignored")
    uniqueness_not_enforced: bool = switch(
        "uniqueness-not-enforced", "no verzoek identificatie / VIO / VCM uniqueness checks"
    )
    etag_missing: bool = switch("etag-missing", "no ETag header, If-None-Match ignored")
    auth_not_checked: bool = switch("auth-not-checked", "no token needed")
    scope_not_enforced: bool = switch(
        "scope-not-enforced", "any authenticated client may do anything"
    )
    location_missing: bool = switch("location-missing", "no Location header on 201")
    error_500_on_bad_input: bool = switch(
        "500-on-bad-input", "POST /klanten without subjectType and malformed JSON answer 500"
    )
    validation_422: bool = switch("validation-422", "validation errors answer 422 instead of 400")
    parse_error_fout: bool = switch(
        "parse-error-fout", "malformed JSON answers a Fout without invalidParams (as VNG's does)"
    )

    # -- B: must-level checks (invariants of every exchange, error semantics, semantics) --
    content_type_missing: bool = switch(
        "content-type-missing", "item reads answer their JSON without a Content-Type"
    )
    undocumented_field: bool = switch(
        "undocumented-field", "klant responses carry an extra property 'bron'"
    )
    handelsnaam_joined: bool = switch(
        "handelsnaam-joined",
        "a vestiging's subjectIdentificatie.handelsnaam is answered as one comma-joined string",
    )
    list_url_internal: bool = switch(
        "list-url-internal", "lists give every url under the internal http://kic.internal/api/v1"
    )
    location_internal: bool = switch(
        "location-internal", "the Location of a 201 names the object at http://kic.internal/api/v1"
    )
    offset_dropped: bool = switch(
        "offset-dropped", "a date-time sent with a UTC offset is stored as if it were UTC"
    )
    update_not_saved: bool = switch(
        "update-not-saved", "PUT and PATCH answer the new state without storing it"
    )
    refused_create_stored: bool = switch(
        "refused-create-stored",
        "a create refused as invalid or as a duplicate is stored all the same (as it was sent)",
    )
    invalid_params_unnamed: bool = switch(
        "invalid-params-unnamed", "every invalidParams entry is named nonFieldErrors"
    )
    etag_stale: bool = switch(
        "etag-stale", "the ETag depends on the uuid only: an old If-None-Match still gets 304"
    )
    filter_inexact: bool = switch(
        "filter-inexact", "text list filters match case-insensitively and by substring"
    )
    list_shows_deleted: bool = switch(
        "list-shows-deleted", "lists keep showing the objects deleted by DELETE"
    )
    patch_forgets_nested: bool = switch(
        "patch-forgets-nested", "PATCH resets the sub-objects (and their fields) it is not given"
    )
    link_existence_unchecked: bool = switch(
        "link-existence-unchecked",
        "links to KIC objects are not checked to exist (the database then refuses them: 500)",
    )
    subject_rule_on_create_only: bool = switch(
        "subject-rule-on-create-only",
        "an update may leave a klant with neither subject nor subjectIdentificatie",
    )

    # -- G: kic-001 holes (cascades, DRC faults, refused links, two DRCs) --
    mirror_posted_twice: bool = switch(
        "mirror-posted-twice",
        "POST the DRC mirror of a verzoekinformatieobject twice (the DRC refuses the second)",
    )
    drc_before_checks: bool = switch(
        "drc-before-checks",
        "a verzoekinformatieobject create or delete calls the DRC before the token, scope and "
        "body are checked (a refused one has reached the DRC too)",
    )
    cascade_restore_skipped: bool = switch(
        "cascade-restore-skipped",
        "a cascade whose mirror delete fails shows its relations again without putting back "
        "the mirrors it already deleted",
    )
    mirror_refusal_ignored: bool = switch(
        "mirror-refusal-ignored",
        "a DRC 4xx on the mirror POST is ignored: the relation is kept without its mirror",
    )
    mirror_unanswered_as_success: bool = switch(
        "mirror-unanswered-as-success",
        "a mirror POST without answer (timeout, dropped connection) counts as done: the "
        "relation is kept without a look at the DRC",
    )
    delete_needs_mirror: bool = switch(
        "delete-needs-mirror",
        "deleting a relation whose mirror is already gone from the DRC fails (409)",
    )
    mirror_to_first_drc: bool = switch(
        "mirror-to-first-drc",
        "send every mirror to the first configured DRC, whichever DRC serves the document",
    )

    # -- E: proofs (the auth matrix, and a precise defect for every must-level scenario) --
    accepted_tokens: frozenset[str] = family(
        "accept-token",
        "VARIANT",
        "accept a token of this kind as if it were valid (no-token, invalid-token, alg-none, "
        "wrong-secret, expired-token, unknown-client)",
        choices=lambda: TOKEN_VARIANTS,
    )
    not_found_500: bool = switch(
        "not-found-500", "a uuid that names no object (or no uuid at all) answers 500, not 404"
    )
    unknown_parameters_ignored: bool = switch(
        "unknown-parameters-ignored", "unknown query parameters of a list are ignored, not a 400"
    )
    unserved_method_404: bool = switch(
        "unserved-method-404", "a method a resource does not serve answers 404, not 405"
    )
    auth_after_write: bool = switch(
        "auth-after-write",
        "a write is done before its token and scope are checked: the 403 comes after the change",
    )
    media_type_ignored: bool = switch(
        "media-type-ignored",
        "Accept and Content-Type are not looked at: no 406, no 415 (every body read as JSON)",
    )
    unchecked_rules: frozenset[str] = family(
        "unchecked",
        "RULE",
        "do not check one validation rule: its problems are dropped and the write goes on. "
        "RULE is an invalidParams name (bronorganisatie, medewerker.identificatie, "
        "nonFieldErrors), NAME/CODE for one code of it (bronorganisatie/invalid), or /CODE for "
        "that code on any field (/required)",
    )

    def checked(self, problems: list[InvalidParam]) -> list[InvalidParam]:
        """``problems`` without those of the rules the ``unchecked`` family switches off."""
        rules = self.unchecked_rules
        if not rules:
            return problems
        return [p for p in problems if not any(_rule_covers(r, p) for r in rules)]


def _rule_covers(rule: str, problem: InvalidParam) -> bool:
    name, _, code = rule.partition("/")  # "/CODE": that code whatever the name
    named = not name or problem.name == name or problem.name.startswith(name + ".")
    return named and (not code or problem.code == code)


#: The kinds of wrong token the ``accept-token`` family lets through (reference_kic/auth.py
#: tells them apart); the auth matrix's variants have the same names.
TOKEN_VARIANTS = (
    "no-token",
    "invalid-token",
    "alg-none",
    "wrong-secret",
    "expired-token",
    "unknown-client",
)

#: Every deliberate defect the reference KIC can be switched into, with what it breaks.
DEFECTS: dict[str, str] = Defects.described()
