import itertools

import numpy as np
import pytest

from model.charset import BLANK, N_LINE_CLASSES, SEP_INDEX, class_index, decode_line, encode_line
from model.recognition.ctc import beam_search, to_hypothesis
from model.recognition.forced import blank_runs_collapsed, ctc_align, ctc_log_likelihood
from model.recognition.grammar import HeadstampLexicon, aligned, rescore
from model.recognition.lot_grammar import LotPrior, fits, rescore_line, single_edits
from tests.posteriors import posteriors


def _brute_force(probs: np.ndarray, labels: list[int]) -> float:
    """P(labels) by summing every frame path that collapses to them."""
    total = 0.0
    for path in itertools.product(range(probs.shape[1]), repeat=probs.shape[0]):
        out, prev = [], None
        for c in path:
            if c != prev and c != BLANK:
                out.append(c)
            prev = c
        if out == labels:
            total += float(np.prod([probs[t, c] for t, c in enumerate(path)]))
    return total


def test_ctc_likelihood_equals_the_sum_over_paths():
    rng = np.random.default_rng(0)
    probs = rng.random((6, 4))
    probs /= probs.sum(1, keepdims=True)
    labels = [[1], [1, 2], [2, 2], [1, 2, 3], [3, 3, 3], [1, 2, 1, 2, 3, 1, 2]]
    got = ctc_log_likelihood(probs, labels)
    for lab, ll in zip(labels, got):
        assert np.exp(ll) == pytest.approx(_brute_force(probs, lab), rel=1e-9, abs=1e-300)
    assert got[-1] == -np.inf  # seven classes cannot be emitted in six frames


def test_ctc_likelihood_holds_on_long_strips_of_unlikely_frames():
    """Scaled in place every few frames: 300 frames whose posteriors go down to 1e-30 neither underflow nor
    drift from an independent implementation (torch's CTC loss, in log space)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 25, (300, 12))
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs = np.maximum(probs / probs.sum(1, keepdims=True), 1e-30)
    probs /= probs.sum(1, keepdims=True)
    labels = [list(rng.integers(1, 12, n)) for n in (1, 5, 40, 120)]
    got = ctc_log_likelihood(probs, labels)
    for lab, ll in zip(labels, got):
        want = -torch.nn.functional.ctc_loss(
            torch.from_numpy(np.log(probs))[:, None], torch.tensor([lab]), torch.tensor([300]),
            torch.tensor([len(lab)]), blank=BLANK, reduction="none", zero_infinity=False).item()
        assert np.isfinite(ll) and ll == pytest.approx(want, rel=1e-6)


def test_align_finds_each_characters_frame_and_probability():
    five, three = class_index("5", turned=False), class_index("3", turned=False)
    probs = posteriors([BLANK, five, five, BLANK, BLANK, three, BLANK, three, BLANK])
    probs[2, five] = 0.95
    char_probs, frames = ctc_align(probs, [five, three, three])
    assert frames == (2, 5, 7)
    assert char_probs[0] == pytest.approx(0.95) and char_probs[1] == pytest.approx(0.9)
    assert ctc_align(probs[:2], [five, three, three]) == ((), ())


def test_collapsing_blank_runs_keeps_repeats_apart_and_scores_close():
    one = class_index("1", turned=False)
    probs = posteriors([BLANK, one, BLANK, BLANK, BLANK, one, BLANK, BLANK], peak=0.9999)
    short = blank_runs_collapsed(probs)
    assert short.shape[0] == 5  # blank, 1, blank, 1, blank
    full, fast = ctc_log_likelihood(probs, [[one, one]])[0], ctc_log_likelihood(short, [[one, one]])[0]
    assert fast == pytest.approx(full, abs=1e-3)


def test_lexicon_knows_seeded_codes_years_and_symbols():
    lex = HeadstampLexicon.from_seeds()
    for seg in ("539", "ППУ", "WCC", "7.62", "9MM", "83", "1389", "*", "⊕"):
        assert lex.known(seg), seg
    for seg in ("I0", "752", "GMП", "1"):
        assert not lex.known(seg), seg
    assert "7.62" in lex.neighbours("752") and "10" in lex.neighbours("I0")


def test_neighbours_keep_a_glyph_of_the_read():
    """A lone glyph is one edit from every one-glyph code: '1' (a scratch, or the remnant of a ground-off code)
    must not become maker '3' (Ulyanovsk) for free, though it may be a year that lost a digit."""
    lex = HeadstampLexicon.from_seeds()
    assert lex.known("3") and "3" not in lex.neighbours("1")
    assert {"10", "71", "19"} <= set(lex.neighbours("1"))
    assert lex.log_prior(["539", "83"]) == 0.0
    assert lex.log_prior(["I0", "83"]) == -lex.unknown_cost
    assert lex.log_prior(["83"]) == -lex.count_cost


def test_rescoring_prefers_a_known_code_the_network_nearly_read():
    """'1' and 'I' look alike: with the network slightly favouring 'I', the read is 'I0 05' on its own and
    '10 05' with the lexicon, which also gives it character probabilities from its alignment."""
    i, one, zero, five = (class_index(g, turned=False) for g in "I105")
    probs = posteriors([BLANK, i, BLANK, zero, BLANK, SEP_INDEX, BLANK, zero, BLANK, five, BLANK])
    probs[1] = 0.0
    probs[1, i], probs[1, one], probs[1, BLANK] = 0.5, 0.45, 0.05
    hyps = [to_hypothesis(*b, probs.shape[0]) for b in beam_search(probs)]
    assert hyps[0].segments == ("I0", "05")
    ranked = rescore(probs, hyps, HeadstampLexicon.from_seeds())
    assert ranked[0].segments == ("10", "05")
    best = aligned(probs, ranked[0])
    assert best.char_probs[0][0] == pytest.approx(0.45) and best.char_probs[1] == pytest.approx((0.9, 0.9))
    assert best.positions[0] < 0.5 < best.positions[1]


def test_rescoring_keeps_an_unknown_code_the_network_is_sure_of():
    """'FB' is one edit from the seeded 'FA' and 'FC', but the network's evidence outweighs the prior."""
    f, b, seven, one = (class_index(c, turned=False) for c in "FB71")
    probs = posteriors([BLANK, f, BLANK, b, BLANK, SEP_INDEX, BLANK, seven, BLANK, one, BLANK], peak=0.97)
    hyps = [to_hypothesis(*b, probs.shape[0]) for b in beam_search(probs)]
    assert rescore(probs, hyps, HeadstampLexicon.from_seeds())[0].segments == ("FB", "71")


