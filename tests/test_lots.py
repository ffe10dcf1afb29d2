"""Painted markings: text generators fit their seeded formats, the renderer's quads sit on the paint, line
flattening and the line detector's target coding are consistent."""

import math

import cv2
import numpy as np

from datasets import degrade
from datasets.lot_text import (
    GENERATORS,
    NOMENCLATURE,
    OTHER_LINES,
    composed_nomenclature,
    composed_other,
    sample_lot,
    sample_nomenclature,
    sample_other,
)
from datasets.lots import (
    blurred,
    draw_tilt,
    fade_end,
    framed_close,
    glyph_cut,
    glyph_width,
    line_height,
    render_marking,
    rust_layer,
    soften_marking,
    surface,
)
from model.charset import decode_line, encode_line
from model.detection.heads import Letterbox
from model.detection.lines import LineBox, box_of_quad, decode_lines, encode_line_targets, frames, shared_ways
from model.lot_reader import _label_lot
from model.matching.formats import is_designation, parse_lot
from model.rectify.lines import (
    flatten_line,
    flatten_line_colours,
    flatten_line_rgb,
    quad_axes,
    quad_size,
    turn_quad,
)
from model.structures import LineRead
from training.make_lot_data import detected_quads


def test_every_generator_fits_its_seeded_format():
    rng = np.random.default_rng(0)
    for name, gen in GENERATORS.items():
        for _ in range(50):
            text = gen(rng)
            assert parse_lot(text, circled_factory=name == "circled-factory-lot-year").format == name, (name, text)


def test_line_alphabet_keeps_cyrillic_and_circles():
    for text in ("ПГ-7ВМ", "((10))-04-11", "КОЛ. 6 ШТ", "M9024-08", "۱۲-۱۴-۴۵۱"):
        assert decode_line(encode_line(text)) == (text if "۱" not in text else "12-14-451")
    assert encode_line("В") != encode_line("B")  # Cyrillic Ve is not Latin B in a line


def _ink(strip: np.ndarray) -> float:
    s = strip.astype(np.float32)
    return float(np.abs(s - np.median(s)).mean())


def test_quads_sit_on_the_painted_lines():
    rng = np.random.default_rng(3)
    for _ in range(8):
        scene = render_marking(rng, level="clean")
        gray = cv2.cvtColor(scene.rgb, cv2.COLOR_RGB2GRAY)
        assert scene.lot is not None
        for line in scene.lines:
            on = flatten_line(gray, line.quad, height_px=32, width_px=320, margin=0.0)
            _, h = line.quad[3] - line.quad[0]
            off = flatten_line(gray, line.quad + np.float32([0, 2.5 * abs(h) + 4]), height_px=32, width_px=320)
            width = int(np.clip(32 * np.linalg.norm(line.quad[1] - line.quad[0]) / max(1, abs(h)), 8, 320))
            assert _ink(on[:, :width]) > _ink(off[:, :width]) or line.quad[:, 1].max() > gray.shape[0] * 0.85


def test_flattening_a_turned_quad_turns_the_strip():
    rng = np.random.default_rng(9)
    scene = render_marking(rng, level="clean", width=480)
    gray = cv2.cvtColor(scene.rgb, cv2.COLOR_RGB2GRAY)
    q = scene.lot.quad
    up = flatten_line(gray, q, height_px=32, width_px=320).astype(np.float32)
    down = flatten_line(gray, turn_quad(q), height_px=32, width_px=320).astype(np.float32)
    width = int(np.argmax(np.all(up == up[:, -1:], axis=0))) or 320  # the padded tail
    diff = np.abs(up[:, :width] - down[::-1, :width][:, ::-1]).mean()
    unturned = np.abs(up[:, :width] - down[:, :width]).mean()
    assert diff < 0.5 * unturned  # turned back, the strip matches (up to resampling); as it is, it does not


def test_line_targets_decode_back_to_the_lines():
    rng = np.random.default_rng(4)
    scene = render_marking(rng, level="clean", width=384)
    quads = [ln.quad for ln in scene.lines]
    identity = Letterbox(1.0, 0.0, 0.0)
    target, mask = encode_line_targets(quads, identity, 384)
    assert (mask >= 1.0).sum() == len(quads)  # each centre cell at full weight, the cells around it less
    out = target.copy()
    out[0] = np.where(target[0] >= 1.0, 8.0, -8.0)  # a perfect network's heatmap logits
    found = decode_lines(out, identity)
    assert len(found) == len(quads)
    for q in quads:
        cx, cy, hl, hh, ang = box_of_quad(q)
        best = min(found, key=lambda b: math.hypot(b.cx - cx, b.cy - cy))
        assert math.hypot(best.cx - cx, best.cy - cy) < 1.5
        assert abs(best.half_len - hl) < 0.05 * hl + 1 and abs(best.half_h - hh) < 0.1 * hh + 1
        assert abs(math.sin(best.angle_rad - ang)) < 0.05  # angle modulo 180 degrees


