"""HTML report of a batch run: a thumbnail per image with its rings and lines drawn, the reads and matches, and
counts by maker code and by lot. Self-contained (thumbnails inlined), written from the run's JSONL journal."""

from __future__ import annotations

import base64
import html
import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from model.imageio import ImageDecodeError, decode_image
from serve.sources import read_bytes

THUMB_PX = 220


def _thumbnail(uri: str, markings: list[dict]) -> str | None:
    try:
        rgb = decode_image(read_bytes(uri))
    except (ImageDecodeError, OSError):
        return None
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    f = THUMB_PX / max(bgr.shape[:2])
    for m in markings:
        if m["kind"] == "headstamp":
            e = m["ellipse"]
            cv2.ellipse(bgr, (round(m["center"][0]), round(m["center"][1])), (round(e["a"]), round(e["b"])),
                        e["angle_deg"], 0, 360, (0, 255, 0), max(1, round(2 / f)))
        else:
            q = np.array(m["quad"], np.int32)
            cv2.polylines(bgr, [q], True, (255, 0, 255) if m["kind"] == "lot" else (255, 255, 0), max(1, round(2 / f)))
    small = cv2.resize(bgr, (max(1, round(bgr.shape[1] * f)), max(1, round(bgr.shape[0] * f))),
                       interpolation=cv2.INTER_AREA)
    ok, jpg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return base64.b64encode(jpg.tobytes()).decode("ascii") if ok else None


def _read_text(m: dict) -> str:
    return " ".join(m["segments"]) if m["kind"] == "headstamp" else m["text"]


def _match_text(x: dict) -> str:
    return f"{x['code']} {x['maker']}" if "code" in x else f"{x['lot']} {x['nomenclature']}"


def write_report(journal: Path, source: str, uris: dict[str, str], out: Path) -> int:
    """Write ``out`` from the batch journal of a run over ``source``; ``uris`` maps each row's ``file`` to where
    its image is read from. Returns the number of images in the report."""
    rows = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines() if line.strip()]
    makers, lots = Counter(), Counter()
    cards = []
    for r in rows:
        for m in r.get("markings", []):
            top = (m.get("matches") or [None])[0]
            if m["kind"] == "headstamp" and top and top["score"] >= 0.5:
                makers[f"{top['code']} ({top['maker']})"] += 1
            if m["kind"] == "lot":
                lots[(top["lot"] if top and top["score"] >= 0.5 else m["text"])] += 1
        uri = uris.get(r["file"])
        thumb = None if "duplicate_of" in r or "error" in r or not uri else _thumbnail(uri, r.get("markings", []))
        items = "".join(
            f"<li><b>{html.escape(_read_text(m))}</b> <small>{html.escape(m['kind'])}</small>"
            + "".join(f"<br><small>→ {html.escape(_match_text(x))} ({x['score']:.2f})</small>"
                      for x in (m.get("matches") or [])[:2]) + "</li>"
            for m in r.get("markings", []))
        note = r.get("error") or (f"duplicate of {r['duplicate_of']}" if "duplicate_of" in r else "")
        img = f'<img alt="{html.escape(r["file"])}" src="data:image/jpeg;base64,{thumb}">' if thumb else ""
        cards.append(f'<div class="card">{img}<div><b>{html.escape(r["file"])}</b>'
                     f'<p class="note">{html.escape(note)}</p><ul>{items}</ul></div></div>')

    def table(title: str, counts: Counter) -> str:
        body = "".join(f"<tr><td>{html.escape(k)}</td><td>{n}</td></tr>" for k, n in counts.most_common())
        return f"<h2>{title}</h2><table><tr><th>{title.split()[-1]}</th><th>images</th></tr>{body}</table>"

    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>marktrace report</title><style>"
            "body{font:14px system-ui,sans-serif;margin:1rem} .card{display:flex;gap:1rem;border-top:1px solid #ddd;"
            "padding:.5rem 0} .note{color:#b00} td,th{padding:.2rem .6rem;border-bottom:1px solid #eee}</style>"
            f"</head><body><h1>marktrace batch report</h1><p>{len(rows)} images from {html.escape(source)}</p>"
            f"{table('Counts by maker', makers)}{table('Counts by lot', lots)}<h2>Images</h2>{''.join(cards)}"
            "</body></html>")
    out.write_text(page, encoding="utf-8")
    return len(rows)
