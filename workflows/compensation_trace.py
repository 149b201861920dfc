"""How the compensation engine's recorded steps become its trace: the texts are made when the trace is read.

The engine records each step as a tuple whose first item is the function here that renders it, followed
by the numbers and flags that step needs, all captured at computation time (immutable values only, so
reading the trace later gives exactly what formatting at once would have). Amounts that are formatted
here were checked to be ints when recorded, so rendering never raises.
"""

from __future__ import annotations

from datetime import date

from workflows.money import format_fen
from workflows.trace import plain


def render(record: list[tuple]) -> list[dict]:
    """The recorded steps as the trace: a list of plain {step, value, detail[, fen]} dicts."""
    return [entry[0](entry) for entry in record]


def step(entry: tuple) -> dict:
    """(step, name, value, detail) with value and detail already plain."""
    return {"step": entry[1], "value": entry[2], "detail": entry[3]}


def amount(entry: tuple) -> dict:
    """(amount, name, fen, detail text): an amount shown in yuan and kept in fen."""
    return {"step": entry[1], "value": format_fen(entry[2]), "detail": entry[3], "fen": entry[2]}


def rule(entry: tuple) -> dict:
    """(rule, "code@version", source, sha256)."""
    return {"step": "rule", "value": entry[1], "detail": {"source": entry[2], "sha256": entry[3]}}


def _yuan(fen) -> object:
    # Amounts in the trace are yuan, as everywhere a person reads them; anything not an int goes through plain().
    return format_fen(fen) if type(fen) is int else plain(fen)


def inputs(entry: tuple) -> dict:
    """(inputs, principal, disbursed, security type, unsecured share, first loan, policy tool, revenue,
    default date, outstanding principal, unpaid interest, interest days, recovered before claim), amounts in yuan."""
    _, principal, disbursed, security, share, first, tool, revenue, default, outstanding, interest, days, recovered = entry
    return {"step": "inputs", "value": None, "detail": {
        "unit": "yuan",
        "principal": _yuan(principal),
        "disbursed_on": disbursed.isoformat() if type(disbursed) is date else plain(disbursed),
        "security_type": security if type(security) is str else plain(security),
        "unsecured_share": plain(share),
        "first_loan": first if type(first) is bool else plain(first),
        "policy_tool": tool if type(tool) is bool else plain(tool),
        "revenue": _yuan(revenue),
        "default_on": default.isoformat() if type(default) is date else plain(default),
        "outstanding_principal": _yuan(outstanding),
        "unpaid_interest": _yuan(interest),
        "interest_days": days if type(days) is int else plain(days),
        "recovered_before_claim": _yuan(recovered),
    }}


def uplift(entry: tuple) -> dict:
    """(uplift, name, ratio after it, applies, combine text, its condition, what the condition found, label)."""
    return {"step": entry[1], "value": plain(entry[2]),
            "detail": {"applies": entry[3], "combine": entry[4], "conditions": entry[5].notes(entry[6]), "label": entry[7]}}


def ceiling(entry: tuple) -> dict:
    """(ceiling, ratio after it, ceiling text, bound)."""
    return {"step": "ceiling", "value": plain(entry[1]), "detail": {"ceiling": entry[2], "bound": entry[3]}}


def gross(entry: tuple) -> dict:
    """(gross, gross fen, loss base fen, ratio)."""
    return {"step": "gross", "value": format_fen(entry[1]),
            "detail": f"{format_fen(entry[2])} x {entry[3]}, half-up to the fen (the one rounding point)", "fen": entry[1]}


def cap(entry: tuple) -> dict:
    """(cap, name, room, limit, used, bound, note, base, limit text or None): base is set for a share of a
    base, whose note it ends."""
    _, name, room, limit, used, bound, note, base, limit_text = entry
    if base is not None:
        note = f"{note}{format_fen(base)} yuan, floored"
    limit_text = limit_text or format_fen(limit)
    # Equal amounts have equal texts; with nothing used yet the room is the limit.
    used_text = "0.00" if used == 0 else format_fen(used)
    room_text = limit_text if room == limit else format_fen(room)
    return {"step": name, "value": room_text,
            "detail": {"limit": limit_text, "used": used_text, "bound": bound, "note": note}, "fen": room}


def final(entry: tuple) -> dict:
    """(final, amount fen, binding cap or None)."""
    binding = entry[2]
    return {"step": "amount", "value": format_fen(entry[1]), "detail": f"bound by {binding}" if binding else "no cap bound",
            "fen": entry[1]}
