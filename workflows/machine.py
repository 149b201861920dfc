"""A small state-machine engine: a flow is data — states, and transitions with roles, guards, effects."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

# A guard looks at the transition's context and returns the reasons it refuses (none means pass).
Guard = Callable[[Mapping[str, object]], list["Refusal"]]


@dataclass(frozen=True)
class Refusal:
    """Why a guard refuses a transition: a stable code, a message, and the field it concerns."""

    code: str
    message: str
    field: str | None = None


class TransitionError(Exception):
    """A transition cannot happen: `kind` is "illegal" (wrong state), "role" (not allowed) or "guard"."""

    def __init__(self, kind: str, message: str, refusals: Iterable[Refusal] = ()):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.refusals = tuple(refusals)


@dataclass(frozen=True)
class Transition:
    """One named action from some states to a target state, for some roles, under guards."""

    action: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    guards: tuple[Guard, ...] = ()
    effects: tuple[str, ...] = ()
    stage: str = ""
    label: str = ""


@dataclass(frozen=True)
class Flow:
    """A workflow: its states, the initial and final ones, and its transitions."""

    name: str
    initial: str
    states: frozenset[str]
    final: frozenset[str]
    transitions: tuple[Transition, ...]
    sla_working_days: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for t in self.transitions:
            unknown = (set(t.sources) | {t.target}) - set(self.states)
            if unknown:
                raise ValueError(f"flow {self.name}: transition {t.action} names unknown states {sorted(unknown)}")

    def actions_from(self, state: str, roles: Iterable[str]) -> list[str]:
        """The actions these roles may attempt from a state (guards not yet checked)."""
        roles = set(roles)
        return sorted({t.action for t in self.transitions if state in t.sources and roles & t.roles})

    def plan(self, action: str, state: str, roles: Iterable[str], context: Mapping[str, object]) -> Transition:
        """Choose the transition for an action from a state, or raise TransitionError saying why not."""
        candidates = [t for t in self.transitions if t.action == action]
        if not candidates:
            raise TransitionError("illegal", f"{self.name} has no action {action!r}")
        matching = [t for t in candidates if state in t.sources]
        if not matching:
            allowed = sorted({s for t in candidates for s in t.sources})
            raise TransitionError("illegal", f"cannot {action} a {self.name} in state {state!r} "
                                             f"(only from {', '.join(allowed)})")
        roles = set(roles)
        permitted = [t for t in matching if roles & t.roles]
        if not permitted:
            needed = sorted({r for t in matching for r in t.roles})
            raise TransitionError("role", f"{action} needs the role {' or '.join(needed)}")
        transition = permitted[0]
        refusals = [r for guard in transition.guards for r in guard(context)]
        if refusals:
            raise TransitionError("guard", "; ".join(r.message for r in refusals), refusals)
        return transition
