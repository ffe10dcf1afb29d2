import pytest

from model.charset import BLANK, SEP_INDEX, class_index, encode_strip
from model.recognition.ctc import beam_search, segment_centre, shares, to_hypothesis
from tests.posteriors import posteriors


def test_beam_search_collapses_repeats_and_blanks():
    five, three = class_index("5", turned=False), class_index("3", turned=False)
    path = [BLANK, five, five, BLANK, three, three, BLANK, three, BLANK]
    best, prob, char_probs, frames = beam_search(posteriors(path))[0]
    assert best == (five, three, three)
    assert frames == (1, 4, 7)  # where each character was first emitted
    assert len(char_probs) == 3 and all(abs(p - 0.9) < 1e-6 for p in char_probs)
    assert 0 < prob <= 1


def test_beam_search_returns_no_impossible_prefix():
    """A repeated class with no blank between can only be one character: the doubled prefix has probability
    zero and is not returned to take a place in the n-best list."""
    five = class_index("5", turned=False)
    probs = posteriors([BLANK, five, five, BLANK], peak=1.0)
    hyps = beam_search(probs, beam=8, prune=1e-3)
    assert [h[0] for h in hyps] == [(five,)]
    assert hyps[0][1] == pytest.approx(1.0)


def test_uncertain_character_keeps_alternatives_in_nbest():
    one, seven, four = (class_index(g, turned=False) for g in "174")
    probs = posteriors([BLANK, one, BLANK, seven, BLANK, four, BLANK])
    probs[3] = 0.0
    probs[3, seven], probs[3, one], probs[3, BLANK] = 0.55, 0.40, 0.05
    hyps = beam_search(probs, beam=4)
    texts = [h[0] for h in hyps]
    assert texts[0] == (one, seven, four)
    assert (one, one, four) in texts
    assert abs(hyps[0][2][1] - 0.55) < 1e-6  # the damaged character reports its own probability


def test_hypothesis_splits_segments_and_unturns():
    seq = encode_strip([("ППУ", False), ("78", True)])
    h = to_hypothesis(tuple(seq), 0.8, tuple([0.9] * len(seq)))
    assert h.segments == ("ППУ", "78")
    assert h.turned == (False, True)
    assert seq.count(SEP_INDEX) == 1


def test_segments_get_their_position_along_the_strip():
    seq = encode_strip([("539", False), ("83", True)])
    frames = (2, 3, 4, 10, 20, 21)  # 539 near the start, the separator, 83 around frame 20 of 32
    h = to_hypothesis(tuple(seq), 0.8, tuple([0.9] * len(seq)), frames, 32)
    assert h.segments == ("539", "83")
    assert abs(h.positions[0] - 3.5 / 32) < 1e-9 and abs(h.positions[1] - 21.0 / 32) < 1e-9


def test_a_character_held_back_to_the_strips_end_does_not_move_its_segment():
    """The seam lies in a gap, so a character aligned to the first or last frame was emitted there late (or
    early) by the recurrent layer; its segment's centre comes from its other characters."""
    assert segment_centre([20, 31], 32) == segment_centre([20], 32) == 20.5 / 32
    assert segment_centre([0, 5], 32) == 5.5 / 32
    assert segment_centre([31], 32) == 31.5 / 32  # nothing else to go by


def test_shares_pool_repeated_reads_and_normalise_over_all():
    import math

    scored = [("A", math.log(0.4)), ("B", math.log(0.3)), ("A", math.log(0.2)), ("C", math.log(0.1))]
    top = shares(scored, 2)
    assert [k for k, _ in top] == ["A", "B"]
    assert top[0][1] == pytest.approx(0.6) and top[1][1] == pytest.approx(0.3)  # C's mass still counts
    assert shares([("x", -2000.0), ("y", -2001.0)], 5)[0][1] == pytest.approx(1 / (1 + math.exp(-1)))


def test_shares_pool_reads_that_are_the_same_read():
    import math

    # "A*" and "A." are one read under `same`: their mass is summed and the likelier form stands for it
    scored = [("A.", math.log(0.2)), ("B", math.log(0.35)), ("A*", math.log(0.3)), ("C", math.log(0.15))]
    top = shares(scored, 3, same=lambda k: k.rstrip("*."))
    assert [k for k, _ in top] == ["A*", "B", "C"]
    assert [s for _, s in top] == pytest.approx([0.5, 0.35, 0.15])
    assert [k for k, _ in shares(scored, 1)] == ["B"]  # without it, B wins
