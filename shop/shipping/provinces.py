"""Indonesia's 38 provinces, and the shipping zone of each as seen from the facilities in Sulawesi and in
Sumatra (the demo rate tables use them)."""

from __future__ import annotations

# Zone 1: Sulawesi; 2: Kalimantan, Nusa Tenggara, Maluku; 3: Java and Bali; 4: Sumatra; 5: Papua.
PROVINCES: dict[str, int] = {
    "Aceh": 4, "Sumatera Utara": 4, "Sumatera Barat": 4, "Riau": 4, "Kepulauan Riau": 4, "Jambi": 4,
    "Sumatera Selatan": 4, "Kepulauan Bangka Belitung": 4, "Bengkulu": 4, "Lampung": 4,
    "DKI Jakarta": 3, "Banten": 3, "Jawa Barat": 3, "Jawa Tengah": 3, "DI Yogyakarta": 3, "Jawa Timur": 3,
    "Bali": 3, "Nusa Tenggara Barat": 2, "Nusa Tenggara Timur": 2,
    "Kalimantan Barat": 2, "Kalimantan Tengah": 2, "Kalimantan Selatan": 2, "Kalimantan Timur": 2,
    "Kalimantan Utara": 2,
    "Sulawesi Utara": 1, "Gorontalo": 1, "Sulawesi Tengah": 1, "Sulawesi Barat": 1, "Sulawesi Selatan": 1,
    "Sulawesi Tenggara": 1,
    "Maluku": 2, "Maluku Utara": 2,
    "Papua": 5, "Papua Barat": 5, "Papua Barat Daya": 5, "Papua Tengah": 5, "Papua Pegunungan": 5,
    "Papua Selatan": 5,
}

# The same zones seen from Sumatra (Jambi): Sumatra is near, Sulawesi far.
FROM_SUMATRA = {4: 1, 3: 2, 2: 3, 1: 4, 5: 5}
SUMATRA_PROVINCES: dict[str, int] = {province: FROM_SUMATRA[zone] for province, zone in PROVINCES.items()}


# The first two digits of the postal codes of each province (Pos Indonesia's numbering: the first digit is the
# region, Sumatra 2 and 3, Java 1 and 4 to 6, Kalimantan 7, Bali and Nusa Tenggara 8, Sulawesi to Papua 9).
POSTCODE_PREFIXES: dict[str, tuple[str, ...]] = {
    "Aceh": ("23", "24"), "Sumatera Utara": ("20", "21", "22"), "Sumatera Barat": ("25", "26", "27"),
    "Riau": ("28", "29"), "Kepulauan Riau": ("29",), "Jambi": ("36", "37"), "Sumatera Selatan": ("30", "31", "32"),
    "Kepulauan Bangka Belitung": ("33",), "Bengkulu": ("38", "39"), "Lampung": ("34", "35"),
    "DKI Jakarta": ("10", "11", "12", "13", "14"), "Banten": ("15", "42"),
    "Jawa Barat": ("16", "17", "40", "41", "43", "44", "45", "46"),
    "Jawa Tengah": ("50", "51", "52", "53", "54", "56", "57", "58", "59"), "DI Yogyakarta": ("55",),
    "Jawa Timur": ("60", "61", "62", "63", "64", "65", "66", "67", "68", "69"),
    "Bali": ("80", "81", "82"), "Nusa Tenggara Barat": ("83", "84"), "Nusa Tenggara Timur": ("85", "86", "87"),
    "Kalimantan Barat": ("78", "79"), "Kalimantan Tengah": ("73", "74"), "Kalimantan Selatan": ("70", "71", "72"),
    "Kalimantan Timur": ("75", "76", "77"), "Kalimantan Utara": ("77",),
    "Sulawesi Utara": ("95",), "Gorontalo": ("96",), "Sulawesi Tengah": ("94",), "Sulawesi Barat": ("91",),
    "Sulawesi Selatan": ("90", "91", "92"), "Sulawesi Tenggara": ("93",),
    "Maluku": ("97",), "Maluku Utara": ("97",),
    "Papua": ("98", "99"), "Papua Barat": ("98",), "Papua Barat Daya": ("98",), "Papua Tengah": ("98", "99"),
    "Papua Pegunungan": ("99",), "Papua Selatan": ("99",),
}