def test_sampled_lots_cover_circled_and_free_forms():
    rng = np.random.default_rng(1)
    lots = [sample_lot(rng) for _ in range(300)]
    assert any(lot.circled_factory for lot in lots) and any(lot.format == "free" for lot in lots)


def test_an_off_centre_peak_still_gives_its_lines_box():
    """A long line's heat ridge can peak away from its centre; the cells around the centre are trained to
    regress the whole line, so such a peak decodes to the line's own box, not one shifted along it."""
    rng = np.random.default_rng(4)
    scene = render_marking(rng, level="clean", width=384)
    identity = Letterbox(1.0, 0.0, 0.0)
    target, mask = encode_line_targets([ln.quad for ln in scene.lines], identity, 384)
    for ln in scene.lines:
        cx, cy, hl, hh, _ = box_of_quad(ln.quad)
        ys, xs = np.nonzero((mask > 0) & (mask < 0.9))
        off = [(y, x) for y, x in zip(ys, xs) if abs(x * 4 - cx) > 0.15 * hl and abs(y * 4 - cy) < hh]
        assert off, "the line has cells off its centre that regress it"
        y, x = off[0]
        out = target.copy()
        out[0] = -8.0
        out[0, y, x] = 8.0  # a heatmap peaking only there
        (box,) = decode_lines(out, identity)
        assert math.hypot(box.cx - cx, box.cy - cy) < 1.5 and abs(box.half_len - hl) < 0.05 * hl + 1
    _, centres_only = encode_line_targets([ln.quad for ln in scene.lines], identity, 384, dense=1.0)
    assert (centres_only > 0).sum() == len(scene.lines)


def _box(quad: np.ndarray, *, along: float = 0.0, length: float = 1.0, turned: bool = False) -> LineBox:
    """A detection of a true line: centre moved ``along`` half-lengths along it, length scaled, maybe turned."""
    cx, cy, hl, hh, ang = box_of_quad(quad)
    c, s = math.cos(ang), math.sin(ang)
    return LineBox(cx + along * hl * c, cy + along * hl * s, hl * length, hh, ang + (math.pi if turned else 0), 0.9)


def test_frames_wants_a_detection_centred_and_as_long_as_the_line():
    quad = render_marking(np.random.default_rng(2), level="clean").lines[0].quad
    assert frames(_box(quad), quad) and frames(_box(quad, along=0.05, length=1.06, turned=True), quad)
    assert not frames(_box(quad, along=0.3), quad)  # shifted along the line: reads part of it
    assert not frames(_box(quad, length=0.8), quad)  # too short: cuts a character off


def test_detector_cut_strips_take_the_true_text_the_true_way_up():
    """Training strips cut where the detector found the lines: a framing detection gets its line's text and is
    turned to the line's way up; a loose one is dropped; one on no line becomes an empty target."""
    rng = np.random.default_rng(3)
    scene = render_marking(rng, level="clean")
    truths = [(ln.quad, ln.text) for ln in scene.lines]
    quad, text = truths[0]
    far = LineBox(-500.0, -500.0, 40.0, 8.0, 0.0, 0.5)
    dets = [_box(quad, turned=True), _box(quad, along=0.4), far]
    cuts = detected_quads(dets, truths, rng, false_share=1.0)
    assert [t for _, t in cuts] == [text, ""]
    assert float(quad_axes(cuts[0][0])[0] @ quad_axes(quad)[0]) > 0.99
    assert [t for _, t in detected_quads(dets, truths, rng, false_share=0.0)] == [text]


