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

HERE = Path(__file__).resolve().parent

# GB 11714 organisation-code check: weights over the 8-character body, MOD 11, 10 -> X.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# The body must also fit the USCC alphabet, since it becomes USCC positions 9-16.
ORG_BODY_ALPHABET = USCC_ALPHABET

CATEGORIES = [
    ("high_tech", "国家高新技术企业", "高新技术企业证书自颁发之日起有效期3年"),
    ("tech_sme", "科技型中小企业", "每年评价入库，入库登记编号当年有效（至12月31日，本演示数据的假设）"),
    ("specialized", "专精特新中小企业", "省级认定，有效期3年"),
    ("little_giant", "专精特新“小巨人”企业", "工业和信息化部认定，有效期3年"),
    ("innovative_sme", "创新型中小企业", "省级评价，有效期3年"),
    ("ningbo_whitelist", "宁波科技信贷白名单", "宁波市科技局按年度发布，当年有效"),
    ("strategic_emerging", "战略性新兴产业信贷项目名单", "按批次发布，项目名单有效期1年（本演示数据的假设）"),
]

# code, kind, name, short name, division code used in the USCC
INSTITUTIONS = [
    ("BANK_A", "bank", "示例科技银行股份有限公司深圳分行", "示例科技银行深圳分行", "440300"),
    ("BANK_B", "bank", "示例兴业发展银行股份有限公司深圳南山支行", "示例兴业发展银行南山支行", "440305"),
    ("BANK_C", "bank", "示例甬商银行股份有限公司宁波分行", "示例甬商银行宁波分行", "330200"),
    ("BANK_D", "bank", "示例蜀都农村商业银行股份有限公司成都高新支行", "示例蜀都农商行高新支行", "510100"),
    ("INS_A", "insurer", "示例安信财产保险股份有限公司深圳分公司", "示例安信财险深圳分公司", "440300"),
    ("GUA_A", "guarantor", "深圳市示例鹏城融资担保有限公司", "示例鹏城担保", "440300"),
    ("GUA_B", "guarantor", "广东省示例融资再担保有限公司", "示例省再担保", "440000"),
]

# district label -> division code that appears in the USCC of firms registered there
DISTRICTS = {
    "深圳市南山区": "440305",
    "深圳市福田区": "440304",
    "深圳市罗湖区": "440303",
    "深圳市宝安区": "440306",
    "深圳市龙岗区": "440307",
    "深圳市龙华区": "440309",
    "深圳市坪山区": "440310",
    "深圳市光明区": "440311",
    "宁波市鄞州区": "330212",
    "宁波市北仑区": "330206",
    "宁波市海曙区": "330203",
    "成都高新区": "510100",
}

