"""A line's angle refined from its paint (model.rectify.deskew): drawn bars, then rendered markings."""

import math

import cv2
import numpy as np
import pytest

from datasets.lots import render_marking
from model.detection.lines import LineBox, box_of_quad
from model.rectify.deskew import fit_line, line_window, profile_spread, text_turn


def _bar(angle_deg: float, *, size: int = 240, length: int = 160, height: int = 16, paint: int = 220,
         ground: int = 60) -> np.ndarray:
    """A painted bar of glyph-like ticks turned ``angle_deg`` (counter-clockwise on screen) about the centre."""
    img = np.full((size, size, 3), ground, np.uint8)
    for x in range(-length // 2, length // 2, 12):  # ticks, as a line of glyphs (not one solid block)
        cv2.rectangle(img, (size // 2 + x, size // 2 - height // 2), (size // 2 + x + 7, size // 2 + height // 2),
                      (paint,) * 3, -1)
    m = cv2.getRotationMatrix2D((size / 2, size / 2), angle_deg, 1.0)
    return cv2.warpAffine(img, m, (size, size), borderValue=(ground,) * 3)


def _level_box(size: int = 240, length: int = 160, height: int = 16, angle_rad: float = 0.0) -> LineBox:
    return LineBox(size / 2, size / 2, length / 2, height / 2 * 1.3, angle_rad, 1.0)


@pytest.mark.parametrize("angle", [-30.0, -12.0, 7.0, 25.0])
def test_a_box_lying_level_on_a_turned_line_is_turned_onto_it(angle):
    fit = fit_line(_bar(angle), _level_box().quad(), span_deg=40.0)
    # cv2 turns counter-clockwise on screen, which in the image's y-down frame is a negative angle
    assert math.degrees(fit.turn) == pytest.approx(-angle, abs=1.0)
    assert fit.gain > 1.5


def test_a_box_already_on_its_line_is_left_as_it_is():
    for angle in (0.0, 20.0):
        box = _level_box(angle_rad=math.radians(-angle))
        fit = fit_line(_bar(angle), box.quad(), span_deg=40.0, min_gain=1.1, min_turn_deg=3.0)
        assert fit.turn == 0.0 and fit.gain < 1.1


def test_a_turn_is_kept_only_where_the_box_could_hold_the_line_so_turned():
    """A level box as tall as its text cannot lie on a line turned 25 degrees (its ends would rise 34 pixels out
    of a box 10 pixels high each side of its axis): only a rise its box allows is kept."""
    img, box = _bar(25.0), _level_box()
    assert math.degrees(fit_line(img, box.quad(), rise=4.0).turn) == pytest.approx(-25.0, abs=1.0)
    assert fit_line(img, box.quad(), rise=2.0).turn == 0.0
    assert fit_line(img, box.quad(), min_gain=1e5).turn == 0.0  # nor a gain short of the one asked
    assert fit_line(img, box.quad(), min_gain=1.0, gain_per_deg=4e3).turn == 0.0  # ... which grows with the turn


def test_the_spread_peaks_where_rows_follow_the_line_whichever_way_the_paint_contrasts():
    for paint, ground in ((220, 60), (40, 200)):  # light paint on dark, dark on light
        img = _bar(15.0, paint=paint, ground=ground)
        window, half_len, half_h = line_window(img, _level_box().quad(), span_rad=math.radians(40), half_h_px=8.0)
        turns = np.radians([-25.0, -15.0, -5.0, 0.0, 5.0, 15.0])
        spread = profile_spread(window, half_len, half_h, turns)
        assert int(np.argmax(spread)) == 1
        turn, gain = text_turn(window, half_len, half_h, span_deg=40.0)
        assert math.degrees(turn) == pytest.approx(-15.0, abs=1.0) and gain > 1.5


def test_a_small_window_is_read_at_its_own_scale_and_a_large_one_shrunk():
    small = line_window(_bar(0.0), _level_box().quad(), span_rad=0.5, half_h_px=16.0)
    assert small[2] == pytest.approx(_level_box().half_h, rel=0.01)
    big = line_window(_bar(0.0, size=480, length=320, height=40), _level_box(480, 320, 40).quad(), span_rad=0.5,
                      half_h_px=8.0)
    assert big[2] == pytest.approx(8.0, rel=0.01)


def test_rendered_markings_turned_askew_get_their_angle_back():
    """Clean markings turned 20 degrees (``render_marking(tilt=...)``): each true line's box, laid level about its
    centre as a detector trained on level lines frames it, is turned back to within 2 degrees on most lines."""
    rng = np.random.default_rng(5)
    errors = []
    for _ in range(6):
        scene = render_marking(rng, level="clean", tilt=20.0)
        for line in scene.lines:
            cx, cy, half_len, half_h, angle = box_of_quad(line.quad)
            level = LineBox(cx, cy, half_len, half_h * 1.3, angle + math.radians(20.0), 1.0)
            fit = fit_line(scene.rgb, level.quad(), span_deg=40.0, min_gain=1.1, min_turn_deg=3.0)
            errors.append(abs(math.degrees(level.angle_rad + fit.turn - angle)))
    assert np.median(errors) < 1.0 and np.mean(np.array(errors) < 2.0) >= 0.8, errors
