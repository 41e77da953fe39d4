"""VIN repair with evidence (issue 12): check digit, WMI, model-year code, OCR confusions, and the
VINs the archive has seen with the same plate. Expected VINs are written out by hand; their check
digits are verified with an independent implementation below."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.evidence import vins_for_plate
from core.archive import Archive
from core.models import Document, FieldValue, OcrLine, PageText
from core.settings import Settings
from extractors import extract, vin
from extractors.value_strip import VIN_CELL
from index import update_index

_VAL = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ",
        [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9], strict=True))}
_W = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def ref_valid(v: str) -> bool:
    r = sum(_VAL[c] * w for c, w in zip(v, _W, strict=True)) % 11
    return v[8] == ("X" if r == 10 else str(r))


GEELY = "LB3SAMRA2PS123456"  # Geely WMI, model year P (2023)
TODAY = date(2026, 11, 27)


def test_reference_vins_valid() -> None:
    assert ref_valid(GEELY)


# (as read, expected value, valid, what the note must say)
REPAIRS = [
    # one confusion: B read as 6 in the WMI (L63S… for LB3S…): the one candidate -> repaired
    ("L63SAMRA2PS123456", GEELY, True, "6→B at 2"),
    # one confusion: M read as H
    ("LB3SAHRA2PS123456", GEELY, True, "H→M at 6"),
    # a made-in-China VIN's first L printed over its cell's rule, read as 1 or I: repaired
    ("1B3SAMRA2PS123456", GEELY, True, "1→L at 1"),
    ("IB3SAMRA2PS123456", GEELY, True, "I→L at 1"),
    # a VIN made in the USA starts with 1 and validates as read: not turned into an L
    ("1HGCM82633A004352", "1HGCM82633A004352", True, ""),
    # two confusions: the only candidate needs two changes -> not repaired, listed for review
    ("L63SAHRA2PS123456", "L63SAHRA2PS123456", False, "1 repairs possible: " + GEELY),
]


@pytest.mark.parametrize(("read", "want", "valid", "note"), REPAIRS)
def test_vin_repair(read: str, want: str, valid: bool, note: str) -> None:
    r = vin.read_vin(read)
    assert r is not None
    assert (r.value, r.valid) == (want, valid)
    assert note in r.note
    if valid and read != want:
        assert ref_valid(r.value) and f"read {read}" in r.note and r.confidence >= 0.8
    elif valid:
        assert ref_valid(r.value) and r.note == "" and r.confidence == 1.0
    else:
        assert r.confidence < 0.5


def test_two_validating_candidates_are_not_repaired() -> None:
    """LFV2A6BJ5L5001000 with its B read as 8: B at 7 validates, and so does 6->B at 6 — two
    candidates, so the reading goes to review with both listed, never a guess."""
    read, truth, other = "LFV2A68J5L5001000", "LFV2A6BJ5L5001000", "LFV2AB8J5L5001000"
    assert ref_valid(truth) and ref_valid(other) and not ref_valid(read)
    r = vin.read_vin(read)
    assert r is not None and not r.valid and r.value == read and r.confidence < 0.5
    assert "2 repairs possible" in r.note and truth in r.note and other in r.note


def test_ambiguous_reading_resolved_by_the_archive() -> None:
    r = vin.read_vin("LFV2A68J5L5001000", known={"LFV2A6BJ5L5001000"})
    assert r is not None and r.valid and r.value == "LFV2A6BJ5L5001000" and "8→B at 7" in r.note


def L(text: str, x0: float, y0: float, x1: float, y1: float) -> OcrLine:
    return OcrLine(text, (x0, y0, x1, y1), 0.97)


def _page(vin_text: str, plate: str) -> list[PageText]:
    return [PageText(1, 1654, 2339, 200, [L("车辆识别代号：" + vin_text, 100, 300, 900, 340),
                                         L("车牌号码：" + plate, 100, 360, 600, 400)])]


def _archived(root: Path, doc_id: str, plate: str, vin_value: str) -> Archive:
    archive = Archive(root)
    doc = Document(doc_id, "old.jpg", doc_id * 4, "", "", "", [], "rapidocr", "1", "2024-01-01T00:00:00Z",
                   fields={"plate": FieldValue(plate, 1.0, valid=True), "vin": FieldValue(vin_value, 1.0, valid=True),
                           "date_in": FieldValue("2024-01-02", 1.0, valid=True)})
    archive.save(doc)
    update_index(archive, [doc])
    return archive


def test_repair_confirmed_by_a_vin_already_in_the_archive(tmp_path: Path) -> None:
    """Two confusions: alone not repaired (above); an earlier order of the same plate has the VIN."""
    read = "L63SAHRA2PS123456"
    alone = extract(_page(read, "浙A12345"), Settings(), today=TODAY).fields["vin"]
    assert not alone.valid and alone.value == read
    archive = _archived(tmp_path / "a", "0123456789abcdef", "浙A12345", GEELY)
    assert vins_for_plate(archive)("浙A12345") == {GEELY}
    fv = extract(_page(read, "浙A12345"), Settings(), today=TODAY, vins_for_plate=vins_for_plate(archive)).fields["vin"]
    assert (fv.value, fv.valid) == (GEELY, True)
    assert fv.confidence >= Settings().review_threshold
    assert "earlier orders" in fv.note and "read L63SAHRA2PS123456" in fv.note


def test_another_plates_vin_is_no_evidence(tmp_path: Path) -> None:
    archive = _archived(tmp_path / "b", "fedcba9876543210", "浙A99999", GEELY)
    fv = extract(_page("L63SAHRA2PS123456", "浙A12345"), Settings(), today=TODAY,
                 vins_for_plate=vins_for_plate(archive)).fields["vin"]
    assert not fv.valid


FAW_VW = "LFVDZSWL3GU696000"  # FAW-Volkswagen WMI, model year G; check digit 3 (verified below)


@pytest.mark.parametrize("read", ["L1VDZSWL3GU696000", "LPVDZSWL3GU696000"])
def test_a_misread_wmi_is_repaired_from_the_table_for_review(read: str) -> None:
    """Dot-matrix F read as 1 or P: no OCR confusion pair, but one known WMI a character away makes
    the check digit hold: repaired, and said so, for review (a wrong reading elsewhere would
    validate with a neighbouring WMI 1 time in 11)."""
    assert ref_valid(FAW_VW)
    r = vin.read_vin(read)
    assert r is not None and r.valid and r.value == FAW_VW
    assert r.confidence < 0.8 and "manufacturer code" in r.note and f"read {read}" in r.note


def test_a_wmi_two_characters_from_any_known_is_not_repaired() -> None:
    r = vin.read_vin("XPV" + FAW_VW[3:])
    assert r is not None and not r.valid


def test_a_vin_joined_across_punctuation_is_for_review() -> None:
    """A garbled reading whose 17 characters are joined across dots and slashes can validate by
    chance (this one does): not taken as sure."""
    r = vin.read_vin("1.11G/71 176K7877217")
    assert r is not None and r.valid and ref_valid(r.value) and r.confidence < 0.8 and "punctuation" in r.note
    sure = vin.read_vin("VIN: LSGPEBRXX MS358264")
    assert sure is not None and sure.value == "LSGPEBRXXMS358264" and sure.confidence == 1.0


@pytest.mark.parametrize(("read", "want", "valid"), [
    # sixteen characters, the first box's L lost at its edge: the L of a Chinese WMI, for review
    (GEELY[1:], GEELY, True),
    # ... and a 5 of the rest read as S: the one look-alike repair that validates (a BMW Brilliance VIN)
    ("BVY5CSU5HK154749", "LBVY5C5U5HK154749", True),
    # sixteen characters that do not validate after an L either: kept as read
    (GEELY[1:-1] + ("7" if GEELY[-1] != "7" else "8"), None, False),
])
def test_vin_first_l_lost(read: str, want: str | None, valid: bool) -> None:
    r = vin.read_vin(read)
    assert r is not None and r.valid is valid
    if valid:
        assert r.value == want and ref_valid(r.value) and r.confidence < 0.8 and f"read {read}" in r.note
    else:
        assert r.value == read and r.confidence < 0.5


@pytest.mark.parametrize(("value", "blind"), [
    ("LSGP91XJ7MB584789", True),  # J at position 8: read as 1, it validates as well
    ("LSGP91X17MB584789", True),
    ("LB3SAMRA9PS223456", False),  # no 1 or J outside the check digit and the last four
    ("LB3SAMRA1PS223456", False),  # ... the check digit's 1 is no letter's
    ("LB3SAMRA9PS221111", False),  # ... nor are the last four's
])
def test_the_check_digit_counts_j_and_1_alike(value: str, blind: bool) -> None:
    assert ref_valid("LSGP91XJ7MB584789") and ref_valid("LSGP91X17MB584789")  # both, by the reference
    assert vin.check_blind(value) == blind


@pytest.mark.parametrize(("value", "ocr", "confident"), [
    ("LSGP91X17MB584789", 0.62, False),  # OCR unsure, and a J would validate as well as this 1
    ("LSGP91X17MB584789", 0.85, True),  # OCR sure enough of it
    ("LB3SAMRA9PS223456", 0.62, True),  # no J or 1 the check digit cannot tell apart
])
def test_a_vin_the_check_digit_cannot_confirm_is_as_sure_as_ocr(value: str, ocr: float, confident: bool) -> None:
    pages = [PageText(1, 1654, 2339, 200, [OcrLine("车辆识别代号：" + value, (100, 300, 900, 340), ocr)])]
    ex = extract(pages, Settings(), today=TODAY)
    fv = ex.fields["vin"]
    assert fv.value == value and fv.valid
    assert (fv.confidence >= Settings().review_threshold) == confident, fv.confidence


def _sure(text: str, conf: float = 0.95) -> OcrLine:
    """A reading with its recogniser's choices: each character at ``conf``, nothing else."""
    return OcrLine(text, (300.0, 400.0, 700.0, 440.0), conf, alternatives=[[(c, conf)] for c in text])