def test_colour_strips_keep_paint_that_differs_from_its_surface_in_hue():
    """Red paint on olive drab is nearly as bright as the olive: the luminance strip loses most of its contrast,
    the strip projected on the colours' principal axis keeps it, and stays signed like luminance."""
    rgb = np.zeros((60, 200, 3), np.uint8)
    rgb[:] = (96, 100, 60)  # olive drab
    cv2.putText(rgb, "12-14-451", (10, 42), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (170, 40, 35), 3)  # red stencil
    quad = np.float32([[5, 12], [195, 12], [195, 50], [5, 50]])
    gray = flatten_line(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), quad)
    colour = flatten_line_rgb(rgb, quad)
    assert colour.shape == gray.shape == (32, 320) and colour.dtype == np.uint8
    assert float(np.ptp(colour)) > 4 * float(np.ptp(gray))
    ink = flatten_line(np.ascontiguousarray(rgb[..., 1]), quad) < 70  # where the red paint is (low green)
    assert colour[ink].mean() < colour[~ink].mean()  # red is darker than olive, as in luminance



def test_the_second_colour_axis_shows_paint_the_surfaces_blotches_hide():
    """Yellow paint on tan-and-grey camouflage: the blotches vary most, so the first axis shows them and loses
    the paint; the second axis shows it. Contrast: the paint's mean against the tan ground's, in units of the
    strip's spread."""
    rgb = np.zeros((60, 200, 3), np.uint8)
    rgb[:] = (170, 150, 110)  # tan
    rgb[:, 60:130] = (70, 75, 70)  # a grey-green blotch across the line
    cv2.putText(rgb, "191/06", (20, 42), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (200, 180, 40), 3)  # yellow
    quad = np.float32([[5, 12], [195, 12], [195, 50], [5, 50]])
    first, second = flatten_line_colours(rgb, quad, axes=2)
    assert np.array_equal(first, flatten_line_rgb(rgb, quad))
    yellow = np.abs(flatten_line(rgb, quad).astype(int) - (200, 180, 40)).sum(-1) < 60
    blotch = flatten_line(np.ascontiguousarray(rgb[..., 0]), quad) < 120

    def contrast(strip: np.ndarray) -> float:  # yellow against the tan around it (the fill is tan too)
        return float(abs(strip[yellow & ~blotch].mean() - strip[~yellow & ~blotch].mean()) / strip.std())

    assert contrast(second) > 4 * contrast(first)  # measured 4.85 against 0.45


def test_a_surface_can_be_forced_into_camouflage_or_kept_plain():
    """``camo=True`` covers the surface in large drab blobs (its colours vary far more than the plain paint's
    texture), ``camo=False`` keeps it plain; the same seed otherwise."""
    plain = surface(120, 240, np.random.default_rng(3), "sand", camo=False)
    camo = surface(120, 240, np.random.default_rng(3), "sand", camo=True)
    assert camo.reshape(-1, 3).std(0).mean() > 3 * plain.reshape(-1, 3).std(0).mean()


def test_fade_end_thins_one_end_of_the_line_only():
    cover = np.zeros((60, 200), np.float32)
    cover[20:40, 40:160] = 1.0
    quad = np.float32([[40, 20], [160, 20], [160, 40], [40, 40]])
    faded = fade_end(cover, quad, np.random.default_rng(1))
    ends = faded[30, 40], faded[30, 159]
    assert max(ends) == 1.0 and min(ends) <= 0.3  # one end as painted, the other at 10-30 %
    assert faded[30, 100] == 1.0  # the middle of the line keeps its paint (the fade spans at most 45 %)
    assert faded[:5].sum() == 0 and np.array_equal(faded[:, :40], cover[:, :40])


def test_a_close_framed_photo_keeps_every_line_whole_up_to_its_edges():
    """Cropped at the sides to its lines: the outermost line ends lie within half a line height of the photo's
    edges, every quad inside the photo and on the same pixels as before the crop."""
    rng = np.random.default_rng(8)
    for _ in range(6):
        scene = render_marking(rng, level="clean")
        close = framed_close(scene, rng)
        quads = np.stack([ln.quad for ln in close.lines])
        line_h = float(np.median([np.linalg.norm(q[3] - q[0]) for q in quads]))
        w = close.rgb.shape[1]
        assert 0 <= quads[..., 0].min() <= 0.5 * line_h + 1 and w - 0.5 * line_h - 1 <= quads[..., 0].max() <= w
        a = int(round(scene.lines[0].quad[0, 0] - close.lines[0].quad[0, 0]))
        assert np.array_equal(close.rgb, scene.rgb[:, a:a + w])
        assert [ln.text for ln in close.lines] == [ln.text for ln in scene.lines]


