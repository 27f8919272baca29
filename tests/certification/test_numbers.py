"""Certificate number formats: real-looking numbers pass and are normalised, malformed ones are refused."""

from __future__ import annotations

import pytest

from shop.certification.models import CertType
from shop.certification.numbers import InvalidNumber, normalise


@pytest.mark.parametrize("cert_type, raw, normal", [
    (CertType.HALAL, "ID112100009882540924", "ID112100009882540924"),
    (CertType.HALAL, " id3111 0000 0000 0000 01 ", "ID311100000000000001"),
    (CertType.BPOM_MD, "BPOM RI MD 234567890123", "MD 234567890123"),
    (CertType.BPOM_MD, "md234567890123", "MD 234567890123"),
    (CertType.BPOM_ML, "BPOM RI ML 123456789012", "ML 123456789012"),
    (CertType.PIRT, "2097271010001-29", "2097271010001-29"),
    (CertType.PIRT, "209727101000129", "2097271010001-29"),
    (CertType.PIRT, "2097 2710 1000 1-29", "2097271010001-29"),
])
def test_real_looking_numbers_are_accepted_in_their_normal_form(cert_type, raw, normal):
    assert normalise(cert_type, raw) == normal


@pytest.mark.parametrize("cert_type, raw", [
    (CertType.HALAL, "112100009882540924"),  # no ID
    (CertType.HALAL, "ID1234"),  # too short
    (CertType.HALAL, "IDABC100009882540924"),
    (CertType.BPOM_MD, "MD 23456789012"),  # 11 digits
    (CertType.BPOM_MD, "ML 234567890123"),  # imported number given as domestic
    (CertType.BPOM_ML, "BPOM RI 234567890123"),
    (CertType.PIRT, "2097271010001-2"),  # 14 digits
    (CertType.PIRT, "P-IRT"),
    (CertType.PIRT, ""),
])
def test_malformed_numbers_are_refused_with_the_expected_form(app, cert_type, raw):
    with pytest.raises(InvalidNumber) as error:
        normalise(cert_type, raw)
    assert error.value.reason == "form" and error.value.expected


def test_a_ketetapan_halal_decision_number_is_not_a_certificate(app):
    with pytest.raises(InvalidNumber) as error:
        normalise(CertType.HALAL, "KH 123/2025")
    assert error.value.reason == "kh"
