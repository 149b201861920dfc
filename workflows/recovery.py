"""Recoveries after payment go back to the program pro rata to the ratio it paid, net of costs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from workflows.money import fen_times, format_fen, split_largest_remainder
from workflows.trace import Trace


@dataclass(frozen=True)
class RecoveryResult:
    """What the institution returns from one recovery, and how it splits over the risk-share parties."""

    returned_fen: int
    trace: list[dict]
    shares: dict[str, int] = field(default_factory=dict)
    due_fen: int = 0
    capped: bool = False


def compute_recovery_return(
    paid_fen: int,
    ratio: Decimal,
    recovered_fen: int,
    costs_fen: int,
    already_returned_fen: int,
    shares: Mapping[str, Decimal] | None = None,
) -> RecoveryResult:
    """Return net recovery x ratio, never letting all returns on the claim exceed what was paid."""
    if min(paid_fen, recovered_fen, costs_fen, already_returned_fen) < 0:
        raise ValueError("amounts must not be negative")
    if not Decimal(0) <= ratio <= Decimal(1):
        raise ValueError(f"ratio must be between 0 and 1, got {ratio}")
    trace = Trace()
    trace.add("inputs", None, {"unit": "yuan", "paid": format_fen(paid_fen), "ratio": ratio,
                               "recovered": format_fen(recovered_fen), "costs": format_fen(costs_fen),
                               "already_returned": format_fen(already_returned_fen)})
    net = max(recovered_fen - costs_fen, 0)
    trace.amount("net_recovery", net, f"{format_fen(recovered_fen)} recovered - {format_fen(costs_fen)} documented costs")
    due = fen_times(net, ratio)
    trace.amount("due", due, f"{format_fen(net)} x {ratio} (ratio paid), half-up to the fen")
    room = max(paid_fen - already_returned_fen, 0)
    capped = due > room
    returned = min(due, room)
    trace.amount("cap:paid_not_yet_returned", room, {"paid": format_fen(paid_fen), "already_returned": format_fen(already_returned_fen), "bound": capped})
    split: dict[str, int] = {}
    if shares:
        split = split_largest_remainder(returned, shares)
        trace.add("shares", {k: format_fen(v) for k, v in split.items()}, "returned amount split by largest remainder")
    trace.amount("returned", returned, "bound by what was paid and not yet returned" if capped else "")
    return RecoveryResult(returned_fen=returned, trace=trace.as_list(), shares=split, due_fen=due, capped=capped)
