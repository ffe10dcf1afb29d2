"""Freshly rendered heads (never the evaluation set) read by the shipped bundles."""

import dataclasses

import numpy as np
import pytest

from datasets.sampler import Segment
from datasets.scenes import render_crop, render_frame
from model.charset import SYMBOL_SEGMENTS, cyclic_key, normalise_glyphs
from model.headstamp_reader import HeadstampReader
from model.rectify.polar import clock_hour


def _norm(segments) -> list[str]:
    return [normalise_glyphs(s) for s in segments if s not in SYMBOL_SEGMENTS]


def _cyclic_equal(a: list[str], b: list[str]) -> bool:
    return len(a) == len(b) and (not a or any(a[i:] + a[:i] == b for i in range(len(a))))


@pytest.fixture(scope="module")
def reader():
    return HeadstampReader.from_bundles(threads=2)


def test_reads_the_documented_headstamp_exactly(reader):
    # Soviet Tula '539 / 83' (MARKINGS.md A), freshly rendered: the exact segments, clockwise from any start.
    rng = np.random.default_rng(20261121)
    scene = render_crop(rng, level="clean", size_px=224, segments=[Segment("539", "539"), Segment("83", "83")])
    reads = reader.read(scene.rgb)
    assert len(reads) == 1
    read = reads[0]
    assert _cyclic_equal(_norm(read.best.segments), ["539", "83"])
    assert len(read.best.segments) == 2
    assert [len(p) for p in read.best.char_probs] == [len(s) for s in read.best.segments]
    assert all(0.0 < p <= 1.0 for seg in read.best.char_probs for p in seg)
    assert read.candidates[0].segments == read.best.segments
    scores = [c.score for c in read.candidates]
    assert scores == sorted(scores, reverse=True) and 0.0 < sum(scores) <= 1.0 + 1e-6


def test_reads_fresh_clean_renders(reader):
    # Floor for the shipped bundles (recognizer v9, renderer with smaller glyphs at varied radii: 34/40 exact,
    # 39/40 in the n-best on these renders; v6 had 36 and 38, v4 34/40 in the n-best); raise it with each
    # better bundle.
    rng = np.random.default_rng(777)
    hits = in_nbest = 0
    n = 40
    for _ in range(n):
        scene = render_crop(rng, level="clean", size_px=224)
        reads = reader.read(scene.rgb)
        want = _norm(scene.heads[0].clockwise_labels())
        hits += any(_cyclic_equal(_norm(r.best.segments), want) for r in reads)
        in_nbest += any(_cyclic_equal(_norm(c.segments), want) for r in reads for c in r.candidates)
    assert hits >= 33, f"{hits}/{n} fresh clean renders read exactly"
    assert in_nbest >= 36 and in_nbest >= hits, f"{in_nbest}/{n} in the n-best"


def test_finds_heads_in_a_frame(reader):
    rng = np.random.default_rng(31)
    scene = render_frame(rng, level="clean")
    reads = reader.read(scene.rgb)
    found = 0
    for h in scene.heads:
        found += any(np.hypot(r.head.rim.cx - h.rim.cx, r.head.rim.cy - h.rim.cy) < 0.3 * h.rim.a_px for r in reads)
    assert found >= max(1, len(scene.heads) - 1), (found, len(scene.heads))


def test_exact_reads_place_each_segment_at_its_clock_position(reader):
    rng = np.random.default_rng(778)
    checked = 0
    for _ in range(12):
        scene = render_crop(rng, level="clean", size_px=256)
        truth = scene.heads[0]
        order = sorted(truth.segments, key=lambda s: (s.center_rad + np.pi / 2) % (2 * np.pi))
        order = [s for s in order if s.segment.label not in SYMBOL_SEGMENTS]
        want = [normalise_glyphs(s.segment.label) for s in order]
        for r in reader.read(scene.rgb):
            got = [(normalise_glyphs(s), c) for s, c in zip(r.best.segments, r.clock_positions)
                   if s not in SYMBOL_SEGMENTS]
            if len(got) != len(want) or not _cyclic_equal([g for g, _ in got], want):
                continue
            shift = next(i for i in range(len(got)) if [g for g, _ in got[i:] + got[:i]] == want)
            for (_, clock), seg in zip(got[shift:] + got[:shift], order):
                diff = abs(clock - clock_hour(seg.center_rad)) % 12
                assert min(diff, 12 - diff) < 1.5, (want, clock, clock_hour(seg.center_rad))
            checked += 1
    assert checked >= 2, "too few exact reads to check clock positions"


