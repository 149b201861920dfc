"""Regenerate the demo reference CSVs in this folder, byte for byte the same on every run.

Run: ``.venv/bin/python seeds/generate.py``. Every name contains "示例" so nobody mistakes a demo
firm for a real one; every USCC and resident ID passes its check digit (workflows.identifiers).
Values that look random are derived from SHA-256 of the firm's name, never from ``random``.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import sys
from pathlib import Path

from stdnum.cn import ric

from workflows.identifiers import USCC_ALPHABET, make_uscc, validate_resident_id

# Run as a script, so Python has put this folder first on sys.path: the sibling module imports as it is.
from demo_catalogue import CATEGORIES, DISTRICTS, ENTERPRISES, INDIVIDUALS, INSTITUTIONS, REVENUE_RANGE

HERE = Path(__file__).resolve().parent

# GB 11714 organisation-code check: weights over the 8-character body, MOD 11, 10 -> X.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# The body must also fit the USCC alphabet, since it becomes USCC positions 9-16.
ORG_BODY_ALPHABET = USCC_ALPHABET

def digest(*parts: str) -> int:
    """Stable integer derived from text, so regenerated files never change."""
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big")


def org_code(seed: str) -> str:
    """A GB 11714 organisation code (8-character body + MOD-11 check) in the post-2015 "MA" style."""
    number = digest("org", seed)
    body = "MA"
    for _ in range(6):
        number, index = divmod(number, len(ORG_BODY_ALPHABET))
        body += ORG_BODY_ALPHABET[index]
    total = sum(int(char, 36) * weight for char, weight in zip(body, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def uscc_for(name: str, division: str) -> str:
    """The enterprise USCC (authority 9, type 1) for a firm registered in ``division``."""
    return make_uscc("91" + division + org_code(name))


def firm_name(brand: str, business: str, district: str) -> str:
    if district == "成都高新区":
        prefix = "成都"
    else:
        prefix = district[:3]
    return f"{prefix}示例{brand}{business}有限公司"


def revenue(name: str, size: str) -> str:
    low, high = REVENUE_RANGE[size]
    fen = low * 100 + digest("revenue", name) % ((high - low) * 100)
    return f"{fen // 100}.{fen % 100:02d}"


def add_years(day: datetime.date, years: int) -> datetime.date:
    return day.replace(year=day.year + years)


def three_years(issued: datetime.date) -> datetime.date:
    """Last valid day of a 3-year certificate issued on ``issued``."""
    return add_years(issued, 3) - datetime.timedelta(days=1)


def enterprises() -> list[dict[str, str]]:
    rows = []
    for brand, business, industry, size, district in ENTERPRISES:
        name = firm_name(brand, business, district)
        # Most Shenzhen firms are registered by the city bureau (440300), some by a district office.
        division = DISTRICTS[district]
        if district.startswith("深圳") and digest("division", name) % 3:
            division = "440300"
        rows.append(
            {
                "uscc": uscc_for(name, division),
                "name": name,
                "size": size,
                "annual_revenue": revenue(name, size),
                "district": district,
                "industry": industry,
            }
        )
    return rows


def memberships(firms: list[dict[str, str]]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []

    def add(firm, category, valid_from, valid_to, certificate_no, source):
        rows.append(
            {
                "uscc": firm["uscc"],
                "category": category,
                "valid_from": valid_from.isoformat(),
                "valid_to": valid_to.isoformat(),
                "certificate_no": certificate_no,
                "source": source,
            }
        )

    shenzhen = [f for f in firms if f["district"].startswith("深圳")]
    ningbo = [f for f in firms if f["district"].startswith("宁波")]
    chengdu = [f for f in firms if f["district"] == "成都高新区"]
    province = {"深圳": "44", "宁波": "33", "成都": "51"}

    def gr_number(firm, year):
        return f"GR{year}{province[firm['district'][:2]]}2{digest('gr', firm['uscc'], str(year)) % 10000:04d}"

    # High-tech certificates, 3 years each, issued in December batches.
    for index, firm in enumerate(shenzhen[:15] + ningbo[:3] + chengdu[:2]):
        year = (2022, 2023, 2024)[index % 3]
        issued = datetime.date(year, 12, (12, 19, 26)[index % 3])
        add(firm, "high_tech", issued, three_years(issued), gr_number(firm, year),
            f"{year}年高新技术企业认定名单（示例）")
    # Renewal chain: 2019 certificate followed by 2022 renewal, no gap.
    firm = shenzhen[0]
    add(firm, "high_tech", datetime.date(2019, 12, 12), three_years(datetime.date(2019, 12, 12)),
        gr_number(firm, 2019), "2019年高新技术企业认定名单（示例）")
    # Lapsed: a 2021 certificate that ran out on 2024-12-14 and was not renewed until 2025-12-10.
    firm = shenzhen[25]
    add(firm, "high_tech", datetime.date(2021, 12, 15), three_years(datetime.date(2021, 12, 15)),
        gr_number(firm, 2021), "2021年高新技术企业认定名单（示例）")
    add(firm, "high_tech", datetime.date(2025, 12, 10), three_years(datetime.date(2025, 12, 10)),
        gr_number(firm, 2025), "2025年高新技术企业认定名单（示例）")
    # Edge for "expired the day before" demos: last valid day 2025-06-30.
    firm = shenzhen[26]
    add(firm, "high_tech", datetime.date(2022, 7, 1), datetime.date(2025, 6, 30),
        gr_number(firm, 2022), "2022年高新技术企业认定名单（第一批，示例）")

    # Technology-based SME registrations, one per calendar year.
    for index, firm in enumerate(shenzhen[2:14]):
        for year in (2024, 2025) if index % 2 == 0 else (2025,):
            registered = datetime.date(year, 4 + index % 5, 10 + index % 15)
            number = f"{year}{firm['uscc'][2:8]}A{digest('tsme', firm['uscc'], str(year)) % 10**7:07d}"
            add(firm, "tech_sme", registered, datetime.date(year, 12, 31), number,
                f"{year}年科技型中小企业入库名单（示例）")

    # Provincial specialised-and-sophisticated SMEs, 3 years.
    for index, firm in enumerate(shenzhen[:10] + ningbo[:2] + chengdu[:1]):
        year = 2023 if index % 2 else 2024
        start = datetime.date(year, 1, 1) + datetime.timedelta(days=30 + index * 7)
        add(firm, "specialized", start, three_years(start),
            f"ZJTX-{province[firm['district'][:2]]}-{year}-{digest('zjtx', firm['uscc']) % 10000:04d}",
            f"{year}年专精特新中小企业名单（示例）")

    # National "little giants", 3 years.
    for index, firm in enumerate([shenzhen[1], shenzhen[7], shenzhen[12], ningbo[1], chengdu[4]]):
        start = datetime.date(2023, 7, 1) if index % 2 else datetime.date(2024, 8, 1)
        add(firm, "little_giant", start, three_years(start), "",
            f"工业和信息化部第{'五' if index % 2 else '六'}批专精特新“小巨人”企业名单（示例）")

    # Innovative SMEs, 3 years.
    for index, firm in enumerate(shenzhen[28:36]):
        start = datetime.date(2023 + index % 3, 6, 15)
        add(firm, "innovative_sme", start, three_years(start),
            f"CXX-44-{start.year}-{digest('cxx', firm['uscc']) % 100000:05d}",
            f"{start.year}年创新型中小企业名单（示例）")

    # Ningbo tech-credit white list, one list per year.
    for firm in ningbo:
        for year in (2024, 2025):
            add(firm, "ningbo_whitelist", datetime.date(year, 3, 1), datetime.date(year, 12, 31), "",
                f"{year}年宁波市科技信贷白名单（示例）")

    # Strategic emerging industry credit project list (Chengdu high-tech zone).
    for firm in chengdu[:3]:
        add(firm, "strategic_emerging", datetime.date(2025, 1, 15), datetime.date(2026, 1, 14), "",
            "2025年战略性新兴产业信贷项目名单（第一批，示例）")
    return rows


def individuals() -> list[dict[str, str]]:
    rows = []
    for name, area, birth, sequence in INDIVIDUALS:
        body = area + birth + sequence
        # stdnum's calc_check_digit expects a full-length number and ignores its last character.
        number = body + ric.calc_check_digit(body + "0")
        rows.append({"resident_id": validate_resident_id(number), "name": name})
    return rows


def render(header: list[str], rows: list[dict[str, str]]) -> bytes:
    """CSV text (UTF-8, LF line ends) for one seed file."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def build() -> dict[str, bytes]:
    """Every seed file's name and content."""
    files: dict[str, bytes] = {}

    def write(filename: str, header: list[str], rows: list[dict[str, str]]) -> None:
        files[filename] = render(header, rows)

    write("categories.csv", ["code", "name", "validity_note"],
          [{"code": c, "name": n, "validity_note": v} for c, n, v in CATEGORIES])
    write("institutions.csv", ["code", "kind", "name", "uscc", "short_name"],
          [{"code": code, "kind": kind, "name": name, "uscc": uscc_for(name, division), "short_name": short}
           for code, kind, name, short, division in INSTITUTIONS])
    firms = enterprises()
    write("enterprises.csv", ["uscc", "name", "size", "annual_revenue", "district", "industry"], firms)
    write("list_memberships.csv", ["uscc", "category", "valid_from", "valid_to", "certificate_no", "source"],
          memberships(firms))
    write("individuals.csv", ["resident_id", "name"], individuals())
    return files


def main(argv: list[str]) -> int:
    """Write the seed CSVs, or with --check report whether the committed ones are up to date."""
    files = build()
    if "--check" in argv:
        stale = [name for name, data in files.items() if (HERE / name).read_bytes() != data]
        for name in stale:
            print(f"seeds/{name} differs from what seeds/generate.py produces")
        return 1 if stale else 0
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
