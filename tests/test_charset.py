from model.charset import CLASSES, N_CLASSES, SEP_INDEX, class_glyph, encode_strip, normalise_glyphs


def test_persian_digits_and_cyrillic_lookalikes_normalise():
    assert normalise_glyphs("۱۳۸۲") == "1382"
    assert normalise_glyphs("ППУ") == "ППУ"
    assert normalise_glyphs("СА") == "CA"  # Cyrillic look-alikes read as Latin


def test_turned_segment_is_encoded_last_glyph_first():
    seq = encode_strip([("539", False), ("83", True)])
    assert seq[3] == SEP_INDEX
    assert [class_glyph(c) for c in seq[:3]] == [("5", False), ("3", False), ("9", False)]
    assert [class_glyph(c) for c in seq[4:]] == [("3", True), ("8", True)]


def test_class_table_is_consistent():
    assert len(set(CLASSES)) == N_CLASSES
    assert CLASSES[0] == "<blank>"
