"""Seeded renderer of painted and stencilled markings on rocket bodies, tubes and crates.

A scene is a surface (olive drab or grey metal, sand paint, wooden planks, optionally camouflage), 1-4 painted
lines (nomenclature, the lot line, weights, counts, hazard codes) in a stencil or plain font, the lot's factory
code sometimes in a double circle, and damage by level: scraping, fading, an old marking showing through a new
coat of paint, occlusion, rust on metal where asked (``render_marking(rust=...)``, since stop 50; before it no
scene was rusted), then capture (curvature of a cylinder, perspective, blur, noise, JPEG, resolution). Each
line's quadrilateral (corners clockwise from top-left, in reading order) follows every warp.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import cv2
import numpy as np

from datasets import degrade
from datasets.fonts import fonts_for, load, named_fonts, text_mask
from datasets.glyphs import SUPERSAMPLE, GlyphStyle, restyle
from datasets.lot_text import LotText, sample_lot, sample_nomenclature, sample_other
from datasets.scenes import background

LEVELS = ("clean", "worn", "obscured")
SURFACES = {"olive": (86, 92, 58), "grey": (110, 112, 108), "sand": (170, 150, 110), "wood": (150, 110, 70),
            "green": (60, 75, 50)}
PAINTS = {"yellow": (225, 200, 60), "white": (230, 230, 220), "black": (30, 30, 28), "red": (170, 40, 35)}
STENCIL_BRIDGED = set("0OQDB869APR4ОДВРАБ")
FONT_NAMES = ("DejaVuSans-Bold.ttf", "DejaVuSansCondensed-Bold.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSans.ttf",
              "DejaVuSerif-Bold.ttf")
# typefaces of other designs, drawn by ``render_marking(more_fonts=True)``: Liberation (Arial, Arial Narrow, Courier
# and Times metrics) and Roboto (``datasets.fonts.extra_font_paths``), whose 1 has no foot where every DejaVu and
# Liberation 1 stands on one, as many stencils' 1 does not
MORE_STENCIL_FONTS = ("Roboto-Bold.ttf", "Roboto-Black.ttf", "LiberationSans-Bold.ttf",
                      "LiberationSansNarrow-Bold.ttf", "LiberationMono-Bold.ttf")
MORE_FONT_NAMES = MORE_STENCIL_FONTS + ("Roboto-Medium.ttf", "Roboto-Regular.ttf", "LiberationSans-Regular.ttf",
                                        "LiberationSerif-Bold.ttf", "DejaVuSansCondensed.ttf")


@dataclass(frozen=True)
class LineTruth:
    text: str  # as read: the lot line without its circle
    kind: str  # lot | text
    circled_factory: bool
    quad: np.ndarray  # (4, 2) float32 image corners: top-left, top-right, bottom-right, bottom-left

    @property
    def box(self) -> tuple[int, int, int, int]:
        x0, y0 = self.quad.min(0)
        x1, y1 = self.quad.max(0)
        return int(x0), int(y0), int(math.ceil(x1)), int(math.ceil(y1))


@dataclass(frozen=True)
class MarkingScene:
    rgb: np.ndarray  # (H, W, 3) uint8
    lines: tuple[LineTruth, ...]
    level: str

    @property
    def lot(self) -> LineTruth | None:
        return next((line for line in self.lines if line.kind == "lot"), None)


def surface(h: int, w: int, rng: np.random.Generator, name: str, *, camo: bool | None = None) -> np.ndarray:
    """(H, W, 3) float32 painted metal or wood; ``camo`` forces woodland camouflage over it (True) or forbids
    patches and camouflage (False); None draws them at random."""
    base = np.array(SURFACES[name], np.float32) * rng.uniform(0.8, 1.15, 3)
    out = np.zeros((h, w, 3), np.float32) + base
    noise = cv2.resize(rng.normal(0, 1, (max(2, h // 6), max(2, w // 6))).astype(np.float32), (w, h))
    out += (noise * rng.uniform(4, 12))[..., None] + rng.normal(0, 3, (h, w, 1)).astype(np.float32)
    if name == "wood":
        grain = cv2.resize(rng.normal(0, 1, (h, max(2, w // 40))).astype(np.float32), (w, h))
        out += (grain * 14)[..., None]
        plank = int(rng.integers(h // 5, h // 2))
        for y in range(int(rng.integers(0, plank)), h, plank):
            out[y:y + max(1, h // 150)] *= 0.45  # gap between planks
    if camo is None:
        if rng.random() < 0.3:
            out = degrade.paint(out, rng, float(rng.uniform(0.3, 0.7)))  # camouflage patches
        elif rng.random() < 0.3:
            out = camouflage(out, rng)
    elif camo:
        out = camouflage(out, rng)
    return out


CAMO = ((92, 98, 62), (160, 140, 100), (70, 55, 40), (40, 45, 35), (120, 115, 80))  # olive, tan, brown, black


def camouflage(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Woodland camouflage over the surface: two or three layers of large, hard-edged blobs in drab colours."""
    h, w = rgb.shape[:2]
    out = rgb.copy()
    for k in rng.choice(len(CAMO), int(rng.integers(2, 4)), replace=False):
        blob = degrade._blobs((h, w), rng, scale=int(max(h, w) / rng.uniform(4, 9)), threshold=rng.uniform(0.2, 0.7))
        blob = np.clip(blob * 3, 0, 1)[..., None] * rng.uniform(0.85, 1.0)
        out = out * (1 - blob) + np.array(CAMO[k], np.float32) * rng.uniform(0.85, 1.1, 3) * blob
    return out