# brand (字号), business line for the name, industry, size, district
ENTERPRISES = [
    ("星河", "微电子科技", "集成电路", "small", "深圳市南山区"),
    ("蓝湾", "智能装备", "智能制造", "medium", "深圳市宝安区"),
    ("云帆", "软件技术", "软件和信息技术服务", "micro", "深圳市南山区"),
    ("青松", "生物医药科技", "生物医药", "small", "深圳市坪山区"),
    ("鹏翼", "无人机科技", "航空航天", "medium", "深圳市龙华区"),
    ("晨曦", "新能源科技", "新能源", "small", "深圳市龙岗区"),
    ("海纳", "数据科技", "人工智能", "micro", "深圳市福田区"),
    ("芯源", "半导体", "集成电路", "medium", "深圳市南山区"),
    ("光启", "光电技术", "新一代信息技术", "small", "深圳市光明区"),
    ("安和", "医疗器械", "医疗器械", "small", "深圳市坪山区"),
    ("翠微", "新材料科技", "新材料", "micro", "深圳市宝安区"),
    ("远航", "物联网技术", "新一代信息技术", "small", "深圳市龙岗区"),
    ("锦程", "机器人", "智能制造", "medium", "深圳市龙华区"),
    ("瑞丰", "精密制造", "高端装备", "small", "深圳市宝安区"),
    ("启明", "信息安全技术", "软件和信息技术服务", "micro", "深圳市福田区"),
    ("华岳", "储能科技", "新能源", "medium", "深圳市龙岗区"),
    ("清源", "环保科技", "节能环保", "small", "深圳市光明区"),
    ("思远", "人工智能科技", "人工智能", "small", "深圳市南山区"),
    ("嘉禾", "基因科技", "生物医药", "micro", "深圳市南山区"),
    ("恒信", "金融信息服务", "软件和信息技术服务", "small", "深圳市福田区"),
    ("卓越", "传感技术", "新一代信息技术", "micro", "深圳市南山区"),
    ("凌云", "卫星通信", "航空航天", "small", "深圳市南山区"),
    ("汇智", "教育科技", "软件和信息技术服务", "micro", "深圳市罗湖区"),
    ("盛景", "显示技术", "新一代信息技术", "medium", "深圳市光明区"),
    ("沐光", "光伏科技", "新能源", "small", "深圳市坪山区"),
    ("博雅", "检测技术", "科技服务", "micro", "深圳市罗湖区"),
    ("天工", "激光设备", "高端装备", "small", "深圳市宝安区"),
    ("泓润", "化学材料", "新材料", "small", "深圳市坪山区"),
    ("鼎新", "工业软件", "软件和信息技术服务", "small", "深圳市龙华区"),
    ("鸿图", "电子商务", "数字经济", "micro", "深圳市龙岗区"),
    ("拓界", "汽车电子", "新能源汽车", "medium", "深圳市龙岗区"),
    ("曜石", "芯片封测", "集成电路", "small", "深圳市宝安区"),
    ("禾木", "农业科技", "现代农业", "micro", "深圳市光明区"),
    ("银杉", "医学影像", "医疗器械", "small", "深圳市南山区"),
    ("澄明", "光学科技", "新一代信息技术", "micro", "深圳市福田区"),
    ("方舟", "电池材料", "新能源", "large", "深圳市坪山区"),
    ("聚能", "电源技术", "新能源", "small", "深圳市宝安区"),
    ("易联", "通信技术", "新一代信息技术", "small", "深圳市南山区"),
    ("长风", "海洋科技", "海洋经济", "micro", "深圳市福田区"),
    ("鹤鸣", "声学科技", "新一代信息技术", "micro", "深圳市龙华区"),
    ("甬江", "模具科技", "高端装备", "small", "宁波市北仑区"),
    ("东钱湖", "智能家电", "智能制造", "medium", "宁波市鄞州区"),
    ("四明", "新材料", "新材料", "small", "宁波市海曙区"),
    ("天一", "软件科技", "软件和信息技术服务", "micro", "宁波市鄞州区"),
    ("港城", "汽车零部件", "新能源汽车", "small", "宁波市北仑区"),
    ("锦江", "信息技术", "软件和信息技术服务", "small", "成都高新区"),
    ("天府", "生物技术", "生物医药", "micro", "成都高新区"),
    ("蓉芯", "集成电路设计", "集成电路", "small", "成都高新区"),
    ("青城", "游戏科技", "数字经济", "micro", "成都高新区"),
    ("岷山", "无人系统", "航空航天", "medium", "成都高新区"),
]

# revenue range in yuan by size (GB-style SME thresholds for industry, simplified)
REVENUE_RANGE = {
    "micro": (800_000, 3_000_000),
    "small": (3_000_000, 20_000_000),
    "medium": (20_000_000, 400_000_000),
    "large": (400_000_000, 2_000_000_000),
}

# name, area code, birth date, sequence; sequences 996-999 are the ones reserved for
# centenarians, so a structurally valid number for a younger person is unlikely to be anyone's.
INDIVIDUALS = [
    ("张示例", "440305", "19900307", "997"),
    ("李示例", "440304", "19881115", "998"),
    ("王示例", "330203", "19950620", "996"),
    ("陈示例", "510107", "19920901", "999"),
    ("刘示例", "440306", "19980214", "997"),
]


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
