"""Glyph-shape variation (``datasets.glyphs``): strokes grown and thinned by the asked width, glyphs widened and
slanted, and restyled heads drawn only when asked."""

import numpy as np
import pytest

from datasets import glyphs
from datasets.glyphs import GlyphStyle, restyle, reweight


def _bar(width: int) -> np.ndarray:
    """A vertical bar ``width`` pixels wide, 40 tall, on a 60 x 60 field."""
    m = np.zeros((60, 60), np.float32)
    m[10:50, 30 - width // 2:30 - width // 2 + width] = 1.0
    return m


def _ring() -> np.ndarray:
    """A ring whose stroke is 3 pixels wide beside a solid disc 20 pixels across (a thin and a thick stroke)."""
    yy, xx = np.mgrid[0:60, 0:100]
    r = np.hypot(xx - 25, yy - 30)
    disc = np.hypot(xx - 75, yy - 30) <= 10
    return (((r >= 15) & (r < 18)) | disc).astype(np.float32)


@pytest.mark.parametrize("grow", [-2.0, 0.0, 2.0, 3.5])
def test_reweight_grows_or_thins_a_stroke_on_each_side(grow):
    out = reweight(_bar(12), grow)
    assert out.shape[0] >= 60 and out.max() == 1.0
    width = int(out[out.shape[0] // 2].sum())
    assert abs(width - (12 + 2 * grow)) <= 1


def test_thinning_never_erases_a_thin_stroke():
    """A thinning wider than the ring's stroke is held back to half the thinnest stroke's half-width, so the ring
    stays closed (every ray from its centre still crosses ink), and thinning never adds ink."""
    thin = reweight(_ring(), -4.0)
    pad = (thin.shape[0] - 60) // 2
    ring = thin[pad:pad + 60, pad:pad + 50]
    angles = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    for a in angles:
        ray = [ring[int(round(30 + r * np.sin(a))), int(round(25 + r * np.cos(a)))] for r in np.arange(12, 21, 0.5)]
        assert max(ray) == 1.0
    assert not (thin[pad:pad + 60, pad:pad + 100] > _ring()).any()


def test_restyle_widens_and_slants_and_keeps_the_glyph_height():
    big = np.zeros((90, 60), np.float32)
    big[6:84, 24:36] = 1.0  # a stem 26 px tall and 4 px wide at the reduced size (supersampled 3x)
    plain = restyle(big, GlyphStyle(), 26)
    wide = restyle(big, GlyphStyle(width=1.3), 26)
    slant = restyle(big, GlyphStyle(shear=0.2), 26)
    back = restyle(big, GlyphStyle(shear=-0.2), 26)
    assert abs(plain.shape[0] - 30) <= 1 and abs(wide.shape[0] - plain.shape[0]) <= 1
    assert wide.shape[1] > plain.shape[1]

    def lean(m: np.ndarray) -> float:  # ink centre of the top rows minus that of the bottom rows, in columns
        cols = np.arange(m.shape[1])
        top, bottom = m[3:8], m[-8:-3]
        return float((top.sum(0) @ cols) / top.sum() - (bottom.sum(0) @ cols) / bottom.sum())

    assert abs(lean(plain)) < 0.5 and lean(slant) > 3 and lean(back) < -3  # italic leans right, its mirror left


def test_styles_stay_in_their_ranges_and_punches_are_true_without_jitter():
    rng = np.random.default_rng(0)
    styles = [glyphs.draw_style(rng) for _ in range(300)]
    assert all(glyphs.WIDTH[0] <= s.width <= glyphs.WIDTH[1] for s in styles)
    assert all(glyphs.WEIGHT[0] <= s.weight <= glyphs.WEIGHT[1] for s in styles)
    assert all(abs(s.shear) <= glyphs.SHEAR for s in styles)
    assert 0.5 < np.mean([s.jitter > 0 for s in styles]) < 0.8
    assert glyphs.punch_jitter(rng, GlyphStyle(), 20.0) == (0.0, 0.0)
    twists = [glyphs.punch_jitter(rng, GlyphStyle(jitter=1.0), 20.0) for _ in range(400)]
    assert 0.03 < np.std([t for t, _ in twists]) < 0.07 and 0.5 < np.std([s for _, s in twists]) < 1.1


def test_restyled_heads_keep_their_text_and_change_their_type(tmp_path, strip_shard):
    """``render_head(restyled=True)`` stamps the same segments as the same seed unrestyled, in other glyph shapes;
    ``make_strips --restyled 0`` makes no draw, so older seeds' shards stay the same."""
    from datasets.headstamp import render_head

    for seed in range(3):
        plain = render_head(np.random.default_rng(seed), radius_px=80)
        own = render_head(np.random.default_rng(seed), radius_px=80, restyled=True)
        assert [p.segment for p in own.segments] == [p.segment for p in plain.segments]
        assert [p.turned for p in own.segments] == [p.turned for p in plain.segments]
        assert own.glyphs.max() > 0.9 and not np.array_equal(own.glyphs, plain.glyphs)
    shards = {name: strip_shard(tmp_path / f"{name}.npz", "--seed", "4", "--count", "3", *extra)
              for name, extra in (("plain", []), ("off", ["--restyled", "0"]), ("on", ["--restyled", "1"]))}
    assert np.array_equal(shards["off"]["pixels"], shards["plain"]["pixels"])
    assert not np.array_equal(shards["on"]["pixels"], shards["plain"]["pixels"])


def test_restyled_markings_keep_their_lines_and_change_their_type(tmp_path, lot_lines):
    """``render_marking(style=...)`` paints the same lines in the same places as without it (it draws nothing from
    the scene's generator), in other letterforms: a wider style's lines run longer; ``make_lot_data
    --restyled 0`` leaves a seed's shard as it was and 1 changes its pixels, not its texts."""
    from datasets.lots import render_marking

    bold = GlyphStyle(width=1.2, weight=0.05)
    for seed in range(3):
        plain = render_marking(np.random.default_rng(seed), level="clean", width=480, tilt=0.0)
        own = render_marking(np.random.default_rng(seed), level="clean", width=480, style=bold)
        assert [(x.text, x.kind) for x in own.lines] == [(x.text, x.kind) for x in plain.lines]
        assert not np.array_equal(own.rgb, plain.rgb)
        widths = [(float(np.ptp(a.quad[:, 0])), float(np.ptp(b.quad[:, 0]))) for a, b in zip(plain.lines, own.lines)]
        assert sum(b for _, b in widths) > sum(a for a, _ in widths)  # the wider type's lines run longer
    plain = lot_lines(tmp_path / "plain", "--seed", "9", "--count", "3")
    off = lot_lines(tmp_path / "off", "--seed", "9", "--count", "3", "--restyled", "0")
    on = lot_lines(tmp_path / "on", "--seed", "9", "--count", "3", "--restyled", "1")
    assert np.array_equal(off["pixels"], plain["pixels"]) and list(off["texts"]) == list(plain["texts"])
    assert list(on["texts"]) == list(plain["texts"]) and not np.array_equal(on["pixels"], plain["pixels"])
