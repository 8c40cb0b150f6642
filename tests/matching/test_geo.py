"""Unit tests for matching.geo: postcode validation, PC4 lookup and distances."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.geo import (
    POSTCODE_RE,
    Place,
    PostcodeLocator,
    default_locator,
    haversine_km,
    normalize_postcode,
    pc4,
)

# --- normalize_postcode / pc4 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234AB", "1234AB"),
        ("1234 ab", "1234AB"),
        ("1234aB", "1234AB"),
        ("  2983 Ab  ", "2983AB"),
        ("1234", "1234"),
        (" 9711\t", "9711"),
    ],
)
def test_normalize_postcode_variants(raw: str, expected: str) -> None:
    assert normalize_postcode(raw) == expected
    assert pc4(raw) == expected[:4]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "0123AB",  # first digit 0
        "123AB",
        "12345",
        "12345AB",
        "1234A",
        "1234ABC",
        "1234  AB",  # two spaces between digits and letters
        "1234-AB",
        "AB1234",
        "1234 ÄB",  # letters A-Z only
        "1234 SA",  # never issued
        "1234sd",
        "1234 SS",
        "\uff11\uff12\uff13\uff14AB",  # full-width digits
    ],
)
def test_normalize_postcode_rejects_bad_formats(bad: str) -> None:
    with pytest.raises(ValueError, match="postcode"):
        normalize_postcode(bad)
    with pytest.raises(ValueError):
        pc4(bad)


def test_postcode_re_fullmatches_raw_forms() -> None:
    assert POSTCODE_RE.fullmatch("1234 ab")
    assert POSTCODE_RE.fullmatch("1234")
    assert not POSTCODE_RE.fullmatch("0234AB")


# --- haversine_km ----------------------------------------------------------------------------


def test_haversine_zero_and_symmetry() -> None:
    assert haversine_km(52.0, 5.0, 52.0, 5.0) == 0.0
    d1 = haversine_km(52.3735, 4.8951, 51.9191, 4.4867)
    d2 = haversine_km(51.9191, 4.4867, 52.3735, 4.8951)
    assert d1 == pytest.approx(d2)


def test_haversine_known_distances() -> None:
    # One degree of latitude is about 111.2 km.
    assert haversine_km(52.0, 5.0, 53.0, 5.0) == pytest.approx(111.2, abs=0.1)
    # Half the circumference between antipodes.
    assert haversine_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(20015.1, abs=1.0)


# --- PostcodeLocator -------------------------------------------------------------------------


def test_bundled_file_loads_all_pc4() -> None:
    locator = PostcodeLocator()
    assert len(locator) == 4086


def test_ridderkerk() -> None:
    place = default_locator().locate("2983 AB")
    assert place is not None
    assert place.postcode == "2983"
    assert place.place == "Ridderkerk"
    assert place.municipality == "Ridderkerk"


def test_ridderkerk_rotterdam_distance() -> None:
    locator = default_locator()
    a, b = locator.locate("2983"), locator.locate("3011")
    assert a is not None and b is not None
    assert b.place == "Rotterdam"
    assert 5 < haversine_km(a.lat, a.lon, b.lat, b.lon) < 15


def test_amsterdam_groningen_distance() -> None:
    locator = default_locator()
    a, b = locator.locate("1012AB"), locator.locate("9711 cd")
    assert a is not None and b is not None
    assert (a.place, b.place) == ("Amsterdam", "Groningen")
    assert 140 < haversine_km(a.lat, a.lon, b.lat, b.lon) < 200


def test_unknown_pc4_returns_none() -> None:
    locator = default_locator()
    assert locator.locate("1000") is None
    assert locator.locate("2000 AA") is None
    assert "1000" not in locator
    assert "2983" in locator


def test_locate_rejects_bad_format() -> None:
    with pytest.raises(ValueError):
        default_locator().locate("0123 AB")


def test_default_locator_is_cached() -> None:
    assert default_locator() is default_locator()


def test_custom_csv_reads_postcode_as_text(tmp_path: Path) -> None:
    path = tmp_path / "pc4.csv"
    path.write_text(
        "postcode,place,municipality,lat,lon,province\n"
        "1011,Voorbeeldstad,Voorbeeldgemeente,52.5,4.5,Noord-Holland\n"
        "3221,Dorp,,51.8,4.1,\n"
        "1011,Dubbel,Dubbel,0,0,\n",
        encoding="utf-8",
    )
    locator = PostcodeLocator(path)
    assert len(locator) == 2
    assert locator.locate("1011 XY") == Place(
        "1011", "Voorbeeldstad", "Voorbeeldgemeente", 52.5, 4.5
    )
    blank = locator.locate("3221")
    assert blank is not None and blank.municipality == ""


def test_custom_csv_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "pc4.csv"
    path.write_text("postcode,place,lat,lon\n1011,Voorbeeldstad,52.5,4.5\n", encoding="utf-8")
    with pytest.raises(ValueError, match="municipality"):
        PostcodeLocator(path)


def test_custom_csv_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "pc4.csv"
    path.write_text(
        "postcode,place,municipality,lat,lon\n0123,Nergens,Nergens,52.5,4.5\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="PC4"):
        PostcodeLocator(path)


def test_array_haversine_equals_the_scalar_one_and_passes_nan() -> None:
    import numpy as np

    from matching.geo import haversine_km_array

    lat1, lon1 = np.array([51.884, 52.37, np.nan]), np.array([4.606, 4.89, 5.0])
    lat2, lon2 = np.array([51.92, 53.22, 52.0]), np.array([4.48, 6.57, 5.0])
    got = haversine_km_array(lat1, lon1, lat2, lon2)
    for i in range(2):
        assert got[i] == pytest.approx(haversine_km(lat1[i], lon1[i], lat2[i], lon2[i]), rel=1e-12)
    assert np.isnan(got[2])