def _with_second(text: str, at: int, second: str, p: float) -> OcrLine:
    line = _sure(text)
    line.alternatives[at] = [(text[at], 0.9), (second, p)]
    return line


# (the readings of one VIN's boxes, the VIN they give together, how many positions changed)
COMBINED = [
    # the check digit 3 in one reading, 9 in another; the last 3 read as B in the second: each
    # position's majority makes the VIN (a confusion repair of the first alone gave …K1B02843)
    ([_sure("LVSXDFMC3K1602843"), _sure("LVSXDFMC9K160284B", 0.99), _sure("IV5XDFMC9K1602843", 0.8)],
     "LVSXDFMC9K1602843", 0),
    # one reading, its last 1 with a 7 beside it: the 7 validates (a confusion repair of 6→B at
    # 11 validates too, but nothing the recogniser saw gives a B there)
    ([_with_second("LFMPJY2S4M6118021", 16, "7", 0.04)], "LFMPJY2S4M6118027", 1),
    # TGB… validates as read (T and L count alike) but no maker has TGB; another reading's L does
    ([_sure("TGBMAG566JU447682", 0.89), _sure("LGBMAG566JU4476R2", 0.82)], "LGBMAG566JU447682", 1),
    # every reading has the faint L as a T, nothing the recogniser saw gives an L: the L still
    # (no maker has TVS; LVS is SAIC-Volkswagen's, and the check digit counts T as L)
    ([_sure("TVSUXUZY5NM540864"), _sure("TVSUXUZY5NM54O864", 0.9)], "LVSUXUZY5NM540864", 0),
]


