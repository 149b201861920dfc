"""A stored trace as rows a reviewer reads: each step named in Chinese, its result, and why.

Only wording happens here: every number comes from the trace the engine stored with the amount.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

STEPS = {
    "rule": "适用规则", "inputs": "输入事实", "principal": "违约时未偿本金", "interest": "未付利息",
    "recovered_before_claim": "申请前已追回（扣减）", "loss_base": "损失基数", "base_ratio": "基础补偿比例",
    "ceiling": "补偿比例上限", "gross": "按比例计算金额", "risk_shares": "风险分担", "amount": "核定金额",
    "gross_before_paid_limit": "按比例计算金额", "limit:interest_paid": "不超过实付利息",
    "party_shares": "各方分担", "share": "补贴比例", "rate": "补贴费率", "segment": "分段计算（按 LPR 定价期）",
}
CAPS = {
    "per_loan": "单笔贷款上限", "per_enterprise_year": "单户企业年度上限",
    "per_enterprise_total": "单户企业累计上限", "per_institution_year": "合作机构年度上限",
    "per_institution_year_share_of_registered": "合作机构年度上限（当年备案本金比例）",
    "program_budget": "计划年度预算余额", "requested": "机构申请金额",
    "per_firm_program_year": "单户企业本计划年度上限", "per_firm_year_all_subsidies": "单户企业年度各类补贴合计上限",
    "per_firm_lifetime_all_subsidies": "单户企业累计补贴上限", "per_institution_year_reward": "机构年度奖励上限",
}
_DATES = {"disbursement": "放款日", "default": "违约日", "claim": "申请日", "application": "申请日"}
_LIST = re.compile(r"(not met|met): on list (.+?) on (\d{4}-\d\d-\d\d) \((\w+) date\)")
_FLAG = re.compile(r"(not met|met): (\w+) is (True|False)")
_SHARE = re.compile(r"([\d.]+) x (registered principal this year|principal registered in the loan's registration year) "
                    r"([\d.]+)(?: yuan)?, floored")
_SHARE_BASES = {"registered principal this year": "当年备案本金",
                "principal registered in the loan's registration year": "贷款备案当年的备案本金"}
_WORDS = {"outstanding principal at default": "违约时未偿本金", "flat base ratio": "统一基础比例",
          "half-up to the fen (the one rounding point)": "四舍五入到分（唯一的舍入点）", "half-up to the fen": "四舍五入到分",
          "deducted from the loss": "从损失中扣减", " x ": " × ", "per loan": "",
          "enterprise, this year": "", "remaining program budget": "", "no cap bound": "无限额封顶",
          "highest applicable": "取适用档次中最高者", " yuan": " 元", "interest paid": "实付利息",
          "of period": "（期间占比）", "(rate ceiling)": "（利率上限折算）", "share": "比例", ", ": "，"}
_EXACT = {"principal": "本金", "principal_and_interest": "本金及利息", "principal_interest": "本金及利息"}
FLAGS = {"first_loan": "首贷户", "policy_tool": "政策性工具贷款"}


def yuan(text) -> str:
    """A money string or integer fen as ¥1,234.56 (exact: no float)."""
    if isinstance(text, int):
        sign, fen = ("-" if text < 0 else ""), abs(text)
        return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"
    raw = str(text)
    if not re.fullmatch(r"-?\d+(\.\d+)?", raw):
        return raw
    sign, raw = ("-", raw[1:]) if raw.startswith("-") else ("", raw)
    whole, _, cents = raw.partition(".")
    return f"{sign}¥{int(whole):,}" + (f".{cents}" if cents else "")


def _condition(text: str, names: dict[str, str]) -> str:
    found = _LIST.fullmatch(text)
    if found:
        verdict, lists, on, which = found.groups()
        shown = " 或 ".join(names.get(code, code) for code in lists.split(" or "))
        return f"{'不' if verdict == 'not met' else ''}满足：{on}（{_DATES.get(which, which)}）在名单「{shown}」中"
    found = _FLAG.fullmatch(text)
    if found:
        verdict, flag, _ = found.groups()
        return f"{'不' if verdict == 'not met' else ''}满足：{FLAGS.get(flag, flag)}"
    return _cn(text)


def _cn(text: str) -> str:
    if text in _EXACT:
        return _EXACT[text]
    found = _SHARE.search(text)
    if found:
        text = text.replace(found.group(0), f"{_SHARE_BASES[found.group(2)]} {yuan(found.group(3))} × {found.group(1)}，"
                                            "向下取整到分")
    for english, chinese in _WORDS.items():
        text = text.replace(english, chinese)
    return re.sub(r"(?<![\w.])(\d{4,}\.\d\d)(?![\w.])", lambda m: yuan(m.group(1)), text).strip(" ,，")


@dataclass(frozen=True)
class Row:
    """One line of the trace table."""

    step: str
    value: str
    detail: str
    kind: str = ""  # "applied", "skipped", "bound", "result": how the row is marked


def _cap(name: str, entry: dict) -> Row:
    detail = entry.get("detail") or {}
    if not isinstance(detail, dict):
        return Row(CAPS.get(name, name), yuan(entry.get("value")), _cn(str(detail)), "bound")
    bound = bool(detail.get("bound"))
    text = f"限额 {yuan(detail.get('limit'))}，已用 {yuan(detail.get('used'))}，剩余 {yuan(entry.get('value'))}"
    note = _cn(str(detail.get("note") or ""))
    if note:
        text += f"（{note}）"
    if bound:
        text += " —— 此项封顶"
    return Row(CAPS.get(name, name), yuan(entry.get("value")), text, "bound" if bound else "")


def _uplift(name: str, entry: dict, names: dict[str, str], prefix: str = "上浮") -> Row:
    detail = entry.get("detail") or {}
    applies = bool(detail.get("applies"))
    conditions = "；".join(_condition(str(c), names) for c in detail.get("conditions") or [])
    verdict = (f"适用，比例 {detail['combine']}" if detail.get("combine") else "适用") if applies else "不适用"
    return Row(f"{prefix}：{detail.get('label') or name}", str(entry.get("value")), f"{verdict}。{conditions}",
               "applied" if applies else "skipped")


def rows(trace: list[dict], list_names: dict[str, str] | None = None) -> list[Row]:
    """The trace as table rows, in the engine's order; the inputs step is shown with the facts instead."""
    names = list_names or {}
    result = []
    for entry in trace or []:
        name = str(entry.get("step", ""))
        value, detail = entry.get("value"), entry.get("detail")
        if name == "inputs":
            continue
        if name.startswith("tier:"):
            result.append(_uplift(name[5:], entry, names, prefix="档次"))
        elif name == "segment" and isinstance(detail, dict):
            result.append(Row(STEPS["segment"], f"{value} 元", f"{detail.get('from')} 至 {detail.get('to')}，LPR "
                              f"{detail.get('lpr')}，利率上限 {detail.get('rate_ceiling') or '无'}；"
                              f"{_cn(str(detail.get('note', '')))}"))
        elif name.startswith("cap:"):
            result.append(_cap(name[4:], entry))
        elif name.startswith("uplift:"):
            result.append(_uplift(name[7:], entry, names))
        elif name == "rule":
            source = str((detail or {}).get("source", ""))
            result.append(Row("适用规则", str(value), f"依据：{source[:80]}{'…' if len(source) > 80 else ''}"))
        elif name == "ceiling":
            bound = bool((detail or {}).get("bound"))
            result.append(Row("补偿比例上限", str(value), f"上限 {(detail or {}).get('ceiling')}"
                              + ("，比例被封顶" if bound else "，未触及上限"), "bound" if bound else ""))
        elif name == "amount":
            binding = str(detail or "")
            why = "无限额封顶" if binding in ("", "no cap bound") else \
                f"受「{CAPS.get(binding.removeprefix('bound by '), binding)}」封顶"
            result.append(Row("核定金额", yuan(value), why, "result"))
        else:
            shown = value if not isinstance(value, dict) else "，".join(f"{k} ¥{v}" for k, v in value.items())
            shown = yuan(shown) if "fen" in entry and not isinstance(value, dict) else str(shown if shown is not None else "—")
            text = detail if not isinstance(detail, dict) else "，".join(f"{k}: {v}" for k, v in detail.items())
            result.append(Row(STEPS.get(name, name), shown, _cn(str(text or ""))))
    return result


def run_counts(counts: dict, prefix: str = "") -> list[str]:
    """A job run's counts as lines a person reads: nested keys joined by " · ", amounts in fen shown in yuan."""
    lines = []
    for key, value in counts.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            lines.extend(run_counts(value, f"{name} · ") if value else [f"{name}: —"])
        elif key.endswith("_fen") and type(value) is int:
            lines.append(f"{name.removesuffix('_fen')}: {yuan(value)}")
        elif isinstance(value, list):
            lines.append(f"{name}: {', '.join(map(str, value)) or '—'}")
        else:
            lines.append(f"{name}: {value}")
    return lines
