"""The staff certification screen: access by role, adding with a scanned document, refusals, alerts."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest

from shop.certification.models import Certification, CertType
from shop.extensions import db
from tests import factories as f
from tests.helpers import logged_in, text_of

PDF = f.PDF
PNG = f.PNG




def certificate_form(**values):
    data = {"cert-cert_type": "pirt", "cert-number": "2097271010001-29", "cert-issuer": "Pemda Palu",
            "cert-issued_on": "2025-03-01", "cert-expires_on": "2030-03-01"}
    data.update(values)
    return data


@pytest.fixture
def food():
    product = f.product(category=f.food_category(), name_id="Abon Ikan Tuna")
    f.certificate(product, CertType.HALAL)
    db.session.commit()
    return product


def test_fulfilment_staff_add_a_permit_with_its_scan_and_the_product_becomes_sellable(app, food):
    staff = logged_in(app, "fulfilment")
    assert "sementara tidak tersedia bagi pembeli" in text_of(staff.get(f"/staf/sertifikat/produk/{food.id}"))

    response = staff.post(f"/staf/sertifikat/produk/{food.id}", content_type="multipart/form-data",
                          data=certificate_form(**{"cert-document": (io.BytesIO(PDF), "izin.pdf")}))

    assert response.status_code == 302
    page = text_of(staff.get(f"/staf/sertifikat/produk/{food.id}"))
    assert "dapat dijual" in page and "2097271010001-29" in page and "sertifikat ditambahkan" in page
    cert = db.session.query(Certification).filter_by(cert_type=CertType.PIRT).one()
    document = staff.get(f"/staf/sertifikat/{cert.id}/dokumen")
    assert document.data == PDF
    document.close()
    assert "P-IRT 2097271010001-29" in text_of(app.test_client().get(f"/produk/{food.slug}"))


@pytest.mark.parametrize("values, message", [
    ({"cert-number": "12345"}, "Bentuk nomor ini tidak benar: 15 angka, misalnya 2097271010001-29."),
    ({"cert-cert_type": "halal", "cert-number": "KH-0042/2025"}, "Nomor Ketetapan Halal (KH) adalah keputusan"),
    ({"cert-expires_on": ""}, "Masukkan tanggal berakhir"),
    ({"cert-expires_on": "kemarin"}, "Masukkan tanggal seperti 2026-11-23."),
    ({"cert-document": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "scan.pdf")}, "Unggah berkas PDF, JPEG, atau PNG."),
    ({"cert-issuer": ""}, "Kolom ini wajib diisi."),
])
def test_a_bad_certificate_is_refused_at_its_field_and_the_typed_values_stay(app, food, values, message):
    staff = logged_in(app, "fulfilment")

    response = staff.post(f"/staf/sertifikat/produk/{food.id}", data=certificate_form(**values),
                          content_type="multipart/form-data")

    assert response.status_code == 200
    assert message in text_of(response)
    assert 'value="Pemda Palu"' in response.get_data(as_text=True) or values.get("cert-issuer") == ""
    assert db.session.query(Certification).filter_by(cert_type=CertType.PIRT).count() == 0


def test_a_png_scan_named_pdf_is_accepted_as_the_png_it_is(app, food):
    staff = logged_in(app, "fulfilment")
    staff.post(f"/staf/sertifikat/produk/{food.id}", content_type="multipart/form-data",
               data=certificate_form(**{"cert-document": (io.BytesIO(PNG), "izin.pdf")}))
    assert db.session.query(Certification).filter_by(cert_type=CertType.PIRT).one().document.endswith(".png")


def test_revoking_needs_a_reason_and_takes_the_product_off_sale(app, food):
    permit = f.certificate(food, CertType.PIRT, expires_on=date(2030, 1, 1))
    db.session.commit()
    staff = logged_in(app, "fulfilment")

    staff.post(f"/staf/sertifikat/{permit.id}/cabut", data={"revoke-reason": ""})
    db.session.refresh(permit)
    assert permit.status.value == "valid"
    staff.post(f"/staf/sertifikat/{permit.id}/cabut", data={"revoke-reason": "Izin ditarik Pemda"})

    db.session.refresh(permit)
    assert permit.status.value == "revoked"
    assert "Segera hadir" in text_of(app.test_client().get(f"/produk/{food.slug}"))


def test_access_by_role(app, food, client):
    url = f"/staf/sertifikat/produk/{food.id}"
    assert client.get(url).status_code == 302
    assert logged_in(app, "finance").get(url).status_code == 403
    assert logged_in(app, "facility", facility_id=f.facility().id).get(url).status_code == 403
    assert logged_in(app, "facility", facility_id=food.facility_id).get(url).status_code == 200
    other_list = text_of(logged_in(app, "facility", facility_id=f.facility().id).get("/staf/sertifikat"))
    assert "Abon Ikan Tuna" not in other_list


def test_the_staff_home_and_the_list_show_expiring_and_unsellable_products_sorted_by_expiry(app, food):
    soon = f.certified_food(name_id="Bawang Goreng")
    later = f.certified_food(name_id="Keripik Nanas")
    next(c for c in later.certifications if c.cert_type == CertType.PIRT).expires_on = date(2031, 6, 1)
    oil = f.product(category=f.food_category(), name_id="Minyak Kelapa")
    f.certificate(oil, CertType.HALAL)
    f.certificate(oil, CertType.BPOM_MD, number="MD 234567890123", expires_on=date(2030, 1, 15))
    db.session.commit()
    app.config["FROZEN_NOW"] = datetime(2029, 12, 1, 4, tzinfo=UTC)  # Bawang Goreng's permit ends 2030-01-01
    staff = logged_in(app, "fulfilment")

    home = text_of(staff.get("/staf"))
    assert "Peringatan sertifikat" in home
    assert "Minyak Kelapa : BPOM RI MD 234567890123 — 15 Jan 2030" in home
    assert "Bawang Goreng : P-IRT 2097271010001-29 — 1 Jan 2030" in home
    assert "Abon Ikan Tuna" in home  # no food permit: not sellable
    listing = staff.get("/staf/sertifikat").get_data(as_text=True)
    assert listing.index("Bawang Goreng") < listing.index("Keripik Nanas")
    assert soon.id


def test_the_certs_check_command_lists_and_mails_the_alerts(app, food, smtp_inbox):
    f.certified_food(name_id="Bawang Goreng")
    db.session.commit()
    app.config["FROZEN_NOW"] = datetime(2029, 12, 1, 4, tzinfo=UTC)

    result = app.test_cli_runner().invoke(args=["certs", "check", "--email", "koperasi@example.id"])

    assert result.exit_code == 0, result.output
    assert "Expiring within 60 days: 1" in result.output and "Not sellable: 1" in result.output
    assert "mailed to koperasi@example.id" in result.output
    [message] = smtp_inbox.messages
    assert message["To"] == "koperasi@example.id"
    body = message.get_payload()[0].get_payload(decode=True).decode()
    assert "Bawang Goreng" in body and "Abon Ikan Tuna" in body

    short = app.test_cli_runner().invoke(args=["certs", "check", "--days", "10"])
    assert "Expiring within 10 days: 0" in short.output


def test_recipe_changed_on_a_permit_that_is_not_halal_is_refused_with_a_message_not_an_error(app, food):
    permit = f.certificate(food, CertType.PIRT, expires_on=date(2030, 1, 1))
    db.session.commit()
    staff = logged_in(app, "fulfilment")

    answer = staff.post(f"/staf/sertifikat/{permit.id}/komposisi-berubah", data={"note": "resep baru"},
                        follow_redirects=True)

    assert answer.status_code == 200
    assert "Hanya sertifikat halal" in text_of(answer)
    db.session.refresh(permit)
    assert not permit.composition_changed


def test_the_certificate_history_reads_in_words_not_codes_or_dictionaries(app, food):
    staff = logged_in(app, "fulfilment")
    staff.post(f"/staf/sertifikat/produk/{food.id}", data=certificate_form(), content_type="multipart/form-data")
    staff.post(f"/staf/sertifikat/produk/{food.id}/persyaratan",
               data={"override-requirements": ["halal"], "override-reason": "Uji coba"})
    logged_in(app, "admin").post(f"/staf/sertifikat/produk/{food.id}/persyaratan/setujui")

    page = text_of(staff.get(f"/staf/sertifikat/produk/{food.id}"))
    history = re.sub(r"\s+:", ":", page.split("Riwayat")[-1].split("Karya Binaan menjual")[0])

    assert "sertifikat ditambahkan" in history and "jenis: P-IRT" in history and "status: berlaku" in history
    assert "terbit: 1 Mar 2025" in history and "alasan: — → Uji coba" in history
    assert history.count("Uji coba") == 2  # asked, then approved: the reason in each, not again as a note
    assert "sertifikat wajib: sesuai kategorinya → Sertifikat halal" in history
    for code in ("certificate.add", "{'", "cert_type", "required_certs_override", "pirt", "product abon"):
        assert code not in history


def test_the_same_certificate_number_twice_is_refused_and_a_renewal_keeps_it(app, food):
    staff = logged_in(app, "fulfilment")
    staff.post(f"/staf/sertifikat/produk/{food.id}", data=certificate_form(), content_type="multipart/form-data")
    first = db.session.query(Certification).filter_by(cert_type=CertType.PIRT).one()

    again = staff.post(f"/staf/sertifikat/produk/{food.id}", data=certificate_form(),
                       content_type="multipart/form-data")

    assert again.status_code == 200
    assert "Produk ini sudah memiliki sertifikat dengan nomor ini." in text_of(again)
    assert db.session.query(Certification).filter_by(cert_type=CertType.PIRT).count() == 1
    renewed = staff.post(f"/staf/sertifikat/produk/{food.id}?renew={first.id}",
                         data=certificate_form(**{"cert-expires_on": "2031-03-01"}),
                         content_type="multipart/form-data")
    assert renewed.status_code == 302
    assert db.session.query(Certification).filter_by(cert_type=CertType.PIRT).count() == 2


def test_a_facility_cannot_waive_its_own_foods_permits_and_a_waived_food_is_never_called_not_food(app, food):
    """#23.23: only the cooperative (or an admin) changes what a product needs; the public page of a product in a
    food category, its permits waived, says the cooperative checked it, never "bukan pangan"."""
    own = logged_in(app, "facility", facility_id=food.facility_id)
    assert "Ubah persyaratan produk ini" not in text_of(own.get(f"/staf/sertifikat/produk/{food.id}"))

    refused = own.post(f"/staf/sertifikat/produk/{food.id}/persyaratan", follow_redirects=True,
                       data={"override-requirements": [], "override-reason": "tidak perlu"})

    assert "Hanya koperasi atau admin yang boleh mengubah persyaratan produk." in text_of(refused)
    db.session.refresh(food)
    assert food.required_certs_override is None
    cooperative, second = logged_in(app, "fulfilment"), logged_in(app, "admin")
    cooperative.post(f"/staf/sertifikat/produk/{food.id}/persyaratan",
                     data={"override-requirements": [], "override-reason": "sampel pameran, tidak dijual"})
    waiting = text_of(second.get(f"/staf/sertifikat/produk/{food.id}"))
    assert "Menunggu orang kedua:" in waiting and "sampel pameran" in waiting
    same = text_of(cooperative.post(f"/staf/sertifikat/produk/{food.id}/persyaratan/setujui", follow_redirects=True))
    assert "Perubahan disetujui oleh orang kedua" in same
    second.post(f"/staf/sertifikat/produk/{food.id}/persyaratan/setujui")
    page = text_of(app.test_client().get(f"/produk/{food.slug}"))
    assert "Koperasi telah memeriksa bahwa produk ini tidak memerlukan" in page and "bukan pangan" not in page