def test_a_glyph_cut_photo_loses_part_of_its_outermost_glyphs_and_no_more():
    """Cropped through its outermost glyphs: the line reaching farthest right runs past the photo's edge, no line
    by more than 0.4 of its glyph pitch (on the left only where that side was cut), the pixels and texts
    are the original ones."""
    rng = np.random.default_rng(9)
    cut_left = 0
    for _ in range(12):
        scene = render_marking(rng, level="clean")
        cut = glyph_cut(scene, rng)
        w = cut.rgb.shape[1]
        a = int(round(scene.lines[0].quad[0, 0] - cut.lines[0].quad[0, 0]))
        assert np.array_equal(cut.rgb, scene.rgb[:, a:a + w])
        assert [ln.text for ln in cut.lines] == [ln.text for ln in scene.lines]
        beyond = [max(0.0, float(ln.quad[:, 0].max()) - w) / glyph_width(ln) for ln in cut.lines]
        before = [max(0.0, -float(ln.quad[:, 0].min())) / glyph_width(ln) for ln in cut.lines]
        assert max(beyond) > 0.0 and max(beyond) <= 0.4 + 1e-3, beyond
        assert max(before) <= 0.4 + 1e-3, before
        cut_left += a > 0
    assert 1 <= cut_left <= 9  # about 30 % of photos are cut on the left too


def test_a_lengthened_box_keeps_its_centre_and_gains_line_heights_at_each_end():
    box = LineBox(100.0, 50.0, 40.0, 8.0, 0.3, 0.7)
    longer = box.lengthened(0.5)
    assert (longer.cx, longer.cy, longer.half_h, longer.angle_rad, longer.score) == (100.0, 50.0, 8.0, 0.3, 0.7)
    assert longer.half_len == 40.0 + 0.5 * 16.0
    q, lq = box.quad(), longer.quad()
    assert np.allclose(np.linalg.norm(lq[1] - lq[0]) - np.linalg.norm(q[1] - q[0]), 16.0, atol=1e-3)


def test_loose_strips_add_a_longer_cut_of_every_line(tmp_path, lot_lines):
    """``make_lot_data --loose 1`` cuts every true line of a scene a second time, from a longer quad, with the
    same text; without it, one strip per line."""
    texts = {loose: [str(t) for t in lot_lines(tmp_path / loose, "--seed", "7", "--count", "1",
                                                 "--loose", loose)["texts"]] for loose in ("0", "1")}
    assert texts["0"] and texts["1"] == texts["0"] + texts["0"]


def _sharpness(rgb: np.ndarray, quad: np.ndarray) -> float:
    """Variance of the Laplacian of the luminance inside a line's box (high for crisp strokes)."""
    x0, y0 = np.floor(quad.min(0)).astype(int).clip(0)
    x1, y1 = np.ceil(quad.max(0)).astype(int)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[y0:y1, x0:x1].astype(np.float32)
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


def test_blur_is_measured_in_line_heights_and_leaves_the_lines_in_place():
    """``blurred(scene, f)`` is a Gaussian of f times the scene's median line height (about the lot line's own
    height): the lot line loses most of its sharpness at 0.1, the truths are untouched and 0 changes nothing."""
    scene = render_marking(np.random.default_rng(21), level="clean", width=640)
    assert blurred(scene, 0.0) is scene
    soft = blurred(scene, 0.1)
    assert soft.lines == scene.lines and soft.rgb.shape == scene.rgb.shape and soft.rgb.dtype == np.uint8
    lot = scene.lot.quad
    assert _sharpness(soft.rgb, lot) < 0.2 * _sharpness(scene.rgb, lot)
    h = line_height(scene)
    assert abs(h - np.linalg.norm(lot[3] - lot[0])) < 0.5 * h  # lines of one marking are of a size
    direct = cv2.GaussianBlur(scene.rgb, (0, 0), 0.1 * h)
    assert np.array_equal(soft.rgb, direct)


def test_softened_markings_are_repeatable_and_lose_detail():
    """``soften_marking`` draws its blur or resolution loss from the generator (the same seed, the same photo)
    and always leaves the lot line less sharp than rendered; the truths stay as they were."""
    rng = np.random.default_rng(5)
    for k in range(6):
        scene = render_marking(rng, level="clean")
        a = soften_marking(scene, np.random.default_rng(k))
        b = soften_marking(scene, np.random.default_rng(k))
        assert np.array_equal(a.rgb, b.rgb) and a.lines == scene.lines
        assert _sharpness(a.rgb, scene.lot.quad) < 0.7 * _sharpness(scene.rgb, scene.lot.quad)