@pytest.mark.parametrize(("readings", "want", "changed"), COMBINED)
def test_the_readings_of_the_boxes_combined(readings: list[OcrLine], want: str, changed: int) -> None:
    assert ref_valid(want)
    assert vin.combined(readings) == (want, changed)


def test_combined_needs_a_second_choice_to_change_a_character() -> None:
    # LFMPJY2S4M6118021 fails its check digit and the recogniser saw nothing else anywhere
    assert vin.combined([_sure("LFMPJY2S4M6118021")]) is None
    assert vin.combined([_sure("LFMPJY2S4M61180")]) is None  # no run of 17


def test_a_vin_for_review_takes_the_combined_readings_for_review() -> None:
    # the first pass read LVSXDFMC3K1602843 (check digit fails); the boxes read again twice
    page = PageText(1, 1654, 2339, 200.0, [OcrLine("VIN：LVSXDFMC3K1602843", (100, 400, 700, 440), 0.95)],
                    region_reads={"vin": [_sure("LVSXDFMC3K1602843"), _sure("IV5XDFMC9K1602843", 0.8)],
                                  VIN_CELL: [_sure("LVSXDFMC9K160284B", 0.99)]})
    f = extract([page], Settings(), today=TODAY).fields["vin"]
    assert f.value == "LVSXDFMC9K1602843" and f.valid
    assert f.confidence < Settings().review_threshold and "combined" in f.note


