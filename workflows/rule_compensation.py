"""Reading the [compensation] section and [[risk_shares]] of a program file into rule objects."""

from __future__ import annotations

from decimal import Decimal

from workflows.conditions import Condition, read_condition, read_range
from workflows.rule_model import BAND_MEASURES, SPLIT_POLICIES, Band, CompensationRule, RiskShare, Uplift
from workflows.rule_reader import Reader

_EDGES = ("at_least", "more_than", "at_most", "less_than")


def read_compensation(reader: Reader | None) -> CompensationRule | None:
    if reader is None:
        return None
    loss_base = reader.choice("loss_base", ("principal", "principal_and_interest"), default="principal")
    interest_day_cap = reader.integer("interest_day_cap", minimum=1)
    if loss_base == "principal_and_interest" and interest_day_cap is None:
        reader.error("interest_day_cap", "is required when loss_base includes interest")
    if loss_base == "principal" and interest_day_cap is not None:
        reader.error("interest_day_cap", "only applies when loss_base is principal_and_interest")
    base_ratio = reader.ratio("base_ratio")
    band_by = reader.choice("band_by", BAND_MEASURES)
    bands = []
    for band in reader.tables("bands"):
        ratio = band.ratio("ratio", required=True)
        edges = {k: band.raw(k) for k in _EDGES if band.has(k)}
        for key in _EDGES:
            band.raw(key)
        span = read_range(Reader(edges, band.prefix, band.sink), amounts=band_by != "unsecured_share")
        when_reader = band.table("when")
        when = read_condition(when_reader) if when_reader is not None else None
        label = band.string("label")
        band.finish()
        if ratio is not None and span is not None:
            bands.append(Band(span, ratio, when=when, label=label))
    if bands and band_by is None:
        reader.error("band_by", f"is required when bands are given ({', '.join(BAND_MEASURES)})")
    if band_by is not None and not reader.has("bands"):
        reader.error("bands", "band_by is set but no bands are given")
    if bands and base_ratio is not None:
        reader.error("base_ratio", "give either base_ratio or bands, not both")
    for i, a in enumerate(bands):
        for j in range(i + 1, len(bands)):
            # Bands with conditions may share a range on purpose (the first that applies wins).
            if a.when is None and bands[j].when is None and a.range.overlaps(bands[j].range):
                reader.error(f"bands[{j}]", f"overlaps bands[{i}] {a.range.describe()}")
    combine = reader.choice("combine", ("add", "max"), default="add") or "add"
    uplifts = []
    for item in reader.tables("uplifts"):
        when_reader = item.table("when", required=True)
        uplift = Uplift(
            name=item.string("name", required=True) or "",
            label=item.string("label"),
            when=read_condition(when_reader) if when_reader is not None else Condition(),
            add=item.ratio("add"),
            ratio=item.ratio("ratio"),
        )
        if combine == "add" and (not item.has("add") or item.has("ratio")):
            item.error("add", "uplifts of a program with combine = \"add\" need `add` (points) and no `ratio`")
        if combine == "max" and (not item.has("ratio") or item.has("add")):
            item.error("ratio", "uplifts of a program with combine = \"max\" need `ratio` and no `add`")
        item.finish()
        uplifts.append(uplift)
    ceiling = reader.ratio("ceiling", required=True)
    payer_party = reader.string("payer_party", default="program") or "program"
    split_policy = reader.choice("split_policy", SPLIT_POLICIES, default=SPLIT_POLICIES[0]) or SPLIT_POLICIES[0]
    reader.finish()
    if ceiling is not None:
        floor_ratios = [("base_ratio", base_ratio)] + [(f"bands[{i}].ratio", b.ratio) for i, b in enumerate(bands)]
        for key, ratio in floor_ratios:
            if ratio is not None and ceiling < ratio:
                reader.error("ceiling", f"{ceiling} is below {key} {ratio}")
    return CompensationRule(
        loss_base=loss_base or "principal",
        interest_day_cap=interest_day_cap,
        base_ratio=base_ratio,
        band_by=band_by,
        bands=tuple(bands),
        combine=combine,
        uplifts=tuple(uplifts),
        ceiling=ceiling if ceiling is not None else Decimal(0),
        payer_party=payer_party,
        split_policy=split_policy,
    )


def read_risk_shares(root: Reader, compensation: CompensationRule | None) -> tuple[RiskShare, ...]:
    items = root.tables("risk_shares")
    if not items:
        written = root.data.get("compensation", {})
        if compensation is not None and not ({"base_ratio", "bands"} & set(written)):
            root.error("compensation.base_ratio", "a program needs base_ratio, bands or risk_shares")
        return ()
    shares = []
    for item in items:
        shares.append(
            RiskShare(
                party=item.string("party", required=True) or "",
                share=item.ratio("share", required=True) or Decimal(0),
                program=bool(item.boolean("program", default=False)),
                label=item.string("label"),
            )
        )
        item.finish()
    total = sum((s.share for s in shares), Decimal(0))
    if total != 1:
        root.error("risk_shares", f"shares must sum to 1, they sum to {total}")
    if sum(1 for s in shares if s.program) != 1:
        root.error("risk_shares", "exactly one party must be marked program = true (the party this program pays)")
    parties = [s.party for s in shares]
    for duplicate in sorted({p for p in parties if parties.count(p) > 1}):
        root.error("risk_shares", f"party {duplicate!r} is listed twice")
    if compensation is not None and (compensation.base_ratio is not None or compensation.bands or compensation.uplifts):
        root.error("compensation", "with risk_shares the program's ratio is its party's share: drop base_ratio, bands and uplifts")
    program_share = next((s.share for s in shares if s.program), None)
    ceiling_written = "ceiling" in root.data.get("compensation", {})
    if compensation is not None and program_share is not None and ceiling_written and compensation.ceiling < program_share:
        root.error("compensation.ceiling", f"{compensation.ceiling} is below the program's risk share {program_share}")
    return tuple(shares)


