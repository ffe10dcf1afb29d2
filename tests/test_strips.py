"""Training strips: segment spans sit on the glyphs, and the roll/turn augmentations keep labels true."""

import math

import numpy as np
import pytest

from datasets.strips import make_strip, parse_text, roll_strip, turn_strip
from model.charset import encode_strip


def _detail(strip: np.ndarray) -> np.ndarray:
    """Per-column vertical detail of a strip, with each row's median removed."""
    s = strip.astype(np.float32)
    s -= np.median(s, axis=1, keepdims=True)
    return np.abs(np.diff(s, axis=0)).sum(axis=0)


def _clean_strips(n: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    return [make_strip(rng, level="clean") for _ in range(n)]


def test_spans_cover_the_glyphs():
    inside, outside = [], []
    for s in _clean_strips(12):
        d = _detail(s.pixels)
        mask = np.zeros(len(d), bool)
        for a, b in s.spans:
            assert 0 <= a < b <= len(d) + 1
            mask[int(a):int(np.ceil(b))] = True
        inside.append(d[mask].mean())
        outside.append(d[~mask].mean())
    assert np.median(np.array(inside) / np.array(outside)) > 1.3


def test_stamped_mask_lies_on_the_glyphs_whatever_the_damage():
    """The strip's mask says where it was stamped: inside its segments' spans, at a quarter of its size, and as
    much on an obscured render as on a clean one (it is drawn before any damage)."""
    rng = np.random.default_rng(21)
    for level in ("clean", "obscured", "clean", "obscured"):
        s = make_strip(rng, level=level)
        h, w = s.pixels.shape
        assert s.mask.shape == (h // 4, w // 4) and s.mask.dtype == np.uint8
        cols = s.mask.sum(axis=0).astype(np.float64)
        inside = np.zeros(len(cols), bool)
        for a, b in s.spans:
            inside[max(0, int(a // 4) - 1):int(np.ceil(b / 4)) + 1] = True
        assert cols.sum() > 0 and cols[inside].sum() > 0.95 * cols.sum()


def test_text_round_trips_through_parse():
    for s in _clean_strips(5, seed=8):
        assert encode_strip(parse_text(s.text)) == s.classes


def test_turn_twice_is_identity_and_flips_orientation():
    s = _clean_strips(1, seed=5)[0]
    labels = parse_text(s.text)
    x1, l1, sp1 = turn_strip(s.pixels, labels, s.spans)
    assert [t for t, _ in l1] == [t for t, _ in labels[::-1]]
    assert all(a != b for (_, a), (_, b) in zip(l1, labels[::-1]))
    x2, l2, sp2 = turn_strip(x1, l1, sp1)
    assert np.array_equal(x2, s.pixels) and l2 == labels
    assert np.allclose(sp2, s.spans)


def test_roll_moves_the_seam_into_a_gap_and_rotates_labels():
    rng = np.random.default_rng(0)
    moved = 0
    for s in _clean_strips(8, seed=11):
        labels = parse_text(s.text)
        x, lab, spans = roll_strip(s.pixels, labels, s.spans, rng)
        w = s.pixels.shape[1]
        k = labels.index(lab[0])
        assert lab == labels[k:] + labels[:k]  # a cyclic rotation of the segments
        assert all(0 <= a < b <= w for a, b in spans)  # no segment is cut by the new seam
        assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
        shift = int(round(spans[0][0] - s.spans[k][0])) % w  # the pixels moved with the spans
        assert np.array_equal(np.roll(s.pixels, shift, axis=1), x)
        moved += lab != labels
    assert moved >= 3


def _ink_polar(straight: bool):
    """Angles and radii of the ink of one five-glyph segment drawn at 12 o'clock, and its reported span."""
    from datasets.fonts import font_paths
    from datasets.headstamp import _place_segment
    from datasets.sampler import Segment

    canvas = np.zeros((400, 400), np.float32)
    lo, hi = _place_segment(canvas, Segment("88888", "88888"), center=200.0, theta=-np.pi / 2, r_text=120.0,
                            glyph_h=30.0, font_path=font_paths()[0], turned=False, spacing=3.0, straight=straight)
    ys, xs = np.nonzero(canvas > 0.5)
    return np.arctan2(ys - 200.0, xs - 200.0), np.hypot(xs - 200.0, ys - 200.0), lo, hi


def test_straight_segments_run_along_the_tangent_inside_their_span():
    for straight in (False, True):
        ang, rad, lo, hi = _ink_polar(straight)
        assert lo < -np.pi / 2 < hi
        assert np.mean((ang > lo - 0.05) & (ang < hi + 0.05)) > 0.99  # the span covers the drawn glyphs
        ends = np.abs(ang + np.pi / 2) > 0.8 * (hi - lo) / 2
        lift = rad[ends].mean() - rad[~ends].mean()
        assert (lift > 6) if straight else (abs(lift) < 3)  # a chord's ends sit further out than its middle


def test_persian_share_and_fonts():
    """``persian`` forces that share of strips to Iranian-style heads (code, Solar Hijri year), drawn in the
    bundled Arabic-script fonts as well as DejaVu; those fonts never draw Latin heads."""
    from datasets.fonts import font_paths, fonts_for, persian_font_paths
    from datasets.sampler import persian_layout

    rng = np.random.default_rng(11)
    texts = [make_strip(rng, level="clean", persian=1.0).text for _ in range(6)]
    assert all(len(parse_text(t)) == 2 for t in texts)
    assert all(any(len(w.rstrip("~")) == 4 and w[:2] in ("13", "14") for w in t.split()) for t in texts)
    segs = persian_layout(np.random.default_rng(2))
    assert all(set(s.glyphs) <= set("۰۱۲۳۴۵۶۷۸۹") for s in segs) and segs[1].label[:2] in ("13", "14")
    bundled = set(persian_font_paths())
    assert len(bundled) >= 5 and not bundled & set(font_paths())
    assert bundled <= set(fonts_for("۱۳۸۲")) and not bundled & set(fonts_for("7.62"))


def test_more_fonts_stamp_footless_ones_and_only_when_asked(tmp_path, monkeypatch, strip_shard):
    """``render_head(more_fonts=True)`` (and ``render_crop``, ``render_frame``) stamps in Roboto (whose 1 has no
    foot where the default pool's DejaVu and Liberation 1s stand on one), Persian heads falling back to their own
    pool; ``make_strips --more-fonts`` sets the share, and 0 makes no draw, so older seeds' shards stay the same."""
    import datasets.headstamp as hs
    from datasets.fonts import font_paths
    from datasets.sampler import persian_layout
    from datasets.scenes import render_frame

    def bottom_over_stem(font_path: str) -> float:  # ink across the 1's bottom row over its stem's width
        rows = (hs._glyph_mask("1", font_path, 60) > 0.5)
        rows = rows[rows.any(1)]
        return rows[-2].sum() / rows[len(rows) // 2].sum()

    by_name = {p.rsplit("/", 1)[-1]: p for p in font_paths()}
    roboto = hs._font_pool("61 711", more_fonts=True)
    assert {p.rsplit("/", 1)[-1] for p in roboto} == set(hs.MORE_STAMP_FONTS)
    assert all(bottom_over_stem(p) < 1.3 for p in roboto)
    assert bottom_over_stem(by_name["DejaVuSans-Bold.ttf"]) > 2.5
    assert bottom_over_stem(by_name["LiberationSans-Bold.ttf"]) > 2.5
    real_mask = hs._glyph_mask

    def faces_drawn(render) -> set[str]:  # the font files ``render()`` stamps its glyphs in
        seen: set[str] = set()
        monkeypatch.setattr(hs, "_glyph_mask", lambda g, f, h, *style: seen.add(f) or real_mask(g, f, h, *style))
        render()
        return seen

    drawn = {more: faces_drawn(lambda more=more: [hs.render_head(np.random.default_rng(seed), radius_px=60,
                                                                 more_fonts=more) for seed in range(8)])
             for more in (False, True)}
    assert not drawn[False] & set(roboto) and len(drawn[True] & set(roboto)) >= 3
    framed = faces_drawn(lambda: render_frame(np.random.default_rng(3), level="clean", more_fonts=True))
    assert framed & set(roboto)  # video stills stamp so too
    persian = hs._font_pool("".join(s.glyphs for s in persian_layout(np.random.default_rng(2))), more_fonts=True)
    assert persian and not set(persian) & set(roboto)
    monkeypatch.undo()
    shards = {name: strip_shard(tmp_path / f"{name}.npz", "--seed", "4", "--count", "3", *extra)
              for name, extra in (("plain", []), ("off", ["--more-fonts", "0"]), ("more", ["--more-fonts", "1"]))}
    assert np.array_equal(shards["off"]["pixels"], shards["plain"]["pixels"])
    assert not np.array_equal(shards["more"]["pixels"], shards["plain"]["pixels"])


def test_make_strips_writes_a_shard_at_the_asked_size(tmp_path, monkeypatch):
    from training import make_strips

    out = tmp_path / "s.npz"
    monkeypatch.setattr("sys.argv", ["make_strips", "--seed", "4", "--count", "3", "--size", "48", "384",
                                     "--out", str(out)])
    make_strips.main()
    d = np.load(out)
    assert d["pixels"].shape == (3, 48, 384)
    n_segments = sum(len(parse_text(str(t))) for t in d["texts"])
    assert d["spans"].shape == (n_segments, 2)
    assert (d["spans"][:, 0] >= -1).all() and (d["spans"][:, 1] <= 384 + 1).all()
    assert d["spans"][:, 1].max() > 320  # spans are in the wider strip's columns
    assert d["masks"].shape == (3, 12, 96) and d["masks"].max() > 0


def test_load_shards_holds_model_ready_strips_compactly(tmp_path, monkeypatch):
    """Two shards loaded into one float16 array that matches the reader's own standardisation, labels in order,
    the strip size recorded; training batches come out as float32."""
    from model.charset import N_CLASSES
    from model.nets.crnn import CRNNConfig
    from model.recognition.preprocess import strips_to_input
    from training import make_strips
    from training.recognizer import load_shards

    paths = [tmp_path / f"s{k}.npz" for k in (1, 2)]
    for seed, out in zip((4, 5), paths):
        monkeypatch.setattr("sys.argv", ["make_strips", "--seed", str(seed), "--count", "2", "--size", "48", "384",
                                         "--out", str(out)])
        make_strips.main()
    data, band = load_shards(paths, CRNNConfig(n_classes=N_CLASSES, height_px=48, width_px=384))
    assert (band.height_px, band.width_px, band.outer) == (48, 384, 0.99)
    assert data.x.shape == (4, 1, 48, 384) and data.x.dtype == np.float16
    second = np.load(paths[1])
    want = strips_to_input(list(second["pixels"]), height_px=48, width_px=384)
    assert np.allclose(data.x[2:].astype(np.float32), want, atol=0.02)
    assert [parse_text(str(t)) for t in second["texts"]] == data.labels[2:]
    xb, yb = data.batches(np.random.default_rng(0), 3)
    assert xb.dtype == np.float32 and xb.shape == (3, 1, 48, 384) and len(yb) == 3
    assert data.masks is None  # masks only when asked for
    masked, _ = load_shards(paths, CRNNConfig(n_classes=N_CLASSES, height_px=48, width_px=384), masks=True)
    assert np.array_equal(masked.masks[2:], second["masks"]) and masked.masked.all()


def test_shards_record_their_band_and_only_shards_of_one_band_load_together(tmp_path, monkeypatch):
    """``--outer`` unwraps the band further out; the shard records it, training takes it into the bundle's band,
    and shards unwrapped from different bands are refused."""
    from model.charset import N_CLASSES
    from model.nets.crnn import CRNNConfig
    from training import make_strips
    from training.recognizer import load_shards

    paths = [tmp_path / f"s{k}.npz" for k in (1, 2, 3)]
    for out, outer in zip(paths, ("1.02", "1.02", "0.99")):
        monkeypatch.setattr("sys.argv", ["make_strips", "--seed", "4", "--count", "2", "--size", "48", "384",
                                         "--outer", outer, "--out", str(out)])
        make_strips.main()
    assert float(np.load(paths[0])["band_outer"]) == pytest.approx(1.02)
    wide, plain = np.load(paths[0])["pixels"], np.load(paths[2])["pixels"]
    assert wide.shape == plain.shape and not np.array_equal(wide, plain)  # same heads, a wider band
    cfg = CRNNConfig(n_classes=N_CLASSES, height_px=48, width_px=384)
    assert load_shards(paths[:2], cfg)[1].outer == 1.02
    with pytest.raises(SystemExit, match="different bands"):
        load_shards(paths, cfg)
    older = tmp_path / "older.npz"  # shards from before bands were recorded are from the default band (0.99)
    with np.load(paths[2]) as d:
        np.savez_compressed(older, **{k: d[k] for k in d.files if k != "band_outer"})
    assert load_shards([paths[2], older], cfg)[1].outer == 0.99  # 0.99 as stored in float32 is the same band


def test_text_band_outer_edge_sets_how_near_the_rim_the_stamps_reach(monkeypatch):
    """The same heads drawn with the text band ending at 0.80 and at 0.96 of the rim radius, text anywhere across
    it: glyphs reach further out with the wider band, and never past it (each glyph's reach: its centre's radius
    plus half its height, recorded as it is pasted)."""
    import datasets.headstamp as hs

    pasted = []
    paste = hs._paste_rotated
    monkeypatch.setattr(hs, "_paste_rotated", lambda canvas, mask, pos, a: (pasted.append((pos, mask.shape[0])),
                                                                           paste(canvas, mask, pos, a)))

    def outermost(edge: float) -> float:
        pasted.clear()
        c = 2.2 * 100 / 2
        for seed in range(6):
            placement = hs.TextPlacement(outer=(edge, edge), anywhere=1.0)
            hs.render_head(np.random.default_rng(seed), radius_px=100, text=placement)
        return max((float(np.hypot(x - c, y - c)) + h / 2) / 100 for (x, y), h in pasted)

    near, wide = outermost(0.80), outermost(0.96)
    assert wide > near + 0.1
    assert near <= 0.80 + 0.03 and wide <= 0.96 + 0.03  # a glyph's mask has a 2-pixel border


def test_glyph_height_range_sets_the_stamp_size():
    """The same head drawn with glyphs of 0.12 and of 0.22 rim radii: the larger stamps take wider arcs."""
    from datasets.headstamp import render_head
    from datasets.sampler import Segment

    segs = [Segment("539", "539"), Segment("83", "83")]
    small, large = (render_head(np.random.default_rng(5), segments=segs, straight=False, glyph_h=(h, h))
                    for h in (0.12, 0.22))
    for a, b in zip(small.segments, large.segments):
        assert (b.end_rad - b.start_rad) % (2 * math.pi) > 1.4 * ((a.end_rad - a.start_rad) % (2 * math.pi))


def test_the_trainer_adds_the_contrast_channel_to_a_bundle_and_the_reader_loads_the_result(tmp_path, monkeypatch):
    """``--contrast-sigma`` on the shipped recognizer's weights.pt trains, exports a bundle whose manifest records
    the channel and whose ONNX graph takes the same one-channel strips (the reader loads and runs it); from the
    bundle's model.onnx the trainer refuses, since the folded graph cannot be given the new channel."""
    import json

    from model.bundle import RECOGNIZER, WEIGHTS_DIR, load_bundle
    from model.headstamp_reader import HeadstampReader
    from model.recognition.preprocess import strips_to_input
    from model.runtime import OnnxNet
    from training import make_strips, recognizer

    shard = tmp_path / "s.npz"
    monkeypatch.setattr("sys.argv", ["make_strips", "--seed", "4", "--count", "6", "--size", "48", "384",
                                     "--out", str(shard)])
    make_strips.main()
    shipped = WEIGHTS_DIR / RECOGNIZER
    out = tmp_path / "bundle"
    common = ["recognizer", "--shards", str(shard), "--size", "48", "384", "--val", "2", "--minutes", "0.01",
              "--contrast-sigma", "4", "--out", str(out)]
    monkeypatch.setattr("sys.argv", [*common, "--init", str(shipped / "model.onnx")])
    with pytest.raises(SystemExit, match="weights.pt"):
        recognizer.main()
    monkeypatch.setattr("sys.argv", [*common, "--init", str(shipped / "weights.pt")])
    recognizer.main()
    assert json.loads((out / "manifest.json").read_text())["config"]["contrast_sigma"] == 4.0
    shipped_reader = HeadstampReader.from_bundles(threads=1)
    reader = HeadstampReader(OnnxNet(load_bundle(out), threads=1), shipped_reader.detector)
    x = strips_to_input(list(np.load(shard)["pixels"]), height_px=48, width_px=384)
    assert reader.net.batched(x, 4).shape == shipped_reader.net.batched(x, 4).shape == (6, 96, 102)


def test_damage_switched_off_leaves_the_rest_of_the_crop_as_it_was():
    """A worn or obscured crop rendered with a kind of damage off has the same head, rim and random stream as with
    it on (so a diagnosis compares like with like) and differs in pixels."""
    from datasets.scenes import Damage, render_crop

    for level, seed in (("worn", 3), ("obscured", 8)):
        scenes, nexts = {}, {}
        for name, damage in (("all", Damage()), ("no face", Damage(face=False)), ("no capture", Damage(capture=False)),
                             ("none", Damage(face=False, capture=False, occlusion=False))):
            rng = np.random.default_rng(seed)
            scenes[name] = render_crop(rng, level=level, size_px=160, damage=damage)
            nexts[name] = rng.random()
        assert len(set(nexts.values())) == 1
        assert len({(s.heads[0].rim, tuple(s.heads[0].clockwise_labels())) for s in scenes.values()}) == 1
        pix = {k: v.rgb.astype(np.float32) for k, v in scenes.items()}
        for name in ("no face", "no capture", "none"):
            assert np.abs(pix[name] - pix["all"]).mean() > 0.1, (level, name)


def test_soft_strips_lose_resolution_and_keep_their_labels():
    """``soft`` strips come from a crop shrunk so the head is 40-120 px across and enlarged back: the same head
    and labels, less fine detail; ``soft=0`` draws nothing more, so older shards' recipes still reproduce."""
    from datasets.strips import soft_scale

    rng = np.random.default_rng(5)
    scales = [soft_scale(rng, d) for d in (60.0, 200.0, 300.0) for _ in range(200)]
    across = np.array(scales).reshape(3, 200) * np.array([[60.0], [200.0], [300.0]])
    assert across.min() >= 40 - 1e-6 and across[0].max() <= 60 + 1e-6 and across[1:].max() <= 120 + 1e-6
    assert soft_scale(rng, 30.0) == pytest.approx(1.0)  # never enlarged past its own resolution

    plain = make_strip(np.random.default_rng(8), level="clean")
    assert (make_strip(np.random.default_rng(8), level="clean", soft=0.0).pixels == plain.pixels).all()
    soft = make_strip(np.random.default_rng(8), level="clean", soft=1.0)
    assert soft.text == plain.text and soft.classes == plain.classes

    def detail(img: np.ndarray) -> float:
        return float(np.abs(np.diff(img.astype(np.float32), axis=1)).mean())

    assert detail(soft.pixels) < 0.85 * detail(plain.pixels)


def test_bundled_stamp_faces_are_drawn_only_when_named(tmp_path, monkeypatch, strip_shard):
    """The bundled Google faces are two disjoint sets of families (``STAMP_FACES`` for training,
    ``HELD_OUT_FACES`` only for measuring unseen glyph shapes), never in the default pool; ``render_head(faces=...)``
    stamps in the named faces that cover the text (Cyrillic in those that have it, Persian in its own pool), and
    ``make_strips --stamp-faces 0`` makes no draw, so older seeds' shards stay the same."""
    import datasets.headstamp as hs
    from datasets import fonts

    family = {f: f.split("_")[0] for f in fonts.STAMP_FACES + fonts.HELD_OUT_FACES}
    assert not {family[f] for f in fonts.STAMP_FACES} & {family[f] for f in fonts.HELD_OUT_FACES}
    bundled = {p.rsplit("/", 1)[-1]: p for p in fonts.extra_font_paths() if "/google/" in p}
    assert set(bundled) == set(family)  # every named face ships, and only those
    assert not set(bundled.values()) & set(fonts.font_paths())
    latin = hs._font_pool("539 83", False, fonts.STAMP_FACES)
    assert {p.rsplit("/", 1)[-1] for p in latin} == set(fonts.STAMP_FACES)
    cyrillic = hs._font_pool("ППУ 7.62", False, fonts.HELD_OUT_FACES)
    assert cyrillic and {p.rsplit("/", 1)[-1] for p in cyrillic} < set(fonts.HELD_OUT_FACES)
    assert set(hs._font_pool("۱۳۸۲", False, fonts.STAMP_FACES)) == set(hs._font_pool("۱۳۸۲", False))
    real_mask = hs._glyph_mask
    seen: set[str] = set()
    monkeypatch.setattr(hs, "_glyph_mask", lambda g, f, h, *style: seen.add(f) or real_mask(g, f, h, *style))
    for seed in range(6):
        hs.render_head(np.random.default_rng(seed), radius_px=60, faces=fonts.HELD_OUT_FACES)
    assert seen and seen <= set(bundled.values()) | set(fonts.persian_font_paths())
    assert len({p.rsplit("/", 1)[-1] for p in seen} & set(fonts.HELD_OUT_FACES)) >= 3
    monkeypatch.undo()
    shards = {name: strip_shard(tmp_path / f"{name}.npz", "--seed", "4", "--count", "3", *extra)
              for name, extra in (("plain", []), ("off", ["--stamp-faces", "0"]), ("on", ["--stamp-faces", "1"]))}
    assert np.array_equal(shards["off"]["pixels"], shards["plain"]["pixels"])
    assert not np.array_equal(shards["on"]["pixels"], shards["plain"]["pixels"])


def test_debian_faces_are_bundled_apart_and_drawn_only_when_asked(tmp_path, monkeypatch, strip_shard):
    """The 28 Debian faces ship in ``datasets/fonts/debian`` with their licences, are no family of
    ``HELD_OUT_FACES`` and never in the default pool; ``render_head(faces=DEBIAN_FACES)`` stamps in them (the
    Cyrillic ones for ППУ), and ``make_strips --debian-faces 0`` makes no draw, so older seeds' shards stay the
    same, while 1 stamps the strips in them."""
    import datasets.headstamp as hs
    from datasets import fonts

    bundled = {p.rsplit("/", 1)[-1]: p for p in fonts.extra_font_paths() if "/debian/" in p}
    assert set(bundled) == set(fonts.DEBIAN_FACES) and len(bundled) == 28
    assert not set(bundled.values()) & set(fonts.font_paths())
    readme = (fonts.DEBIAN_FONT_DIR / "README.md").read_text()
    for name in fonts.DEBIAN_FACES:
        row = next(line for line in readme.splitlines() if line.startswith(f"| {name} |"))
        assert (fonts.DEBIAN_FONT_DIR / row.split("`")[-2]).is_file()  # its licence ships beside it
    held = {f.split("_")[0].lower() for f in fonts.HELD_OUT_FACES}
    assert not any(f.lower().startswith(tuple(held)) for f in fonts.DEBIAN_FACES)
    assert len(hs._font_pool("539 83", False, fonts.DEBIAN_FACES)) == 28
    cyrillic = hs._font_pool("ППУ 7.62", False, fonts.DEBIAN_FACES)
    assert 10 <= len(cyrillic) < 28 and {p.rsplit("/", 1)[-1] for p in cyrillic} < set(fonts.DEBIAN_FACES)
    real_mask = hs._glyph_mask
    seen: set[str] = set()
    monkeypatch.setattr(hs, "_glyph_mask", lambda g, f, h, *style: seen.add(f) or real_mask(g, f, h, *style))
    shards = {}
    for name, extra in (("plain", []), ("off", ["--debian-faces", "0"]), ("on", ["--debian-faces", "1"])):
        seen.clear()
        shards[name] = (strip_shard(tmp_path / f"{name}.npz", "--seed", "4", "--count", "4", *extra), set(seen))
    assert np.array_equal(shards["off"][0]["pixels"], shards["plain"][0]["pixels"])
    assert not shards["plain"][1] & set(bundled.values())
    assert len(shards["on"][1] & set(bundled.values())) >= 2  # (a head no Debian face covers falls back)