def test_of_two_readings_that_validate_the_known_manufacturers_is_offered() -> None:
    # wo11025_057: a dot-matrix VIN on a colour form, its faint Ls read as 1 (and E as F) in one
    # reading, which the check digit passes by chance; no maker has 1VS, Changan Ford has LVS
    assert ref_valid("1VSP159F6M1373509") and ref_valid("LVSP159E6ML373509")
    page = PageText(1, 1654, 2339, 200.0, [OcrLine("车架号", (760, 490, 880, 550), 0.99),
                                           OcrLine("TVSP159F6MT373509", (918, 490, 1300, 550), 0.5)],
                    region_reads={"vin": [_sure("IVSP159F6MI373509", 0.9), _sure("LVSP159E6ML373509", 0.85)],
                                  VIN_CELL: [_sure("IVSP159F6MI373509", 0.9)]})
    f = extract([page], Settings(), today=TODAY).fields["vin"]
    assert f.value == "LVSP159E6ML373509"
    assert f.confidence < Settings().review_threshold and "disagree" in f.note  # for review all the same


@pytest.mark.parametrize(("read", "want", "confident"), [
    # a faint L read as T or C: the check digit counts them alike, no maker has TVS or CGB
    ("TVSUXUZY5NM540864", "LVSUXUZY5NM540864", False),
    ("CGBMAG566JU447682", "LGBMAG566JU447682", False),
    ("LVSUXUZY5NM540864", "LVSUXUZY5NM540864", True),
])
def test_a_first_character_the_check_digit_counts_as_l(read: str, want: str, confident: bool) -> None:
    assert ref_valid(read) and ref_valid(want)
    r = vin.read_vin(read)
    assert r is not None and r.value == want and r.valid
    assert (r.confidence >= 0.8) == confident


@pytest.mark.parametrize(("read", "want"), [
    # a dot-matrix J read as ], with an 8 for the B elsewhere: the one VIN the ] as J makes
    ("LE48DP724]4520865", "LE4BDP724J4520865"),
    ("LE4BDP724]4520865", "LE4BDP724J4520865"),
    # a faint L on the box's rule read as [
    ("[VSUXUZY5NM540864", "LVSUXUZY5NM540864"),
])
def test_a_character_read_as_a_bracket(read: str, want: str) -> None:
    assert ref_valid(want)
    r = vin.read_vin(read)
    assert r is not None and r.value == want and r.valid
    assert r.confidence < 0.8 and "the " in r.note  # for review, saying what it took the mark for