def test_jpeg_round_trip_keeps_colours_in_rgb_order():
    """A red patch stays red (not blue) through ``degrade.jpeg``, and low quality costs more than high."""
    rgb = np.zeros((64, 64, 3), np.uint8)
    rgb[16:48, 16:48] = (200, 30, 30)
    rgb[::2, ::2] += 20
    hi, lo = degrade.jpeg(rgb, 95), degrade.jpeg(rgb, 20)
    assert hi.shape == rgb.shape and hi.dtype == np.uint8
    r, g, b = hi[32, 32].astype(int)
    assert r > 150 and b < 80
    err = [np.abs(x.astype(int) - rgb).mean() for x in (hi, lo)]
    assert err[0] < err[1]


def test_soft_strips_are_drawn_only_when_asked(tmp_path, lot_lines):
    """``make_lot_data --soft 1`` renders the same scenes as without it (its draws come from a stream of their
    own, so older seeds' shards stay the same) and cuts their lines from softer photos."""
    shards = {soft: lot_lines(tmp_path / soft, "--seed", "9", "--count", "2", "--soft", soft)
              for soft in ("0", "1")}
    assert list(shards["0"]["texts"]) == list(shards["1"]["texts"])
    assert not np.array_equal(shards["0"]["pixels"], shards["1"]["pixels"])


def test_a_tilted_marking_is_the_same_marking_turned_with_its_quads():
    """``render_marking(tilt=...)`` draws nothing more: the same texts, every line turned by the tilt, the quads
    still on the paint."""
    level, tilted = (render_marking(np.random.default_rng(21), level="clean", tilt=t) for t in (0.0, 30.0))
    assert [ln.text for ln in level.lines] == [ln.text for ln in tilted.lines]
    for a, b in zip(level.lines, tilted.lines):
        turn = math.degrees(box_of_quad(a.quad)[4] - box_of_quad(b.quad)[4])  # image y points down
        assert abs((turn + 90) % 180 - 90 - 30) < 2
    gray = cv2.cvtColor(tilted.rgb, cv2.COLOR_RGB2GRAY)
    for line in tilted.lines:
        on = flatten_line(gray, line.quad, height_px=32, width_px=320, margin=0.0)
        _, h = quad_size(line.quad)
        angle = box_of_quad(line.quad)[4]
        normal = np.float32([-math.sin(angle), math.cos(angle)])
        off = flatten_line(gray, line.quad + normal * (2.5 * h + 4), height_px=32, width_px=320)
        assert _ink(on) > _ink(off)


def test_tilts_come_either_way_within_their_range():
    rng = np.random.default_rng(5)
    tilts = np.array([draw_tilt(rng, 10, 30) for _ in range(200)])
    assert np.all((np.abs(tilts) >= 10) & (np.abs(tilts) <= 30))
    assert 60 < (tilts > 0).sum() < 140


def test_tilted_strips_are_drawn_only_when_asked(tmp_path, lot_lines):
    """``make_lot_data --tilted 1`` renders the same texts as without it (a stream of its own) and cuts them from
    turned photos."""
    shards = {t: lot_lines(tmp_path / t, "--seed", "9", "--count", "2", "--tilted", t) for t in ("0", "1")}
    assert list(shards["0"]["texts"]) == list(shards["1"]["texts"])
    assert not np.array_equal(shards["0"]["pixels"], shards["1"]["pixels"])


def test_varied_texts_are_composed_designations_counts_and_factory_year_lots():
    """``varied`` composes nomenclature that is still never taken for a lot, counts and weights with their own
    numbers, and lots in the factory/year form with a three-digit factory; without it the lists stay as they
    were (older seeds' scenes the same)."""
    rng = np.random.default_rng(3)
    names = [composed_nomenclature(rng) for _ in range(2000)]
    assert all(is_designation(t) for t in names)
    assert len(set(names)) > 800 and any("MM" in t for t in names) and any("9М" in t for t in names)
    others = [composed_other(rng) for _ in range(500)]
    assert not any(parse_lot(t).format for t in others) and len(set(others)) > 150
    for text in names[:50] + others[:50]:
        assert decode_line(encode_line(text)) == text
    lots = [sample_lot(rng, varied=True).text for _ in range(3000)]
    assert any(len(t) == 6 and t[3] == "/" and t.replace("/", "").isdigit() for t in lots)
    plain = np.random.default_rng(4)
    assert {sample_nomenclature(plain) for _ in range(300)} <= set(NOMENCLATURE)
    assert all(t in OTHER_LINES or t.count(".") == 2 for t in (sample_other(plain) for _ in range(300)))  # or a date
    assert not any(len(t) == 6 and t[3] == "/" for t in (sample_lot(plain).text for _ in range(3000)))


