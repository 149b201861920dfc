"""Chinese identifiers: the unified social credit code (USCC) and the resident ID number.

USCC (统一社会信用代码, GB 32100-2015 with its 2016 amendment): 18 characters from the alphabet
0-9 A-H J-N P-R T-U W-Y (no I, O, Z, S, V). Position 1 is the registration-authority code, 2 the
entity type within that authority, 3-8 the administrative division code of the registering office
(GB/T 2260, digits), 9-17 the organisation code (GB 11714) and 18 the MOD-31 check character.

python-stdnum's ``stdnum.cn.uscc.validate`` insists on digits in positions 1-8, which rejects
real codes such as ``N2...`` (village collective economic organisations) or ``Y1...``; so we check
the structure ourselves against the standard's table and use stdnum only for the check character.
Resident IDs (GB 11643) are delegated to ``stdnum.cn.ric`` entirely.
"""

from __future__ import annotations

import unicodedata

from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_LENGTH = 18
RESIDENT_ID_LENGTH = 18

# GB 32100-2015 table 1 (registration authority → its entity-type codes), as amended in 2016
# (A: military reform and staffing office) and extended for agriculture (N). Y ("other") has a
# single category 1. Extend here, not in callers, when the standards body adds an authority.
USCC_AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": ("司法行政", {"1": "律师执业机构", "2": "公证处", "3": "基层法律服务所", "4": "司法鉴定机构",
                   "5": "仲裁委员会", "9": "其他"}),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": ("旅游", {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"}),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": ("农业", {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"}),
    "Y": ("其他", {"1": "其他"}),
}


class IdentifierError(ValueError):
    """An identifier failed validation; ``code`` is stable for API clients, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _normalise(value: str, code_prefix: str, label: str) -> str:
    """Strip surrounding whitespace and upper-case, refusing full-width characters by name."""
    if not isinstance(value, str):
        raise IdentifierError(f"{code_prefix}_type", f"{label} must be text, got {type(value).__name__}")
    text = value.strip()
    for position, char in enumerate(text, start=1):
        # Full-width digits/letters come from Chinese input methods; silently folding them would
        # hide a typing problem the user should see and fix at the source.
        if unicodedata.east_asian_width(char) == "F":
            raise IdentifierError(
                f"{code_prefix}_fullwidth",
                f"{label} contains the full-width character {char!r} at position {position}; "
                "type it with half-width (ASCII) letters and digits",
            )
    return text.upper()


def uscc_check_digit(first17: str) -> str:
    """Return the GB 32100 MOD-31 check character for the first 17 characters of a USCC."""
    body = _normalise(first17, "uscc", "USCC body")
    if len(body) != USCC_LENGTH - 1:
        raise IdentifierError("uscc_length", f"a USCC body has 17 characters, got {len(body)}")
    _check_charset(body)
    return stdnum_uscc.calc_check_digit(body)


def make_uscc(first17: str) -> str:
    """Complete 17 characters into a full USCC with its check character (for demo and test data)."""
    body = _normalise(first17, "uscc", "USCC body")
    code = body + uscc_check_digit(body)
    return validate_uscc(code)


def _check_charset(text: str) -> None:
    for position, char in enumerate(text, start=1):
        if char not in USCC_ALPHABET:
            hint = " (I, O, Z, S and V are never used)" if char in "IOZSV" else ""
            raise IdentifierError(
                "uscc_charset",
                f"USCC character {char!r} at position {position} is not allowed{hint}",
            )


def validate_uscc(value: str) -> str:
    """Return the canonical USCC (stripped, upper-case) or raise IdentifierError saying what is wrong."""
    code = _normalise(value, "uscc", "USCC")
    if len(code) != USCC_LENGTH:
        raise IdentifierError("uscc_length", f"a USCC has 18 characters, got {len(code)}")
    _check_charset(code)
    authority = USCC_AUTHORITIES.get(code[0])
    if authority is None:
        raise IdentifierError(
            "uscc_authority",
            f"USCC position 1 {code[0]!r} is not a registration-authority code of GB 32100",
        )
    authority_name, entity_types = authority
    if code[1] not in entity_types:
        raise IdentifierError(
            "uscc_entity_type",
            f"USCC position 2 {code[1]!r} is not an entity type of authority {code[0]} ({authority_name})",
        )
    if not code[2:8].isdigit():
        raise IdentifierError(
            "uscc_division",
            f"USCC positions 3-8 {code[2:8]!r} must be a six-digit administrative division code",
        )
    expected = stdnum_uscc.calc_check_digit(code[:17])
    if code[17] != expected:
        raise IdentifierError(
            "uscc_check_digit",
            f"USCC check character is {code[17]!r} but the first 17 characters give {expected!r}; "
            "the code was probably mistyped",
        )
    return code


def uscc_entity_kind(value: str) -> str:
    """Describe a valid USCC's authority and entity type in Chinese, e.g. "工商 / 企业"."""
    code = validate_uscc(value)
    authority_name, entity_types = USCC_AUTHORITIES[code[0]]
    return f"{authority_name} / {entity_types[code[1]]}"


_RIC_ERRORS: dict[type[Exception], tuple[str, str]] = {
    stdnum_exceptions.InvalidLength: ("resident_id_length", "a resident ID has 18 characters"),
    stdnum_exceptions.InvalidFormat: (
        "resident_id_charset",
        "a resident ID is 17 digits followed by a digit or X",
    ),
    stdnum_exceptions.InvalidChecksum: (
        "resident_id_check_digit",
        "the resident ID check character does not match (MOD 11-2); the number was probably mistyped",
    ),
}


def validate_resident_id(value: str) -> str:
    """Return the canonical 18-character resident ID (GB 11643) or raise IdentifierError."""
    number = _normalise(value, "resident_id", "resident ID")
    if len(number) != RESIDENT_ID_LENGTH:
        raise IdentifierError(
            "resident_id_length", f"a resident ID has 18 characters, got {len(number)}"
        )
    try:
        return stdnum_ric.validate(number)
    except stdnum_exceptions.InvalidComponent:
        # stdnum raises the same exception for an impossible birth date and an unknown area code.
        try:
            stdnum_ric.get_birth_date(number)
        except stdnum_exceptions.InvalidComponent:
            raise IdentifierError(
                "resident_id_birth_date",
                f"resident ID positions 7-14 {number[6:14]!r} are not a real birth date",
            ) from None
        raise IdentifierError(
            "resident_id_area_code",
            f"resident ID positions 1-6 {number[:6]!r} are not an area code in use at that birth date",
        ) from None
    except stdnum_exceptions.ValidationError as exc:
        code, message = _RIC_ERRORS.get(type(exc), ("resident_id_invalid", "the resident ID is not valid"))
        raise IdentifierError(code, message) from None