def test_a_bracket_that_makes_no_vin_is_not_taken() -> None:
    r = vin.read_vin("LE48DP724]4520860")  # the check digit fails whatever the ] was
    assert r is not None and not r.valid
    r = vin.read_vin("LE4BD]724]4520865")  # two marks: nothing to tell which is which
    assert r is not None and not r.valid


@pytest.mark.parametrize(("read", "want"), [
    ("LVSB9N547PH28616", "LVSB9N547PH286161"),
    ("LGXSR3SM7KN32123", "LGXSR3SM7KN321235"),
    ("LHGRVKA30KS95242", "LHGRVKA30KS952426"),
    ("XYZB9N547PH28616", None),  # no known manufacturer code: nothing says it is a VIN cut short
])
def test_the_seventeenth_character_the_check_digit_allows(read: str, want: str | None) -> None:
    assert want is None or ref_valid(want)
    assert vin.last_lost(read) == want


def _vin_row(value_box: tuple[float, float, float, float]) -> list[PageText]:
    lines = [OcrLine("底盘号", (617, 454, 698, 495), 1.0), OcrLine("LVSB9N547PH28616", value_box, 0.99),
             OcrLine("车型", (1080, 448, 1143, 496), 1.0), OcrLine("途观L 380TSI", (1200, 450, 1400, 495), 0.95)]
    return [PageText(1, 1654, 2339, 200.0, lines)]


def test_a_vin_cut_at_the_next_label_gets_its_last_digit_for_review() -> None:
    f = extract(_vin_row((812, 439, 1082, 479)), Settings(), today=TODAY).fields["vin"]
    assert f.value == "LVSB9N547PH286161" and f.valid and f.confidence < 0.8 and "next label" in f.note


def test_a_vin_of_16_that_stops_short_of_the_next_label_is_not_completed() -> None:
    # the line ends well before 车型 (a character lost elsewhere, not at the cell's edge)
    f = extract(_vin_row((812, 439, 1000, 479)), Settings(), today=TODAY).fields["vin"]
    assert not f.valid and f.value != "LVSB9N547PH286161"


def test_a_first_reading_cut_at_the_next_label_is_completed_when_a_shorter_second_reading_was_chosen() -> None:
    # the cell read again lost two characters (15 read); the first pass's 16 run up to 车型
    pages = _vin_row((812, 439, 1082, 479))
    pages[0].region_reads = {"vin_cell": [OcrLine("LVSB9N547PH2861", (700.0, 430.0, 1078.0, 500.0), 0.999)]}
    f = extract(pages, Settings(), today=TODAY).fields["vin"]
    assert f.value == "LVSB9N547PH286161" and f.valid and f.confidence < 0.8 and "next label" in f.note


@pytest.mark.parametrize(("read", "want"), [
    # dot-matrix letters that lost a bar (colour forms): F read as 1, E as 1, E as F
    ("LSVE814D1LJ040601", "LSVE8F4D1LJ040601"),
    ("LFVJP1CZ5GU008856", "LFVJPECZ5GU008856"),
    ("LFMMKFNW2F1875702", "LFMMKENW2F1875702"),
    ("LSVE8F4D1LJ040601", None),  # valid as read: nothing to repair
    ("LSVE814D1LJ04060", None),  # sixteen characters
])
def test_a_vin_whose_check_digit_fails_repaired_from_a_bar_lost(read: str, want: str | None) -> None:
    if want is not None:
        assert ref_valid(want) and not ref_valid(read)
    assert vin.bar_lost_repair(read) == want


def test_a_bar_lost_repair_is_for_review() -> None:
    page = PageText(1, 1654, 2339, 200.0, [OcrLine("VIN：LSVE814D1LJ040601", (100, 400, 700, 440), 0.95)])
    f = extract([page], Settings(), today=TODAY).fields["vin"]
    assert f.value == "LSVE8F4D1LJ040601" and f.valid
    assert f.confidence < Settings().review_threshold and "bar lost" in f.note