def slanted(mask: np.ndarray, slant: float) -> np.ndarray:
    """A line's coverage sheared as italic or hand-slanted lettering (tops ``slant`` x height to the right)."""
    if not slant:
        return mask
    h, w = mask.shape
    pad = int(math.ceil(abs(slant) * h))
    m = np.float32([[1, -slant, pad if slant > 0 else 0], [0, 1, 0]])
    return cv2.warpAffine(mask, m, (w + pad, h), flags=cv2.INTER_LINEAR)


def _stencil(mask: np.ndarray, text: str, x_edges: list[tuple[int, int]], rng: np.random.Generator) -> None:
    """Cut the bridges a stencil plate needs into round glyphs (in place)."""
    h = mask.shape[0]
    for ch, (x0, x1) in zip(text, x_edges):
        if ch.upper() not in STENCIL_BRIDGED:
            continue
        cx, half = (x0 + x1) // 2, max(1, int((x1 - x0) * rng.uniform(0.05, 0.1)))
        mask[: int(h * 0.45), cx - half:cx + half] = 0
        mask[int(h * 0.55):, cx - half:cx + half] = 0


def line_mask(text: str, height_px: int, rng: np.random.Generator, *, stencil: bool,
              font_name: str, style: GlyphStyle | None = None) -> np.ndarray:
    """(H, W) float32 coverage of ``text`` in a font of cap height about ``height_px``, restyled as ``style`` says
    (``datasets.glyphs.restyle``: strokes grown or thinned, the line widened or narrowed and slanted) when given."""
    scale = 1 if style is None else SUPERSAMPLE
    paths = named_fonts(text, (font_name,)) or fonts_for(text)
    font = load(paths[0], max(8, int(height_px * 1.35)) * scale)
    pad = 2 * scale
    mask = text_mask(text, font, pad)
    if stencil:
        edges, x = [], pad - font.getbbox(text)[0]
        for ch in text:
            w = font.getlength(ch)
            edges.append((int(x), int(x + w)))
            x += w
        _stencil(mask, text, edges, rng)
    return mask if style is None else restyle(mask, style, height_px)


def first_field_circle(text: str, width: float, height: float) -> tuple[float, float]:
    """Where a circled factory code's circle sits on a line ``width`` x ``height`` of ``text``: its centre's
    distance from the line's left end (the middle of the first field, up to the first '-') and its radius."""
    frac = (len(text.split("-", 1)[0]) + 0.2) / max(1, len(text))
    return width * frac / 2, max(height * 0.8, width * frac * 0.62)


def double_circle(cover: np.ndarray, centre: tuple[float, float], radius: float, thickness: float) -> float:
    """Paint a double circle (``radius`` and one stroke and a gap further out) onto ``cover``, cut only by its
    edges; returns how far from the centre its outer stroke reaches."""
    t = max(1, int(round(thickness)))
    for rr in (radius, radius + 2 * t + 1):
        cv2.circle(cover, (int(round(centre[0])), int(round(centre[1]))), int(round(rr)), 1.0, t, cv2.LINE_AA)
    return round(radius + 2 * t + 1) + (t + 1) / 2