def test_a_calibre_read_without_its_point_is_the_calibre():
    """The network is sure of '762 61' with no point: that read is reported as calibre '7.62' with its score (an
    unknown code's), the likeliest; the point's probability, from its alignment, stays as low as the network
    has it. Without calibre '7.62' in the lexicon the read stays '762'."""
    lex = HeadstampLexicon.from_seeds()
    assert lex.undotted["762"] == "7.62" and "9MM" not in lex.undotted.values()
    path = [BLANK]
    for g in "762|61":
        path += [SEP_INDEX if g == "|" else class_index(g, turned=False), BLANK]
    probs = posteriors(path, peak=0.97)
    hyps = [to_hypothesis(*b, probs.shape[0]) for b in beam_search(probs)]
    assert hyps[0].segments == ("762", "61")
    ranked = rescore(probs, hyps, lex)
    assert ranked[0].segments == ("7.62", "61") and not any("762" in h.segments for h in ranked)
    bare = rescore(probs, hyps, HeadstampLexicon(lex.codes - {"7.62"}))
    assert bare[0].segments == ("762", "61") and ranked[0].score == pytest.approx(bare[0].score)
    assert aligned(probs, ranked[0]).char_probs[0][1] < 0.05


def _line_posteriors(text: str, peak: float = 0.9) -> np.ndarray:
    """Posteriors spelling ``text`` on a painted-line strip, a blank frame between characters."""
    path = [BLANK]
    for c in encode_line(text):
        path += [c, BLANK]
    return posteriors(path, peak, N_LINE_CLASSES)


def test_single_edits_reach_a_seeded_format():
    assert fits("03-18-691") and fits("((10))-04-11") and not fits("303-18-691") and not fits("PG-7M")
    edits = single_edits("303-18-691")
    assert "03-18-691" in edits and "17-30-82" in single_edits("17/30-82")
    assert all(abs(len(e) - len("303-18-691")) <= 1 for e in edits)


def test_a_faint_extra_digit_gives_way_to_the_format():
    """The first '3' is faint (0.6 against blank 0.4 at its frame, where the others have 0.9): the beam still
    reads '303-18-691', which fits no seeded format; the prior prefers the three-field '03-18-691' one deletion
    away."""
    probs = _line_posteriors("303-18-691")
    three = encode_line("3")[0]
    probs[1] = 0.0
    probs[1, three], probs[1, BLANK] = 0.6, 0.4
    beams = [decode_line(k) for k, *_ in beam_search(probs)]
    assert beams[0] == "303-18-691"
    ranked = rescore_line(probs, beams, LotPrior())
    assert ranked[0][0] == "03-18-691"
    assert rescore_line(probs, beams, LotPrior(fits_bonus=0.0))[0][0] == "303-18-691"


def test_looks_on_two_colour_axes_are_scored_together():
    """The last digit of '12-14-451' is unsure on both looks: one leans to '7', the other to '9', each at 0.55
    against '1' at 0.45. Alone each look ranks its own misread first; under the looks' mixture the digit both
    support wins."""
    looks = []
    for other in "79":
        probs = _line_posteriors("12-14-451")
        last = 2 * len("12-14-451") - 1  # the last character's frame
        probs[last] = 0.0
        probs[last, encode_line(other)[0]], probs[last, encode_line("1")[0]] = 0.55, 0.45
        looks.append(probs)
    texts = [decode_line(k) for p in looks for k, *_ in beam_search(p)]
    assert [rescore_line(p, texts, LotPrior())[0][0] for p in looks] == ["12-14-457", "12-14-459"]
    ranked = rescore_line(looks, texts, LotPrior())
    assert ranked[0][0] == "12-14-451"
    assert {t for t, _ in ranked[:3]} == {"12-14-451", "12-14-457", "12-14-459"}


def test_lines_that_are_no_lot_keep_their_read():
    probs = _line_posteriors("PG-7M")
    beams = [decode_line(k) for k, *_ in beam_search(probs)]
    assert rescore_line(probs, beams, LotPrior())[0][0] == "PG-7M"
