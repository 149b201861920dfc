"""PAdES signatures on issued statements (pyHanko): the bureau's certificate, a visible seal, and verification.

Every issued PDF carries one approval signature (ETSI.CAdES.detached, SHA-256) in a field placed
over the issuer's seal box of the signature block; its appearance is a small page drawn with
reportlab in the statement's CJK font (the seal, the signer, the signing time, DEMO when it is one).
Any PDF reader, poppler's pdfsig and pyHanko's validator check it against the bureau's CA, so a bank
can verify a statement it was e-mailed without asking the server.
"""
from __future__ import annotations

import binascii
import datetime as dt
import io
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.pdf_utils import content, generic, layout
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import ValidationContext
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as rl_canvas

from claims.settings import Settings
from reports.demo_ca import DEMO_SIGNER_NAME, ensure_demo_credentials
from reports.fonts import register_cjk_font
from reports.pdf_layout import SealBox

FIELD_NAME = "BureauSeal"
SIGNATURE_BYTES = 8192  # room for the CMS signature: the signer's and the CA's certificates and an RSA-4096 value
SEAL_RED = colors.HexColor("#c8102e")


class SigningNotConfigured(RuntimeError):
    """No signing certificate: production needs CLAIMS_SIGNING_P12 and CLAIMS_SIGNING_PASSWORD."""


@dataclass(frozen=True)
class Credentials:
    """The signing certificate's PKCS#12 file, its password, the trust root(s) to verify against, and if demo."""

    p12: Path
    password: str
    ca_pem: Path | None
    demo: bool


def credentials(settings: Settings) -> Credentials:
    """The configured certificate; in development and test the demo one (created on first use)."""
    if settings.signing_p12:
        ca = Path(settings.signing_ca) if settings.signing_ca else None
        return Credentials(Path(settings.signing_p12), settings.signing_password, ca, demo=settings.demo_signing)
    if not settings.demo_signing:
        raise SigningNotConfigured("statements must be signed: set CLAIMS_SIGNING_P12 and CLAIMS_SIGNING_PASSWORD "
                                   "(the bureau's PKCS#12 certificate) and CLAIMS_SIGNING_CA")
    demo, _ = ensure_demo_credentials(settings.data_dir)
    return Credentials(demo.p12, demo.password, demo.ca_pem, demo=True)


class _KeptKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner, keeping the RSA key it parsed instead of re-parsing (and re-checking) it per signature.

    Loading an RSA key with cryptography's consistency checks costs ~0.3 s: once per run, not per statement.
    """

    _pyca_key = None

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        if self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo != "rsassa_pkcs1v15":
            return super().sign_raw(data, digest_algorithm)
        if self._pyca_key is None:
            self._pyca_key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
        return self._pyca_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))


@lru_cache(maxsize=4)
def _signer(p12: Path, password: str, mtime: float) -> signers.SimpleSigner:
    # Cached per file and modification time: a job run signs a hundred statements with one key.
    loaded = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=password.encode() or None)
    if loaded is None:
        raise SigningNotConfigured(f"{p12}: not a PKCS#12 file with a key and certificate, or a wrong password")
    return _KeptKeySigner(signing_cert=loaded.signing_cert, signing_key=loaded.signing_key,
                          cert_registry=loaded.cert_registry)


def signer_for(creds: Credentials) -> signers.SimpleSigner:
    """pyHanko's signer for the credentials (a wrong password or file is a SigningNotConfigured)."""
    if not creds.p12.is_file():
        raise SigningNotConfigured(f"signing certificate {creds.p12} does not exist")
    return _signer(creds.p12, creds.password, creds.p12.stat().st_mtime)


class _PdfBytesPage(content.ImportedPdfPage):
    """pyHanko's imported-page content, from bytes in memory instead of a file."""

    def __init__(self, data: bytes):
        super().__init__(file_name="")
        self._data = data

    def render(self) -> bytes:
        xobj = self._ensure_writer.import_page_as_xobject(PdfFileReader(io.BytesIO(self._data)), page_ix=0)
        name = b"/Import" + binascii.hexlify(uuid.uuid4().bytes)
        self.resources.xobject[name.decode("ascii")] = xobj
        x1, y1, x2, y2 = xobj.get_object()["/BBox"]
        self.box = layout.BoxConstraints(width=abs(x1 - x2), height=abs(y1 - y2))
        return name + b" Do"


class _FlatPagesWriter(IncrementalPdfFileWriter):
    """pyHanko's incremental writer, finding a page of a flat page tree (as reportlab writes) by its index."""

    def find_page_for_modification(self, page_ix):
        """The page's reference and resources, read from the one /Pages node's /Kids without opening the others."""
        # pyHanko's own walk opens every page before the one asked for: ~10 ms for the last of 45 pages,
        # where the seal box is, per statement signed.
        pages = self.root.raw_get("/Pages").get_object()
        kids = pages["/Kids"]
        if len(kids) != pages["/Count"] or not -len(kids) <= page_ix < len(kids):
            return super().find_page_for_modification(page_ix)
        ref = kids.raw_get(page_ix)
        page = ref.get_object() if isinstance(ref, generic.IndirectObject) else None
        if page is None or page.get("/Type") != "/Page":
            return super().find_page_for_modification(page_ix)
        for node in (page, pages):
            if "/Resources" in node:
                return ref, node.raw_get("/Resources")
        return ref, generic.DictionaryObject()


