import math

import cv2
import numpy as np

from datasets.headstamp import render_head
from datasets.sampler import Segment
from datasets.scenes import draw_case_wall
from model.rectify.polar import (
    Band,
    angle_column,
    clock_hour,
    column_angle,
    seam_by_energy,
    segment_clocks,
    unwrap,
)
from model.structures import Ellipse


def test_column_angle_round_trip():
    for seam in (0.0, 1.0, 5.9):
        for col in (0.0, 17.5, 319.0):
            ang = column_angle(col, seam_rad=seam, width_px=320)
            assert abs(angle_column(ang, seam_rad=seam, width_px=320) - col) < 1e-6


def test_clock_hour():
    assert abs(clock_hour(-math.pi / 2) - 0.0) < 1e-9
    assert abs(clock_hour(0.0) - 3.0) < 1e-9
    assert abs(clock_hour(math.pi / 2) - 6.0) < 1e-9


def _glyph_columns(strip: np.ndarray) -> np.ndarray:
    """Columns whose vertical detail stands out: where the glyphs are."""
    s = strip.astype(np.float32)
    s -= np.median(s, axis=1, keepdims=True)
    energy = np.abs(s).sum(axis=0)
    return np.flatnonzero(energy > energy.mean() + energy.std())


def test_known_text_lands_in_known_column():
    rng = np.random.default_rng(7)
    head = render_head(rng, radius_px=100, segments=[Segment("539", "539"), Segment("83", "83")])
    gray = cv2.cvtColor(head.rgb, cv2.COLOR_RGB2GRAY)
    c = head.rgb.shape[0] / 2
    rim = Ellipse(c, c, head.radius_px, head.radius_px, 0.0)
    band = Band()
    for seam in (0.0, 2.0):
        strip = unwrap(gray, rim, seam_rad=seam, band=band)
        assert strip.shape == (band.height_px, band.width_px)
        cols = _glyph_columns(strip)
        for seg in head.segments:
            want = angle_column(seg.center_rad, seam_rad=seam, width_px=band.width_px)
            near = np.min(np.abs((cols - want + band.width_px / 2) % band.width_px - band.width_px / 2))
            assert near < 6, (seg.segment.glyphs, want)


def test_tilted_rim_unwraps_like_the_face_on_one():
    rng = np.random.default_rng(3)
    head = render_head(rng, radius_px=100, segments=[Segment("711", "711"), Segment("88", "88")])
    gray = cv2.cvtColor(head.rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    c = gray.shape[0] / 2
    k, phi = math.cos(math.radians(35)), 0.6
    rot = np.array([[math.cos(phi), -math.sin(phi)], [math.sin(phi), math.cos(phi)]])
    lin = rot @ np.diag([1.0, k]) @ rot.T
    t = np.array([c, c]) - lin @ np.array([c, c])
    tilted = cv2.warpAffine(gray, np.hstack([lin, t[:, None]]).astype(np.float32), gray.shape[::-1])
    flat = unwrap(gray.astype(np.uint8), Ellipse(c, c, 100, 100, 0), seam_rad=0.0)
    skew = unwrap(tilted.astype(np.uint8), Ellipse(c, c, 100, 100 * k, phi), seam_rad=0.0)
    corr = np.corrcoef(flat.ravel().astype(float), skew.ravel().astype(float))[0, 1]
    assert corr > 0.8


def test_energy_seam_falls_between_segments():
    rng = np.random.default_rng(11)
    for _ in range(5):
        head = render_head(rng, radius_px=100)
        gray = cv2.cvtColor(head.rgb, cv2.COLOR_RGB2GRAY)
        c = gray.shape[0] / 2
        seam = seam_by_energy(gray, Ellipse(c, c, 100, 100, 0))
        for seg in head.segments:
            inside = (seam - seg.start_rad) % (2 * math.pi) < (seg.end_rad - seg.start_rad) % (2 * math.pi)
            assert not inside, (seg.segment.glyphs, seam)


def test_renders_are_repeatable_from_the_seed():
    from datasets.scenes import render_crop

    a = render_crop(np.random.default_rng(5), level="worn", size_px=128).rgb
    b = render_crop(np.random.default_rng(5), level="worn", size_px=128).rgb
    assert np.array_equal(a, b)


def test_segments_take_runs_in_strip_order():
    from model.rectify.polar import assign_runs

    # three segments, four runs (one spurious between the first two): order is kept, the spurious run skipped
    assert assign_runs((0.10, 0.45, 0.80), [0.15, 0.30, 0.50, 0.85]) == [0, 2, 3]
    # one run for two segments: the nearer segment takes it, the other keeps its own position
    assert assign_runs((0.20, 0.60), [0.62]) == [None, 0]
    # CTC emits the last segment late (at the strip's end): in order, it still takes the run left for it
    assert assign_runs((0.11, 0.99), [0.20, 0.68]) == [0, 1]
    assert assign_runs((), [0.5]) == [] and assign_runs((0.3,), []) == [None]


def test_a_segment_in_a_run_merged_with_others_keeps_its_own_position():
    """A glyph run wider than a quarter of the ring is several things merged (a segment and a scratch, two
    segments): the segment sits where the recognizer put it, inside the run, not at the run's centre."""
    rng = np.random.default_rng(0)
    strip = np.full((40, 320), 128, np.uint8)
    strip[10:30, 40:60] = rng.choice([40, 220], (20, 20))  # a narrow run: a segment there takes its centre
    strip[10:30, 120:260] = rng.choice([40, 220], (20, 140))  # a wide run (0.44 of the ring)
    c = segment_clocks(strip, 0.0, (0.17, 0.45))
    assert abs(c[0] - clock_hour(2 * np.pi * 50 / 320)) < 0.05
    assert abs(c[1] - clock_hour(2 * np.pi * 0.45)) < 0.05


def test_case_wall_shows_past_a_tilted_rim_on_one_side_only():
    """The case's side is drawn beyond the rim towards the side asked for, never on the other side; a head seen
    face-on shows no side at all."""
    rim = Ellipse(100.0, 100.0, 60.0, 36.0, 0.0)  # tilted: the case axis projects onto the image's y axis
    colour = np.array([200.0, 150.0, 50.0], np.float32)
    canvas = np.zeros((200, 200, 3), np.float32)
    draw_case_wall(canvas, rim, colour, depth=0.5, side=1, groove=0.4)
    painted = canvas.sum(-1) > 1
    assert painted[140:155, 100].all() and not painted[:60, :].any()  # below the rim, nothing above it
    assert painted[100, 100]  # the face will cover the part behind it
    flat = np.zeros_like(canvas)
    draw_case_wall(flat, Ellipse(100.0, 100.0, 60.0, 60.0, 0.0), colour, depth=0.5, side=1, groove=0.4)
    assert not flat.any()
