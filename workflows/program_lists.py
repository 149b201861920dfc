"""Enterprise lists a program declares in its own file ([[lists]]): a city's key-firm list, a zone's list."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.rule_reader import Reader


@dataclass(frozen=True)
class ListDeclaration:
    """A list the program's conditions may name, with who issues it and how long an entry stays valid."""

    code: str
    label: str
    issuer: str
    valid_for_months: int | None = None
    revocable: bool = True
    source: str | None = None


def read_lists(root: Reader) -> tuple[ListDeclaration, ...]:
    """The [[lists]] array of tables; codes are lower-case identifiers and unique in the file."""
    lists = []
    for item in root.tables("lists"):
        declared = ListDeclaration(
            code=item.string("code", required=True) or "",
            label=item.string("label", required=True) or "",
            issuer=item.string("issuer", required=True) or "",
            valid_for_months=item.integer("valid_for_months", minimum=1),
            revocable=bool(item.boolean("revocable", default=True)),
            source=item.string("source"),
        )
        if declared.code and not (declared.code.replace("_", "").replace("-", "").isalnum()
                                  and declared.code.isascii() and declared.code == declared.code.lower()):
            item.error("code", f"must be lower-case letters, digits, _ or -, got {declared.code!r}")
        item.finish()
        lists.append(declared)
    codes = [d.code for d in lists]
    for duplicate in sorted({c for c in codes if codes.count(c) > 1}):
        root.error("lists", f"list {duplicate!r} is declared twice")
    return tuple(lists)