CIRCLE_BAND = 0.5  # a circled line's quad reaches this many line heights above and below its text


def _circle_first_field(mask: np.ndarray, text: str, font_h: int) -> np.ndarray:
    """Pad the line and draw a double circle around its first field, within the padded band."""
    pad = int(font_h * CIRCLE_BAND)
    out = np.pad(mask, ((pad, pad), (pad, 0)))
    dx, r = first_field_circle(text, mask.shape[1], mask.shape[0])
    double_circle(out, (pad + int(dx), out.shape[0] // 2), int(r), max(1, font_h // 10))
    return out


def _paint_layer(h: int, w: int, lines: list[tuple[str, bool]], rng: np.random.Generator,
                 *, stencil: bool, font_name: str, slant: float = 0.0, whole: bool = False,
                 style: GlyphStyle | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """Paint coverage (H, W) and each line's quad for lines (text, circled) stacked top to bottom; every line
    is painted (the stack shrinks to fit the surface). A circled line's double circle is drawn within its own
    band (``_circle_first_field``), or with ``whole`` round its first field over whatever lies around it, 0.9-1.3
    times as large, the line's quad then holding the circle's band as the default's does (from the circle's outer
    arc, half a line height above and below the text), so that the circle is read with its line. ``style``
    restyles every line's type (``line_mask``)."""
    cover = np.zeros((h, w), np.float32)
    quads = []
    line_h = int(h / (len(lines) + 1) * rng.uniform(0.45, 0.7))
    y = int(h * rng.uniform(0.06, 0.2))
    x_left = int(w * rng.uniform(0.04, 0.15))
    centred = rng.random() < 0.5
    masks = []
    for text, circled in lines:
        m = slanted(line_mask(text, line_h, rng, stencil=stencil, font_name=font_name, style=style), slant)
        if circled and not whole:
            m = _circle_first_field(m, text, line_h)
        masks.append(m)
    grow = [float(rng.uniform(0.9, 1.3)) if circled and whole else 0.0 for _, circled in lines]
    gaps = [int(line_h * rng.uniform(0.25, 0.6)) for _ in masks]
    stack = sum(m.shape[0] for m in masks) + sum(gaps[:-1])
    fit = min(1.0, (h * 0.97 - y) / max(1, stack))  # too tall for the surface: shrink the whole stack
    for (text, _), m, gap, scale in zip(lines, masks, gaps, grow):
        f = min(fit, w * 0.94 / m.shape[1])  # and any line too long for it
        if f < 1:
            m = cv2.resize(m, (max(4, int(m.shape[1] * f)), max(4, int(m.shape[0] * f))),
                           interpolation=cv2.INTER_AREA)
        x = (w - m.shape[1]) // 2 if centred else min(x_left, w - m.shape[1] - 1)
        x += int(rng.normal(0, w * 0.01))
        x = int(np.clip(x, 0, w - m.shape[1]))
        y = min(y, h - m.shape[0])
        cover[y:y + m.shape[0], x:x + m.shape[1]] = np.maximum(cover[y:y + m.shape[0], x:x + m.shape[1]], m)
        ys, xs = np.nonzero(m > 0.3)
        left, right, top, bottom = x + xs.min(), x + xs.max() + 1, y + ys.min(), y + ys.max() + 1
        if scale:  # whole, over the lines around it; the quad holds the circle's band, as the default's does:
            # from its outer arc, CIRCLE_BAND line heights above and below the text
            dx, r = first_field_circle(text, m.shape[1], m.shape[0])
            drawn_h = line_h * min(f, 1.0)
            reach = double_circle(cover, (x + dx, y + m.shape[0] / 2), r * scale, drawn_h / 10)
            left, right = max(0, min(left, x + dx - reach)), min(w, max(right, x + dx + reach))
            top, bottom = max(0, top - drawn_h * CIRCLE_BAND), min(h, bottom + drawn_h * CIRCLE_BAND)
        quads.append(np.array([[left, top], [right, top], [right, bottom], [left, bottom]], np.float32))
        y += m.shape[0] + int(gap * fit)
    return cover, quads


def _apply_paint(canvas: np.ndarray, cover: np.ndarray, colour: np.ndarray, rng: np.random.Generator,
                 opacity: float) -> np.ndarray:
    spray = cv2.GaussianBlur(cover, (0, 0), float(rng.uniform(0.4, 1.2)))
    grain = np.clip(1 - rng.random(cover.shape).astype(np.float32) * rng.uniform(0, 0.35), 0, 1)
    a = (spray * grain * opacity)[..., None]
    return canvas * (1 - a) + colour * a


def _damage(cover: np.ndarray, rng: np.random.Generator, level: str) -> np.ndarray:
    """Scraped, faded, partly ground-off paint coverage."""
    if level == "clean":
        return cover
    out = cover * rng.uniform(0.55 if level == "worn" else 0.35, 1.0)  # fading
    h, w = cover.shape
    for _ in range(int(rng.integers(1, 6 if level == "worn" else 12))):  # scrapes
        p0 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        ang, length = rng.uniform(0, math.pi), rng.uniform(0.1, 0.5) * w
        p1 = (int(p0[0] + length * math.cos(ang)), int(p0[1] + length * math.sin(ang)))
        cv2.line(out, p0, p1, 0.0, int(rng.integers(1, max(2, h // 40))), cv2.LINE_AA)
    if level == "obscured":
        out *= 1 - degrade._blobs((h, w), rng, scale=int(rng.integers(6, 16)), threshold=float(rng.uniform(0.4, 0.9)))
    return out


WIDTHS = (320, 400, 480, 640)  # a marking photo's width in pixels, one drawn per scene unless given
RUST_TONES = ((168, 86, 38), (122, 60, 30), (88, 48, 30))  # fresh orange, brown, dark scale
RUST_AMOUNT = {"clean": (0.15, 0.35), "worn": (0.3, 0.65), "obscured": (0.5, 0.9)}


def rust_layer(h: int, w: int, rng: np.random.Generator, amount: float) -> tuple[np.ndarray, np.ndarray]:
    """Corrosion of a painted metal surface: (alpha (H, W) in [0, 1], colour (H, W, 3) float32). Blooms of rust
    where the paint has lifted (more and larger with ``amount`` in [0, 1]), mottled and pitted, and runs of rust
    streaking down from some of them; the colour drifts between orange, brown and dark scale."""
    side = min(h, w)
    bloom = degrade._blobs((h, w), rng, scale=max(4, int(side / rng.uniform(5, 14))),
                           threshold=float(1.35 - 1.1 * amount))
    fine = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), float(rng.uniform(0.6, 1.5)))
    # the fine texture standardised, about 0.75 +- 0.33 (so written, renders of stop 50's shards stay bit-exact)
    mottle = np.clip(0.35 + 1.3 * (fine - fine.mean()) / max(float(fine.std()), 1e-6) * 0.25 + 0.4, 0, 1)
    pits = cv2.GaussianBlur((rng.random((h, w)) < 0.02 * amount).astype(np.float32), (0, 0), 0.8) * 3
    alpha = np.clip(np.clip(bloom * 1.6, 0, 1) * mottle + pits, 0, 1)
    runs = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(0, 2 + int(8 * amount)))):
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, 0.7 * h))
        length, width = rng.uniform(0.15, 0.6) * h, max(1, int(rng.uniform(0.004, 0.02) * w))
        drift, strength = rng.uniform(-0.08, 0.08) * length, float(rng.uniform(0.3, 0.8))
        steps = max(2, int(length / 2))
        for k in range(steps):  # a run fades as it drips down
            t0, t1 = k / steps, (k + 1) / steps
            cv2.line(runs, (int(x + drift * t0), int(y + length * t0)), (int(x + drift * t1), int(y + length * t1)),
                     strength * (1 - t0), width, cv2.LINE_AA)
    runs = cv2.GaussianBlur(runs, (0, 0), 1.0)
    alpha = np.clip(np.maximum(alpha, runs * mottle * 1.4), 0, 1) * float(rng.uniform(0.75, 1.0))
    tone = cv2.resize(rng.random((max(2, h // 24), max(2, w // 24))).astype(np.float32), (w, h),
                      interpolation=cv2.INTER_CUBIC)
    tones = np.array(RUST_TONES, np.float32) * rng.uniform(0.85, 1.1, (1, 3)).astype(np.float32)
    t = np.clip(tone, 0, 1)[..., None] * 2  # 0-1 orange to brown, 1-2 brown to dark scale
    colour = np.where(t < 1, tones[0] * (1 - t) + tones[1] * t, tones[1] * (2 - t) + tones[2] * (t - 1))
    colour = colour * (0.8 + 0.4 * fine[..., None])
    return alpha.astype(np.float32), colour.astype(np.float32)


def rusted(rgb: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """``rgb`` (H, W, 3) float under a rust layer (see :func:`rust_layer`)."""
    return rgb * (1 - alpha[..., None]) + colour * alpha[..., None]


def fade_end(cover: np.ndarray, quad: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Paint coverage with one end of the (upright, unwarped) line in ``quad`` faded: over its last 25-45 %
    the paint thins linearly to 10-30 % (sun on one side of a crate, a scraped end)."""
    x0, y0 = np.floor(quad.min(0)).astype(int)
    x1, y1 = np.ceil(quad.max(0)).astype(int)
    n = x1 - x0
    span = max(1, int(n * rng.uniform(0.25, 0.45)))
    ramp = np.ones(n, np.float32)
    ramp[n - span:] = np.linspace(1.0, rng.uniform(0.1, 0.3), span)
    if rng.random() < 0.5:
        ramp = ramp[::-1]
    out = cover.copy()
    pad = max(1, (y1 - y0) // 4)
    out[max(0, y0 - pad):y1 + pad, x0:x1] *= ramp[None, :out.shape[1] - x0]
    return out


def _warp(rgb: np.ndarray, quads: list[np.ndarray], rng: np.random.Generator, level: str,
          bare: np.ndarray, tilt: float = 0.0):
    """Cylinder curvature (horizontal), perspective and rotation (a few degrees, sometimes a half turn, plus
    ``tilt`` degrees); the quads follow. Where the turned surface leaves the photo's corners uncovered, more of the
    ``bare`` surface (the same, unpainted) shows, mirrored beyond its edges, instead of smeared edge pixels."""
    h, w = rgb.shape[:2]
    if rng.random() < 0.35:  # a rocket body or tube: the surface bends away at the sides
        theta = rng.uniform(0.3, 1.0)
        u = (np.arange(w, dtype=np.float32) / (w - 1)) * 2 - 1  # destination columns in [-1, 1]
        src_x = (np.sin(u * theta) / math.sin(theta) + 1) / 2 * (w - 1)
        map_x = np.repeat(src_x[None, :], h, 0).astype(np.float32)
        map_y = np.repeat(np.arange(h, dtype=np.float32)[:, None], w, 1)
        rgb = cv2.remap(rgb, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        bare = cv2.remap(bare, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        quads = [np.stack([(np.arcsin(np.clip((q[:, 0] / (w - 1) * 2 - 1) * math.sin(theta), -1, 1)) / theta + 1)
                           / 2 * (w - 1), q[:, 1]], 1).astype(np.float32) for q in quads]
    jitter = {"clean": 0.04, "worn": 0.08, "obscured": 0.12}[level]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.normal(0, jitter, (4, 2)).astype(np.float32) * np.float32([w, h])
    angle = rng.normal(0, 4) + (180 if rng.random() < 0.08 else 0) + tilt
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    dst = (np.hstack([dst, np.ones((4, 1), np.float32)]) @ rot.T).astype(np.float32)
    lo = dst.min(0)
    scale = min(w / (dst.max(0)[0] - lo[0]), h / (dst.max(0)[1] - lo[1]))
    dst = (dst - lo) * scale
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    rgb = cv2.warpPerspective(rgb, m, (w, h), borderMode=cv2.BORDER_REFLECT_101)
    cover = cv2.warpPerspective(np.ones((h, w), np.float32), m, (w, h), borderMode=cv2.BORDER_CONSTANT)[..., None]
    beyond = cv2.warpPerspective(bare, m, (w, h), borderMode=cv2.BORDER_REFLECT_101)
    rgb = np.clip(rgb * cover + beyond * (1 - cover), 0, 255).astype(np.uint8)
    # corners stay in the text's own order (an upside-down line has its top-left corner at the bottom right)
    return rgb, [cv2.perspectiveTransform(q[None], m)[0] for q in quads]


def draw_tilt(rng: np.random.Generator, lo: float, hi: float) -> float:
    """A photo's tilt in degrees: ``lo`` to ``hi`` either way (uniform in size, either sign equally)."""
    return float(rng.uniform(lo, hi) * (1 if rng.random() < 0.5 else -1))


def render_marking(rng: np.random.Generator, *, level: str, width: int | None = None, lot: LotText | None = None,
                   nomenclature: str | None = None, overpaint: bool | None = None,
                   faded_end: bool = False, camo: bool | None = None, varied: bool = False,
                   whole_circle: bool = False, more_fonts: bool = False, tilt: float = 0.0,
                   rust: np.random.Generator | None = None, faces: tuple[str, ...] = (),
                   style: GlyphStyle | None = None) -> MarkingScene:
    """One marking photo with its lines; ``lot`` and ``nomenclature`` fix those lines (documented cases in
    tests), ``overpaint`` forces (or forbids) an old marking under a new coat of paint, ``faded_end`` fades
    one end of the lot line (``fade_end``), ``camo`` forces (or forbids) camouflage on the surface, ``varied``
    composes half the nomenclature and other lines from parts (``datasets.lot_text``), ``whole_circle`` draws a
    circled factory code's double circle whole, over the lines around it (``_paint_layer``), ``more_fonts`` draws the
    lines from more typefaces (:data:`MORE_FONT_NAMES` too), ``faces`` from the named font files only (such as
    ``datasets.fonts.HELD_OUT_FACES``; a line a face does not cover falls back to the default pool), ``tilt`` turns
    the whole marking that many degrees more (counter-clockwise; a photo taken askew: by default lines lie within a
    few degrees of level). The tilt draws nothing from ``rng``: a scene with and without it differs only in its turn
    (and the scale that fits it). ``rust`` corrodes a metal surface (not wood) and the paint on it
    (:func:`rust_layer`, more by level: :data:`RUST_AMOUNT`), drawing only from that generator of its own: the scene
    is otherwise the one without it. ``style`` restyles every line's type, the old marking's too (``line_mask``;
    its ``shear`` adds to the marking's own slant), drawing nothing from ``rng``."""
    w = int(width or rng.choice(list(WIDTHS)))
    h = int(w * rng.uniform(0.5, 0.8))
    lot = lot or sample_lot(rng, varied=varied)
    lines: list[tuple[str, bool]] = [(lot.text, lot.circled_factory)]
    if nomenclature or rng.random() < 0.85:
        lines.insert(0, (nomenclature or sample_nomenclature(rng, varied=varied), False))
    for _ in range(int(rng.integers(0, 2))):
        lines.append((sample_other(rng, varied=varied), False))
    surf = str(rng.choice(list(SURFACES)))
    canvas = surface(h, w, rng, surf, camo=camo)
    bare = np.clip(canvas, 0, 255).astype(np.uint8)
    stencil = rng.random() < 0.6
    if faces:
        font_name = str(rng.choice(faces))
    elif more_fonts:
        font_name = str(rng.choice(FONT_NAMES[:3] + MORE_STENCIL_FONTS if stencil else FONT_NAMES + MORE_FONT_NAMES))
    else:  # (the default draws as before, so that older seeds render the same)
        font_name = str(rng.choice(FONT_NAMES[:3] if stencil else FONT_NAMES))
    colour = np.array(PAINTS[str(rng.choice(list(PAINTS)))], np.float32) * rng.uniform(0.85, 1.1, 3)
    slant = float(rng.uniform(-0.15, 0.35)) if rng.random() < 0.35 else 0.0
    repaint = (level != "clean" and rng.random() < 0.5) if overpaint is None else overpaint
    if repaint:  # an old marking under a new coat of paint
        old = [(sample_other(rng, varied=varied), False), (sample_lot(rng, varied=varied).text, False)]
        old_cover, _ = _paint_layer(h, w, old, rng, stencil=stencil, font_name=font_name, slant=slant,
                                    style=style)
        canvas = _apply_paint(canvas, old_cover, colour * rng.uniform(0.7, 1.0), rng, 1.0)
        coat = np.array(SURFACES[surf], np.float32) * rng.uniform(0.85, 1.1, 3)
        keep, add = 1 - rng.uniform(0.5, 0.9), rng.uniform(0.5, 0.9)
        canvas = canvas * keep + coat * add
        bare = np.clip(bare * keep + coat * add, 0, 255).astype(np.uint8)  # the new coat covers all of it
    cover, quads = _paint_layer(h, w, lines, rng, stencil=stencil, font_name=font_name, slant=slant,
                                whole=whole_circle, style=style)
    cover = _damage(cover, rng, level)
    lot_k = lines.index((lot.text, lot.circled_factory))
    if faded_end:
        cover = fade_end(cover, quads[lot_k], rng)
    canvas = _apply_paint(canvas, cover, colour, rng, float(rng.uniform(0.8, 1.0)))
    if rust is not None and surf != "wood":
        alpha, rust_colour = rust_layer(h, w, rust, float(rust.uniform(*RUST_AMOUNT[level])))
        canvas = rusted(canvas, alpha, rust_colour)
        bare = np.clip(rusted(bare.astype(np.float32), alpha, rust_colour), 0, 255).astype(np.uint8)
    if level != "clean" and rng.random() < 0.3:
        canvas = degrade.occlude(canvas, rng, (w * rng.uniform(0.2, 0.8), h * rng.uniform(0.2, 0.8)), h * 0.3)
    rgb, quads = _warp(np.clip(canvas, 0, 255).astype(np.uint8), quads, rng, level, bare, tilt)
    lv = {"clean": 0.1, "worn": 0.45, "obscured": 0.7}[level]
    if level != "clean" and rng.random() < 0.4:
        rgb = degrade.downscale(rgb, rng, diameter_px=float(w), min_diameter_px=float(w) * 0.35)
    rgb = degrade.photometric(lv, seed=int(rng.integers(2**31)))(image=rgb)["image"]
    truths = tuple(LineTruth(text, "lot" if k == lot_k else "text", circled, q.astype(np.float32))
                   for k, ((text, circled), q) in enumerate(zip(lines, quads)))
    return MarkingScene(rgb, truths, level)


def cut_by_frame(scene: MarkingScene, *, left: float, right: float) -> MarkingScene:
    """The photo cropped so that its lot line loses ``left`` and ``right`` of its length to the frame (a
    tight photo of a long line); the truths keep their whole text and quads, as investigators label them."""
    q = scene.lot.quad
    x0, x1 = float(q[:, 0].min()), float(q[:, 0].max())
    a = max(0, int(x0 + left * (x1 - x0)))
    b = min(scene.rgb.shape[1], int(math.ceil(x1 - right * (x1 - x0))))
    return _columns(scene, a, b)


def _columns(scene: MarkingScene, a: int, b: int) -> MarkingScene:
    """The photo's columns a to b, its truths' quads moved with them (whole, even where they leave it)."""
    lines = tuple(dataclasses.replace(ln, quad=(ln.quad - [a, 0]).astype(np.float32)) for ln in scene.lines)
    return MarkingScene(scene.rgb[:, a:b].copy(), lines, scene.level)


def line_height(scene: MarkingScene) -> float:
    """The median height of a scene's painted lines in pixels (left side of each quad)."""
    return float(np.median([np.linalg.norm(ln.quad[3] - ln.quad[0]) for ln in scene.lines]))


def blurred(scene: MarkingScene, frac: float) -> MarkingScene:
    """The photo out of focus: a Gaussian blur of ``frac`` of its lines' height (0.1 leaves a 20-pixel line
    with a 2-pixel blur, strokes still apart; at 0.15 narrow gaps close)."""
    if frac <= 0:
        return scene
    return dataclasses.replace(scene, rgb=cv2.GaussianBlur(scene.rgb, (0, 0), frac * line_height(scene)))


def soften_marking(scene: MarkingScene, rng: np.random.Generator, *, blur: tuple[float, float] = (0.04, 0.13),
                   low_px: tuple[float, float] = (7.0, 14.0)) -> MarkingScene:
    """A marking as a soft phone photo or a video still shows it: half the time out of focus (:func:`blurred`
    by ``blur`` of the line height), else its resolution lost until a line is ``low_px`` pixels high (shrunk and
    enlarged back; unchanged when its lines are already that small), then re-compressed."""
    if rng.random() < 0.5:
        soft = blurred(scene, float(rng.uniform(*blur)))
    else:
        f = float(rng.uniform(*low_px)) / max(line_height(scene), 1.0)
        soft = dataclasses.replace(scene, rgb=degrade.soften(scene.rgb, f))
    return dataclasses.replace(soft, rgb=degrade.jpeg(soft.rgb, int(rng.integers(30, 90))))


def framed_close(scene: MarkingScene, rng: np.random.Generator, *,
                 spare: tuple[float, float] = (0.0, 0.5)) -> MarkingScene:
    """The photo cropped at its sides to its painted lines, ``spare`` line heights (drawn per side) left beyond
    the outermost line ends: a close-up that fills the frame, every line whole but reaching the photo's edge."""
    quads = np.stack([ln.quad for ln in scene.lines])
    line_h = line_height(scene)
    w = scene.rgb.shape[1]
    a = int(max(0.0, quads[..., 0].min() - rng.uniform(*spare) * line_h))
    b = int(min(w, math.ceil(quads[..., 0].max() + rng.uniform(*spare) * line_h)))
    return _columns(scene, a, b)


def glyph_width(line: LineTruth) -> float:
    """A line's mean glyph pitch in pixels: its length over its characters."""
    return float(np.linalg.norm(line.quad[1] - line.quad[0])) / max(1, len(line.text))


def glyph_cut(scene: MarkingScene, rng: np.random.Generator, *, most: float = 0.4,
              both: float = 0.3) -> MarkingScene:
    """The photo cropped through its outermost glyphs, as a close-up taken a little too tight: on the right (and,
    for ``both`` of the photos, on the left) the line reaching farthest loses up to ``most`` of a glyph's width
    and no line more than ``most`` of its own glyph; the truths keep their whole text, every glyph being more
    than half in the photo."""
    ends = [(float(ln.quad[:, 0].min()), float(ln.quad[:, 0].max()), glyph_width(ln)) for ln in scene.lines]
    far = max(ends, key=lambda e: e[1])
    b = max(far[1] - rng.uniform(0.2, 1.0) * most * far[2], max(x1 - most * g for _, x1, g in ends))
    a = 0.0
    if rng.random() < both:
        near = min(ends, key=lambda e: e[0])
        a = min(near[0] + rng.uniform(0.2, 1.0) * most * near[2], min(x0 + most * g for x0, _, g in ends))
    w = scene.rgb.shape[1]
    a_px = max(0, math.floor(a))
    return _columns(scene, a_px, min(w, max(a_px + 8, math.ceil(b))))


def tight_photo(scene: MarkingScene, rng: np.random.Generator) -> MarkingScene:
    """``cut_by_frame`` with 8-20 % of the lot line lost on the left and 5-15 % on the right."""
    return cut_by_frame(scene, left=float(rng.uniform(0.08, 0.2)), right=float(rng.uniform(0.05, 0.15)))


def in_frame(scene: MarkingScene, rng: np.random.Generator, *, frame_hw: tuple[int, int] | None = None,
             scale: tuple[float, float] = (0.3, 0.8)) -> MarkingScene:
    """The marking as part of a wider photo or video frame: its render, scaled to ``scale`` of the frame's
    height, pasted somewhere on a busy background (cloth, ground, camouflage); line quads follow."""
    fh, fw = frame_hw or ((540, 960) if rng.random() < 0.5 else (480, 640))
    h, w = scene.rgb.shape[:2]
    s = min(rng.uniform(*scale) * fh / h, 0.95 * fw / w, 0.95 * fh / h)
    small = cv2.resize(scene.rgb, (max(8, round(w * s)), max(8, round(h * s))), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    x0, y0 = int(rng.integers(0, fw - sw + 1)), int(rng.integers(0, fh - sh + 1))
    canvas = np.clip(background(fh, fw, rng), 0, 255).astype(np.uint8)
    canvas[y0:y0 + sh, x0:x0 + sw] = small
    sx, sy = sw / w, sh / h
    lines = tuple(dataclasses.replace(ln, quad=(ln.quad * [sx, sy] + [x0, y0]).astype(np.float32))
                  for ln in scene.lines)
    return MarkingScene(canvas, lines, scene.level)