def test_the_lot_line_is_still_picked_among_composed_lines():
    """A lot beside composed nomenclature and counts is labelled the lot (``model.lot_reader._label_lot``)."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        lot = sample_lot(rng, varied=True)
        texts = [composed_nomenclature(rng), lot.text, composed_other(rng)]
        reads = [LineRead("text", ((0, 0),) * 4, t, (1.0,) * len(t), (), lot.circled_factory and t == lot.text)
                 for t in texts]
        labelled = [r.text for r in _label_lot(reads) if r.kind == "lot"]
        assert labelled == [lot.text], texts


def test_varied_scenes_are_drawn_only_when_asked(tmp_path, lot_lines):
    """``make_lot_data --varied 1`` puts composed lines into its strips' targets; without it no draw is made."""
    plain = lot_lines(tmp_path / "plain", "--seed", "9", "--count", "6")
    varied = lot_lines(tmp_path / "varied", "--seed", "9", "--count", "6", "--varied", "1")
    listed = set(NOMENCLATURE) | set(OTHER_LINES)
    assert sum(t in listed for t in varied["texts"]) < sum(t in listed for t in plain["texts"])
    again = lot_lines(tmp_path / "again", "--seed", "9", "--count", "6", "--varied", "0")
    assert list(again["texts"]) == list(plain["texts"])


def test_a_whole_double_circle_reaches_over_its_neighbours_and_the_quad_holds_its_band():
    """``whole`` draws the circled factory code's double circle round its first field and over the lines around
    it (as stencilled), the lot's quad holding the circle's band from its outer arc on, half a line height above
    and below the text, as the default's quad holds its own circle, which stays within the line's band."""
    from datasets.lots import _paint_layer

    lines = [("PG-9V", False), ("10-04-11", True), ("1 PC", False)]
    heights, outside = {}, {}
    for whole in (False, True):
        cover, quads = _paint_layer(300, 400, lines, np.random.default_rng(2), stencil=False,
                                    font_name="DejaVuSans.ttf", whole=whole)
        if whole:  # the circle's ink, beyond the other lines' quads, lies within the lot quad's columns
            others = np.zeros(cover.shape, np.uint8)
            for q in (quads[0], quads[2]):
                cv2.fillPoly(others, [q.astype(np.int32)], 1)
            cols = np.nonzero(((cover > 0.3) & (cv2.dilate(others, np.ones((5, 5), np.uint8)) == 0)).any(0))[0]
            assert quads[1][0][0] <= cols.min() + 1 and cols.max() <= quads[1][1][0]
            assert quads[1][0][0] < quads[0][0][0]  # the circle reaches left of the nomenclature's text
        inside = np.zeros(cover.shape, np.uint8)
        for q in quads:
            cv2.fillPoly(inside, [q.astype(np.int32)], 1)
        inside = cv2.dilate(inside, np.ones((5, 5), np.uint8))
        outside[whole] = float((cover * (1 - inside)).sum())
        heights[whole] = float(quads[1][2][1] - quads[1][0][1])
        text_h = float(quads[0][2][1] - quads[0][0][1])
    assert outside[False] < 1 and outside[True] > 100  # paint beyond every line's quad: the circle's arcs
    assert abs(heights[True] - heights[False]) < 0.25 * heights[False]  # each quad holds its circle's band
    assert abs(heights[True] - 2 * text_h) < 0.35 * text_h


