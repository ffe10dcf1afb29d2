"""Seeded renderer of one cartridge head: metal, primer, extractor groove and debossed glyphs with relief shading.

The head is drawn face-on at a canonical radius, then tilted (affine squash of the disc to an ellipse) by the
scene composer. Everything random comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from datasets import fonts
from datasets.glyphs import SUPERSAMPLE, GlyphStyle, draw_style, punch_jitter, restyle
from datasets.sampler import Segment, sample_layout

GLYPH_H = (0.13, 0.23)  # glyph height, as a share of the rim radius (uniform): bunters stamp small and large
# faces drawn by ``render_head(more_fonts=True)``: Roboto (``datasets.fonts.extra_font_paths``), whose 1 has no
# foot where every DejaVu and Liberation 1 in the default pool stands on one, as many bunters' 1 does not
MORE_STAMP_FONTS = ("Roboto-Light.ttf", "Roboto-Regular.ttf", "Roboto-Medium.ttf", "Roboto-Bold.ttf",
                    "Roboto-Black.ttf")
SEGMENT_RADIUS_SD = 0.05  # on half the heads each segment sits at its own radius (rim radii, normal)
METALS = {  # base RGB and spread
    "brass": ((196, 156, 78), 22),
    "tarnished_brass": ((150, 112, 60), 22),
    "nickel": ((188, 186, 178), 15),
    "steel_green": ((112, 120, 96), 15),
    "steel_brown": ((112, 82, 56), 15),
}


@dataclass(frozen=True)
class TextPlacement:
    """Where the stamps sit between primer and rim: the text band's outer edge (a share of the rim radius, drawn
    per head from ``outer``) and the share of heads whose text sits ``anywhere`` across the band rather than about
    its middle. The default is the renderer as the shipped recognizer was trained on it; ``NEAR_RIM`` follows
    MARKINGS.md C (the band runs from just outside the primer to just inside the rim). A fixed ``outer`` and no
    ``anywhere`` draw nothing from the generator, so default renders are unchanged."""

    outer: tuple[float, float] = (0.9, 0.9)
    anywhere: float = 0.0


NEAR_RIM = TextPlacement(outer=(0.88, 0.96), anywhere=0.5)


@dataclass(frozen=True)
class PlacedSegment:
    """A segment as drawn: its angular centre and span (image radians, clockwise) and orientation."""

    segment: Segment
    center_rad: float
    start_rad: float
    end_rad: float
    turned: bool  # tops inward: reads counter-clockwise, upside down in the strip


@dataclass(frozen=True)
class HeadRender:
    """A face-on head: RGB (S, S, 3) uint8 and alpha (S, S) float32 on a square canvas; rim radius in px."""

    rgb: np.ndarray
    alpha: np.ndarray
    radius_px: float
    primer_ratio: float
    segments: tuple[PlacedSegment, ...]
    glyphs: np.ndarray  # (S, S) float32: how deep each pixel is stamped, before any shading or damage


def _glyph_mask(glyph: str, font_path: str, height_px: int, style: GlyphStyle | None = None) -> np.ndarray:
    """Tight float mask (h, w) of one glyph, about ``height_px`` tall for digits; restyled as ``style`` says
    (``datasets.glyphs.restyle``) when one is given."""
    scale = 1 if style is None else SUPERSAMPLE
    mask = fonts.text_mask(glyph, fonts.load(font_path, max(6, int(height_px * 1.35)) * scale), 2 * scale)
    return mask if style is None else restyle(mask, style, height_px)


def _paste_rotated(canvas: np.ndarray, mask: np.ndarray, pos: tuple[float, float], alpha_rad: float) -> None:
    """Max-composite ``mask`` into ``canvas`` rotated by ``alpha_rad`` (y-down) with its centre at ``pos``."""
    h, w = mask.shape
    c, s = math.cos(alpha_rad), math.sin(alpha_rad)
    rot = np.array([[c, -s], [s, c]])
    half = int(math.ceil(math.hypot(h, w) / 2)) + 2
    x0, y0 = int(pos[0]) - half, int(pos[1]) - half
    t = np.array([pos[0] - x0, pos[1] - y0]) - rot @ np.array([w / 2, h / 2])
    m = np.hstack([rot, t[:, None]]).astype(np.float32)
    patch = cv2.warpAffine(mask, m, (2 * half, 2 * half), flags=cv2.INTER_LINEAR)
    ys = slice(max(0, y0), min(canvas.shape[0], y0 + 2 * half))
    xs = slice(max(0, x0), min(canvas.shape[1], x0 + 2 * half))
    sub = patch[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0]
    np.maximum(canvas[ys, xs], sub, out=canvas[ys, xs])


def _place_segment(canvas: np.ndarray, seg: Segment, *, center: float, theta: float, r_text: float,
                   glyph_h: float, font_path: str, turned: bool, spacing: float,
                   straight: bool = False, style: GlyphStyle | None = None,
                   rng: np.random.Generator | None = None) -> tuple[float, float]:
    """Draw one segment centred on ``theta``, its glyphs along the arc or, when ``straight``, along the tangent
    there (many bunters stamp short codes as a straight line), in type restyled as ``style`` says, each punch set
    askew by its own draw from ``rng`` (``datasets.glyphs.punch_jitter``); returns its (start, end) angles
    clockwise."""
    masks = [_glyph_mask(g, font_path, int(glyph_h * (0.75 if g in "*★+⊕." else 1.0)),
                         None if style is None or g in "*★+⊕" else style) for g in seg.glyphs]
    widths = [m.shape[1] * glyph_h / max(1.0, m.shape[0]) if g in "*★+⊕" else m.shape[1]
              for g, m in zip(seg.glyphs, masks)]
    total = sum(widths) + spacing * (len(widths) - 1)
    sign = -1.0 if turned else 1.0  # reading direction: clockwise when tops-outward
    offset = -total / 2
    mid = (center + r_text * math.cos(theta), center + r_text * math.sin(theta))
    tangent = (-sign * math.sin(theta), sign * math.cos(theta))
    for m, w in zip(masks, widths):
        along = offset + w / 2
        ang = theta if straight else theta + sign * along / r_text
        if straight:
            pos = (mid[0] + along * tangent[0], mid[1] + along * tangent[1])
        else:
            pos = (center + r_text * math.cos(ang), center + r_text * math.sin(ang))
        up = ang - math.pi / 2 if turned else ang + math.pi / 2
        if style is not None:
            twist, shift = punch_jitter(rng, style, glyph_h)
            up += twist
            pos = (pos[0] + shift * math.cos(ang), pos[1] + shift * math.sin(ang))
        _paste_rotated(canvas, m, pos, up)
        offset += w + spacing
    half = math.atan2(total / 2, r_text) if straight else total / 2 / r_text
    return theta - half, theta + half


def _layout_angles(n: int, rng: np.random.Generator) -> list[float]:
    """Segment centre angles: evenly spread with jitter, clockwise, random global rotation."""
    base = rng.uniform(0, 2 * math.pi)
    return [base + 2 * math.pi * k / n + rng.normal(0, 0.08) for k in range(n)]


def _orientations(angles: list[float], rng: np.random.Generator, base: float) -> list[bool]:
    """Tops-inward flags: the upper half of the stamp reads tops-outward; lower segments often turn."""
    mode = rng.random()
    if mode < 0.15:
        return [True] * len(angles)  # some commercial heads are stamped all tops-inward
    if mode < 0.3:
        return [False] * len(angles)
    if mode < 0.42:  # no rule: each segment either way (bunters vary)
        return [bool(rng.random() < 0.5) for _ in angles]
    flags = []
    for a in angles:
        lower = math.cos(a - base) < -0.2  # opposite the first segment
        flags.append(bool(lower and rng.random() < 0.8))
    return flags


def _relief(rgb: np.ndarray, depth: np.ndarray, light_rad: float, strength: float,
            occlusion_k: float) -> np.ndarray:
    """Shade a debossed height map: highlights on walls facing the light, occlusion in the grooves."""
    gy, gx = np.gradient(cv2.GaussianBlur(depth, (0, 0), 1.0))
    shade = -(gx * math.cos(light_rad) + gy * math.sin(light_rad)) * strength
    occlusion = 1.0 - occlusion_k * cv2.GaussianBlur(depth, (0, 0), 1.5)
    return rgb * occlusion[..., None] * (1.0 + shade[..., None])


def _metal(size: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    name = str(rng.choice(list(METALS), p=[0.4, 0.15, 0.15, 0.15, 0.15]))
    (r, g, b), spread = METALS[name]
    colour = np.clip(np.array([r, g, b]) + rng.normal(0, spread, 3), 30, 240)
    low = cv2.resize(rng.normal(0, 1, (8, 8)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    grain = rng.normal(0, 1, (size, size)).astype(np.float32)
    tex = 1.0 + 0.06 * low + 0.03 * cv2.GaussianBlur(grain, (0, 0), 1.2)
    return colour[None, None, :] * tex[..., None], name


def _font_pool(text: str, more_fonts: bool, faces: tuple[str, ...] = ()) -> list[str]:
    """The faces a head stamped with ``text`` draws from (see ``render_head``)."""
    names = faces or (MORE_STAMP_FONTS if more_fonts else ())
    more = fonts.named_fonts(text, names) if names else []
    return more or fonts.fonts_for(text) or list(fonts.font_paths())


def render_head(rng: np.random.Generator, *, radius_px: int = 100, segments: list[Segment] | None = None,
                straight: bool | None = None, glyph_h: tuple[float, float] = GLYPH_H,
                text: TextPlacement = TextPlacement(), more_fonts: bool = False,
                faces: tuple[str, ...] = (), restyled: bool = False) -> HeadRender:
    """Render one face-on head on a square canvas of side ``2.2 * radius_px``; ``straight`` forces (or forbids)
    short segments stamped as straight lines rather than along the arc; glyph heights are drawn from
    ``glyph_h`` (shares of the rim radius) and the stamps placed as ``text`` says; ``more_fonts`` stamps in one of
    :data:`MORE_STAMP_FONTS` where one is installed and covers the text (else in the default pool), and ``faces``
    (font file names such as ``datasets.fonts.STAMP_FACES``) likewise in one of those; ``restyled`` stamps in type of
    the head's own (``datasets.glyphs.draw_style``: reweighted, widened or narrowed, slanted, punches askew; no draw
    is taken when it is false, so older seeds stand)."""
    size = int(2.2 * radius_px)
    c = size / 2
    segs = segments if segments is not None else sample_layout(rng)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    r = np.hypot(xx - c + 0.5, yy - c + 0.5) / radius_px  # radius in rim units

    primer = float(rng.uniform(0.22, 0.31))
    depth = np.zeros((size, size), np.float32)
    depth += np.clip(1 - np.abs(r - 0.965) / 0.02, 0, 1) * 0.8  # extractor-side bevel at the rim
    depth += np.clip(1 - np.abs(r - primer) / 0.02, 0, 1)  # primer pocket seam
    if rng.random() < 0.6:  # firing-pin strike
        depth += np.clip(1 - r / rng.uniform(0.04, 0.08), 0, 1)

    lo, hi = text.outer
    text_band = (primer + 0.06, lo if lo == hi else float(rng.uniform(lo, hi)))
    glyph_h = float(rng.uniform(*glyph_h)) * radius_px
    lowest, highest = text_band[0] * radius_px + glyph_h / 2, text_band[1] * radius_px - glyph_h / 2
    if text.anywhere > 0 and rng.random() < text.anywhere:
        r_text = float(rng.uniform(lowest, max(lowest, highest)))
    else:
        r_text = ((text_band[0] + text_band[1]) / 2 + rng.normal(0, 0.03)) * radius_px
    joined = "".join(s.glyphs for s in segs)
    font_path = str(rng.choice(_font_pool(joined, more_fonts, faces)))
    angles = _layout_angles(len(segs), rng)
    flags = _orientations(angles, rng, angles[0])
    glyphs = np.zeros((size, size), np.float32)
    placed = []
    spacing = float(rng.uniform(0.0, 0.12)) * glyph_h
    drawn = bool(rng.random() < 0.4)  # short segments stamped as straight lines, not along the arc
    straight = drawn if straight is None else straight
    own_radius = rng.random() < 0.5  # segments at their own radii, as on many real heads
    style = draw_style(rng) if restyled else None
    for seg, ang, turned in zip(segs, angles, flags):
        r_seg = r_text + (rng.normal(0, SEGMENT_RADIUS_SD) * radius_px if own_radius else 0.0)
        r_seg = float(np.clip(r_seg, lowest, max(lowest, highest)))
        lo, hi = _place_segment(glyphs, seg, center=c, theta=ang, r_text=r_seg, glyph_h=glyph_h,
                                font_path=font_path, turned=turned, spacing=spacing,
                                straight=straight and len(seg.glyphs) <= 5, style=style, rng=rng)
        placed.append(PlacedSegment(seg, ang % (2 * math.pi), lo % (2 * math.pi), hi % (2 * math.pi), turned))
    depth += glyphs

    rgb, metal = _metal(size, rng)
    if rng.random() < 0.5 and metal in ("brass", "tarnished_brass", "steel_green", "steel_brown"):
        sealant = np.array([150, 30, 40]) if rng.random() < 0.7 else np.array([110, 40, 120])
        ring = ((r > primer - 0.03) & (r < primer + 0.01)).astype(np.float32)
        rgb = rgb * (1 - ring[..., None]) + sealant * ring[..., None]
    inside_primer = (r < primer).astype(np.float32)[..., None]
    rgb = rgb * (1 - 0.12 * inside_primer)
    rgb = _relief(rgb, depth, rng.uniform(0, 2 * math.pi), float(rng.uniform(1.5, 6.0)),
                  float(rng.uniform(0.15, 0.5)))
    alpha = np.clip((1.0 - r) * radius_px + 0.5, 0, 1).astype(np.float32)
    return HeadRender(np.clip(rgb, 0, 255).astype(np.uint8), alpha, float(radius_px), primer, tuple(placed),
                      glyphs)