def seal_appearance(width: float, height: float, *, issuer: str, signer: str, at: dt.datetime, demo: bool) -> bytes:
    """The seal's look as a one-page PDF of the box's size: a red seal with the issuer, and who signed when."""
    font = register_cjk_font()
    buffer = io.BytesIO()
    page = rl_canvas.Canvas(buffer, pagesize=(width, height), invariant=1, initialFontName=font)
    radius = min(height / 2 - 1.5, 13 * mm)
    cx, cy = radius + 2, height / 2
    page.setStrokeColor(SEAL_RED)
    page.setFillColor(SEAL_RED)
    page.setLineWidth(1.6)
    page.circle(cx, cy, radius)
    size = min(7.0, 1.6 * radius / max(len(issuer), 1))  # the issuer's name fits across the seal
    page.setFont(font, size)
    page.drawCentredString(cx, cy + radius * 0.35, issuer)
    page.setFont(font, 11)
    page.drawCentredString(cx, cy - 4, "★")
    page.setFont(font, 6)
    page.drawCentredString(cx, cy - radius * 0.55, "电子签章（演示）" if demo else "电子签章")
    page.setFillColor(colors.HexColor("#333333"))
    left, line = cx + radius + 3, height - 9
    for size, text in ((7, "数字签名 PAdES · SHA-256"), (6.5, f"签章人：{signer}"),
                       (6.5, f"签署时间：{at:%Y-%m-%d %H:%M:%S}（北京时间）"),
                       (6, "可用任一 PDF 阅读器或 pdfsig 验证"), (6, "演示证书，非真实电子签章" if demo else "")):
        if text:
            page.setFont(font, size)
            page.drawString(left, line, text)
            line -= size + 3.2
    page.showPage()
    page.save()
    return buffer.getvalue()


def _common_name(signer: signers.SimpleSigner) -> str:
    return signer.signing_cert.subject.native.get("common_name", DEMO_SIGNER_NAME)


def sign_statement(data: bytes, *, creds: Credentials, seal: SealBox, issuer: str, reason: str,
                   now: dt.datetime | None = None, timezone: str = "Asia/Shanghai") -> bytes:
    """The PDF with the bureau's PAdES signature added (incrementally) in a visible field over the seal box."""
    signer = signer_for(creds)
    at = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(timezone))
    width, height = seal.x2 - seal.x1, seal.y2 - seal.y1
    look = seal_appearance(width, height, issuer=issuer, signer=_common_name(signer), at=at, demo=creds.demo)
    writer = _FlatPagesWriter(io.BytesIO(data), strict=False)
    meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES, reason=reason,
                                        location=issuer, name=_common_name(signer))
    spec = fields.SigFieldSpec(sig_field_name=FIELD_NAME, on_page=seal.page,
                               box=(round(seal.x1), round(seal.y1), round(seal.x2), round(seal.y2)))
    pdf_signer = signers.PdfSigner(meta, signer=signer, new_field_spec=spec,
                                   stamp_style=StaticStampStyle(background=_PdfBytesPage(look), border_width=0))
    out = io.BytesIO()
    # A reserved size skips pyHanko's dry run (a whole second signature) that would only measure the CMS blob.
    pdf_signer.sign_pdf(writer, output=out, bytes_reserved=SIGNATURE_BYTES)
    return out.getvalue()


@dataclass(frozen=True)
class SignatureCheck:
    """What validating a statement's signature found."""

    signed: bool
    intact: bool  # the signed bytes are unchanged (digest matches)
    valid: bool  # the cryptographic signature checks out
    trusted: bool  # the signer's certificate chains to a trust root
    covers_whole_file: bool
    signer: str = ""
    signed_at: dt.datetime | None = None
    summary: str = ""


def trust_roots(creds: Credentials) -> list[asn1_x509.Certificate]:
    """The CA certificates a signature is validated against."""
    if creds.ca_pem is None or not creds.ca_pem.is_file():
        return []
    roots = []
    for _, _, der in asn1_pem.unarmor(creds.ca_pem.read_bytes(), multiple=True):
        roots.append(asn1_x509.Certificate.load(der))
    return roots


def check_signature(data: bytes, roots: list[asn1_x509.Certificate]) -> SignatureCheck:
    """Validate the PDF's (last) signature with pyHanko against the given trust roots."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = reader.embedded_signatures
    except Exception as exc:  # noqa: BLE001 - an unreadable file is an unsigned one, said plainly
        return SignatureCheck(False, False, False, False, False, summary=f"不是可读的 PDF：{exc}")
    if not embedded:
        return SignatureCheck(False, False, False, False, False, summary="文件未签名")
    sig = embedded[-1]
    try:
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=roots, allow_fetching=False))
    except Exception as exc:  # noqa: BLE001 - a malformed signature fails validation, not the request
        return SignatureCheck(True, False, False, False, False, summary=f"签名无法解析：{exc}")
    signer = status.signing_cert.subject.native.get("common_name", "") if status.signing_cert else ""
    whole = sig.coverage is not None and sig.coverage.name == "ENTIRE_FILE"
    return SignatureCheck(True, bool(status.intact), bool(status.valid), bool(status.trusted), whole, signer,
                          status.signer_reported_dt, status.summary())