def test_more_fonts_draw_footless_ones_and_only_when_asked(tmp_path, lot_lines, monkeypatch):
    """``render_marking(more_fonts=True)`` also draws the Liberation and Roboto faces (Roboto's 1 has no foot where
    every DejaVu and Liberation 1 stands on one); ``make_lot_data --more-fonts 0`` makes no draw, so older seeds'
    shards stay the same."""
    import datasets.lots as lots

    def bottom_over_stem(font_name: str) -> float:  # ink across the 1's bottom row over its stem's width
        m = lots.line_mask("1", 60, np.random.default_rng(0), stencil=False, font_name=font_name) > 0.5
        rows = m[m.any(1)]
        return rows[-2].sum() / rows[len(rows) // 2].sum()

    assert bottom_over_stem("DejaVuSans-Bold.ttf") > 2.5 and bottom_over_stem("LiberationSans-Bold.ttf") > 2.5
    assert bottom_over_stem("Roboto-Bold.ttf") < 1.3
    drawn: dict[bool, set[str]] = {False: set(), True: set()}
    real_mask = lots.line_mask
    for more in (False, True):
        def spy(*args, font_name: str, more: bool = more, **kw):
            drawn[more].add(font_name)
            return real_mask(*args, font_name=font_name, **kw)
        monkeypatch.setattr(lots, "line_mask", spy)
        for seed in range(24):
            render_marking(np.random.default_rng(seed), level="clean", width=320, more_fonts=more)
    assert drawn[False] <= set(lots.FONT_NAMES)
    assert {"Roboto-Bold.ttf", "LiberationSans-Bold.ttf"} <= drawn[True] <= set(lots.FONT_NAMES + lots.MORE_FONT_NAMES)
    monkeypatch.undo()
    plain = lot_lines(tmp_path / "plain", "--seed", "9", "--count", "6")
    off = lot_lines(tmp_path / "off", "--seed", "9", "--count", "6", "--more-fonts", "0")
    more = lot_lines(tmp_path / "more", "--seed", "9", "--count", "6", "--more-fonts", "1")
    assert np.array_equal(off["pixels"], plain["pixels"]) and list(off["texts"]) == list(plain["texts"])
    assert more["pixels"].shape != plain["pixels"].shape or not np.array_equal(more["pixels"], plain["pixels"])


def test_a_markings_lines_share_their_way_up():
    """Two parallel lines of one marking, the second given at the opposite angle (way 0 is its turned way): the
    sure nomenclature line (lean +5 for its way 0) outweighs the lot line of symmetric digits (lean +0.3 for its
    own way 0, which is upside down), so both read the nomenclature's way. A line far away, or across them,
    keeps its own way; so does a line alone."""
    top = LineBox(200, 100, 80, 12, 0.0, 0.9)
    lot = LineBox(205, 135, 90, 12, math.pi, 0.9)  # 35 px below: one marking
    far = LineBox(900, 600, 80, 12, math.pi, 0.9)
    across = LineBox(200, 160, 80, 12, math.pi / 2, 0.9)
    assert shared_ways([top, lot], [5.0, 0.3]) == [0, 1]
    assert shared_ways([top, lot], [-5.0, 0.3]) == [1, 0]
    assert shared_ways([top, lot, far, across], [5.0, 0.3, 0.3, -0.2]) == [0, 1, 0, 1]
    assert shared_ways([lot], [-0.1]) == [1] and shared_ways([], []) == []


def test_rust_spreads_with_its_amount_in_rust_colours():
    """``rust_layer`` is repeatable, covers more of the surface the larger its amount, and is orange to dark brown
    (red over green over blue) where it covers."""
    light, heavy = (rust_layer(200, 300, np.random.default_rng(4), amount) for amount in (0.2, 0.9))
    again = rust_layer(200, 300, np.random.default_rng(4), 0.2)
    assert np.array_equal(light[0], again[0]) and np.array_equal(light[1], again[1])
    assert heavy[0].mean() > 2 * light[0].mean() and heavy[0].max() <= 1 and light[0].min() >= 0
    alpha, colour = heavy
    r, g, b = (colour[..., k][alpha > 0.5] for k in range(3))
    assert r.size > 0.05 * alpha.size and r.mean() > g.mean() + 20 > b.mean() + 30


def test_a_rusted_marking_is_the_same_marking_on_corroded_metal():
    """``render_marking(rust=...)`` draws only from its own generator: the same texts and quads; a metal surface
    turns redder where the rust lies, a wooden crate is left as it was."""
    kinds = set()
    for seed in range(8):
        plain = render_marking(np.random.default_rng(seed), level="worn")
        rusty = render_marking(np.random.default_rng(seed), level="worn", rust=np.random.default_rng(100 + seed))
        assert [ln.text for ln in plain.lines] == [ln.text for ln in rusty.lines]
        assert all(np.array_equal(a.quad, b.quad) for a, b in zip(plain.lines, rusty.lines))
        changed = np.abs(plain.rgb.astype(int) - rusty.rgb).sum(2) > 30
        kinds.add(bool(changed.any()))
        if changed.any():
            redness = [(x[..., 0].astype(int) - x[..., 2])[changed].mean() for x in (plain.rgb, rusty.rgb)]
            assert redness[1] > redness[0] + 15
    assert kinds == {True, False}  # some scenes are wooden crates


def test_rusty_strips_are_drawn_only_when_asked(tmp_path, lot_lines):
    """``make_lot_data --rusty 1`` renders the same texts as without it (a stream of its own) and cuts them from
    rusted photos."""
    shards = {t: lot_lines(tmp_path / t, "--seed", "10", "--count", "3", "--rusty", t) for t in ("0", "1")}
    assert list(shards["0"]["texts"]) == list(shards["1"]["texts"])
    assert not np.array_equal(shards["0"]["pixels"], shards["1"]["pixels"])


def test_small_markings_are_rendered_at_the_smallest_width_only_when_asked(tmp_path, lot_lines, monkeypatch):
    """``make_lot_data --small 1`` renders every marking 320 pixels wide; ``--small 0`` makes no draw, so a seed's
    shard is the one it was without the option."""
    from datasets import lots as lot_renderer
    from training import make_lot_data

    widths: list[int] = []

    def recording(rng, **kw):
        scene = lot_renderer.render_marking(rng, **kw)
        widths.append(scene.rgb.shape[1])
        return scene

    monkeypatch.setattr(make_lot_data, "render_marking", recording)
    plain = lot_lines(tmp_path / "plain", "--seed", "12", "--count", "4")
    off = lot_lines(tmp_path / "off", "--seed", "12", "--count", "4", "--small", "0")
    assert list(plain["texts"]) == list(off["texts"]) and np.array_equal(plain["pixels"], off["pixels"])
    assert set(widths[:4]) - {320}  # a default draw of four photos is not all of the smallest width
    del widths[:]
    lot_lines(tmp_path / "small", "--seed", "12", "--count", "4", "--small", "1")
    assert widths == [lot_renderer.WIDTHS[0]] * 4 == [320] * 4


def test_named_faces_draw_every_line_they_cover(tmp_path, lot_lines, monkeypatch):
    """``render_marking(faces=HELD_OUT_FACES)`` draws a marking's lines in one of those faces (a line a face does
    not cover, such as Cyrillic in a Latin-only face, in the default pool), never in the default faces' files;
    ``make_lot_data --stamp-faces 0`` leaves a seed's shard as it was, and 1 draws every scene in STAMP_FACES
    (``--debian-faces 1`` every scene in DEBIAN_FACES, the scenes otherwise the same)."""
    import datasets.lots as lots
    from datasets.fonts import DEBIAN_FACES, HELD_OUT_FACES, STAMP_FACES, named_fonts

    used: list[tuple[str, str]] = []
    real_mask = lots.line_mask

    def spy(text, *args, font_name: str, **kw):
        used.append((text, font_name))
        return real_mask(text, *args, font_name=font_name, **kw)

    monkeypatch.setattr(lots, "line_mask", spy)
    for seed in range(10):
        render_marking(np.random.default_rng(seed), level="clean", width=320, faces=HELD_OUT_FACES)
    assert used and {name for _, name in used} <= set(HELD_OUT_FACES)
    assert len({name for _, name in used}) >= 4
    covered = [t for t, name in used if named_fonts(t, (name,))]
    assert len(covered) >= len(used) // 2  # most lines are drawn in the named face itself
    used.clear()
    plain = lot_lines(tmp_path / "plain", "--seed", "9", "--count", "4")
    off = lot_lines(tmp_path / "off", "--seed", "9", "--count", "4", "--stamp-faces", "0")
    assert np.array_equal(off["pixels"], plain["pixels"]) and list(off["texts"]) == list(plain["texts"])
    assert not {name for _, name in used} & set(HELD_OUT_FACES + STAMP_FACES)
    lot_lines(tmp_path / "on", "--seed", "9", "--count", "4", "--stamp-faces", "1")
    assert {name for _, name in used} & set(STAMP_FACES)
    used.clear()
    debian = lot_lines(tmp_path / "debian", "--seed", "9", "--count", "4", "--debian-faces", "1")
    assert {name for _, name in used} <= set(DEBIAN_FACES) and len({name for _, name in used}) >= 2
    assert list(debian["texts"]) == list(plain["texts"])  # the same scenes, drawn in other faces
