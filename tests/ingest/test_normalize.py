from dapt.ingest.normalize import dedup_key, detokenize_ptb, normalize_text


def test_normalize_whitespace_controls_nfc():
    assert normalize_text("  a\tb\x00c\n\nd  ") == "a bc d"
    assert normalize_text("e\u0301") == "\u00e9"  # NFC composes
    assert normalize_text("5 µm²") == "5 µm²"  # not NFKC: superscripts stay


def test_detokenize_ptb():
    assert detokenize_ptb("The sinoatrial ( SA ) node , and others .") == "The sinoatrial (SA) node, and others."
    assert detokenize_ptb("it is n't") == "it isn't"


def test_dedup_key_ignores_case_and_space():
    assert dedup_key("Hello  World") == dedup_key("hello world")
    assert dedup_key("a b") != dedup_key("a c")
