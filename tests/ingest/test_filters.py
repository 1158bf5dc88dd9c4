from dapt.ingest.filters import alpha_ratio, duplicate_line_fraction, quality_reason
from dapt.recipe import QualityConfig


def test_quality_reasons():
    q = QualityConfig(min_chars=10, max_chars=100, min_alpha_ratio=0.5, max_duplicate_line_fraction=0.3)
    assert quality_reason("", q) == "empty"
    assert quality_reason("short", q) == "too_short"
    assert quality_reason("x" * 101, q) == "too_long"
    assert quality_reason("12 34 56 78 90 1.5 2.5 | | |", q) == "low_alpha"
    assert quality_reason("menu\nmenu\nmenu\nreal text here", q) == "repeated_lines"
    assert quality_reason("Gefitinib inhibits EGFR (IC50 = 33 nM).", q) is None


def test_ratios():
    assert alpha_ratio("ab 12") == 0.5
    assert alpha_ratio("αβ γδ") == 1.0  # letters of any script count
    assert duplicate_line_fraction("a\nb\na\na") == 0.5
    assert duplicate_line_fraction("single line") == 0.0