def test_a_second_look_pools_readings_with_the_rim_scaled(reader):
    """With ``rim_scales`` every unsure head (here: every head) is read again with the rim 5 % smaller and
    larger; those readings join the pool, so the reads stay right and the candidates' shares change (on some of
    three clean crops: a head read at 1.0 by every look keeps its one candidate)."""
    rng = np.random.default_rng(20261121)
    cfg = dataclasses.replace(reader.cfg, rim_scales=(0.95, 1.05), retry_below=1.01)
    again = HeadstampReader(reader.net, reader.detector, cfg)
    changed = 0
    for _ in range(3):
        scene = render_crop(rng, level="clean", size_px=224, segments=[Segment("539", "539"), Segment("83", "83")])
        once, twice = reader.read(scene.rgb)[0], again.read(scene.rgb)[0]
        assert _cyclic_equal(_norm(twice.best.segments), ["539", "83"])
        assert [len(p) for p in twice.best.char_probs] == [len(s) for s in twice.best.segments]
        assert 0.0 < sum(c.score for c in twice.candidates) <= 1.0 + 1e-6
        changed += [c.score for c in twice.candidates] != [c.score for c in once.candidates]
    assert changed >= 1


def test_the_thorough_reader_reads_more_worn_and_obscured_heads(reader):
    """``MarkingReader.from_bundles(thorough=True)`` (CLI ``--thorough``) looks again at unsure heads with the rim
    scaled by 0.95 and 1.05. Fresh worn and obscured crops, 60 per level of seeds 4242 and 5151: recognizer v27
    (stop 52) 100 read exactly by the default reader, 101 by the thorough one (the second look adds less to each
    newer recognizer, so only "no fewer" is asserted); v26 (stop 37) 99 and 101; v23 (stop 34) 97 and 104; v21 90 and
    99; v20 91 and 99; v17 81 and 86 (all levels of those seeds: 181 -> 191; of seeds 777 and 9090 only 182 -> 183,
    where recognizer v9 went 174 -> 186); about 1.5 times the time per crop."""
    from datasets.scenes import LEVELS
    from model.pipeline import THOROUGH, MarkingReader

    thorough = MarkingReader.from_bundles(threads=2, thorough=True)
    assert thorough.headstamps.cfg == THOROUGH[0] and thorough.lots.cfg == THOROUGH[1]
    right = {"default": 0, "thorough": 0}
    for seed in (4242, 5151):
        for level in ("worn", "obscured"):
            rng = np.random.default_rng([seed, LEVELS.index(level)])
            for _ in range(60):
                scene = render_crop(rng, level=level, size_px=int(rng.choice([128, 160, 224, 288])))
                want = cyclic_key(scene.heads[0].clockwise_labels())
                for k, r in (("default", reader), ("thorough", thorough.headstamps)):
                    right[k] += any(cyclic_key(x.best.segments) == want for x in r.read(scene.rgb))
    assert right["thorough"] >= right["default"] and right["default"] >= 90, right


def test_candidates_are_distinct_reads(reader):
    # Reads that differ only in a separator (a star read as a dot or a cross) or in the segment they start from
    # are one read: their probability mass is pooled into one candidate (model.charset.cyclic_key), shown as its
    # likeliest form, so the n-best holds distinct reads. Worn renders give unsure heads with many candidates;
    # without the pooling these 12 heads' candidate lists repeat a read 5 times.
    rng = np.random.default_rng(4041)
    repeats = listed = 0
    lengths = []
    for _ in range(12):
        scene = render_crop(rng, level="worn", size_px=224)
        for read in reader.read(scene.rgb):
            keys = [cyclic_key(c.segments) for c in read.candidates]
            listed += len(keys)
            lengths.append(len(keys))
            repeats += len(keys) - len(set(keys))
            assert cyclic_key(read.best.segments) == keys[0]
            scores = [c.score for c in read.candidates]
            assert scores == sorted(scores, reverse=True) and sum(scores) <= 1.0 + 1e-6
    assert listed >= 40 and repeats == 0, f"{repeats} repeated reads among {listed} candidates"
    # an unsure head keeps up to ReaderConfig.n_best (10) candidates: 7 of these 12 do
    assert max(lengths) == reader.cfg.n_best == 10 and sum(n == 10 for n in lengths) >= 5, lengths


def test_reads_fresh_clean_heads_stamped_in_roboto(reader):
    """Heads stamped in Roboto, whose 1 has no foot (``render_crop(more_fonts=True)``): the shipped recognizer
    (v23; v21 the first trained also on such heads) reads 17 of these 20 fresh clean crops exactly, v21 16; v20,
    trained on footed 1s only, read 10 (its misses mostly a 1 read as a 7)."""
    rng = np.random.default_rng(20261205)
    right = 0
    for _ in range(20):
        scene = render_crop(rng, level="clean", size_px=224, more_fonts=True)
        want = cyclic_key(scene.heads[0].clockwise_labels())
        right += any(cyclic_key(r.best.segments) == want for r in reader.read(scene.rgb))
    assert right >= 14
