"""Certificate number formats, in one place: what each type's number looks like, and its normal form.

- Halal (BPJPH): "ID" followed by digits, e.g. ID112100009882540924. A *Ketetapan Halal* (KH) decision
  number is not a certificate: certification is not finished, so it is refused.
- BPOM: "MD" (domestic) or "ML" (imported) followed by 12 digits, often written "BPOM RI MD 234567890123".
- P-IRT: 15 digits, written 1234567890123-45.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from shop.certification.models import Certification, CertType

_HALAL = re.compile(r"ID\d{14,20}")
_BPOM = re.compile(r"(?:BPOM\s*RI\s*)?(MD|ML)\s*(\d{12})")
_PIRT = re.compile(r"(\d{13})-?(\d{2})")

EXPECTED_FORM = {
    CertType.HALAL: _l("ID followed by digits, like ID311100000000000001"),
    CertType.BPOM_MD: _l("MD followed by 12 digits, like MD 234567890123"),
    CertType.BPOM_ML: _l("ML followed by 12 digits, like ML 234567890123"),
    CertType.PIRT: _l("15 digits, like 2097271010001-29"),
}


class InvalidNumber(ValueError):
    """The number does not have its type's form; `expected` says what the form is."""

    def __init__(self, cert_type: CertType, reason: str = "form") -> None:
        super().__init__(cert_type.value)
        self.cert_type = cert_type
        self.reason = reason  # "form", or "kh" for a halal decision number given as a certificate

    @property
    def expected(self) -> str:
        return str(EXPECTED_FORM[self.cert_type])


def normalise(cert_type: CertType, raw: str) -> str:
    """The number in its normal form, or InvalidNumber."""
    compact = re.sub(r"[\s.]+", " ", (raw or "").strip().upper())
    if cert_type is CertType.HALAL:
        value = compact.replace(" ", "")
        if value.startswith("KH"):
            raise InvalidNumber(cert_type, "kh")
        if not _HALAL.fullmatch(value):
            raise InvalidNumber(cert_type)
        return value
    if cert_type in (CertType.BPOM_MD, CertType.BPOM_ML):
        match = _BPOM.fullmatch(compact.replace(" ", ""))
        wanted = "MD" if cert_type is CertType.BPOM_MD else "ML"
        if not match or match.group(1) != wanted:
            raise InvalidNumber(cert_type)
        return f"{wanted} {match.group(2)}"
    match = _PIRT.fullmatch(compact.replace(" ", ""))
    if not match:
        raise InvalidNumber(cert_type)
    return f"{match.group(1)}-{match.group(2)}"


@dataclass(frozen=True)
class Lookup:
    """Where a buyer can check a certificate number for themselves."""

    site: str
    url: str


# The official public registers: BPJPH's halal certificates (halal.go.id) and BPOM's registered products
# (cekbpom.pom.go.id). P-IRT permits are issued by each regency and have no national public register.
PUBLIC_LOOKUPS = {
    CertType.HALAL: Lookup("halal.go.id", "https://halal.go.id/"),
    CertType.BPOM_MD: Lookup("cekbpom.pom.go.id", "https://cekbpom.pom.go.id/"),
    CertType.BPOM_ML: Lookup("cekbpom.pom.go.id", "https://cekbpom.pom.go.id/"),
}


def public_lookup(cert: Certification) -> Lookup | None:
    """The official register to check this certificate's number in, when it has a number and one exists."""
    return PUBLIC_LOOKUPS.get(cert.cert_type) if cert.number else None
