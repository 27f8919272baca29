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
