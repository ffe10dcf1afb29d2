"""Where a batch run's images come from: a local folder, a file list, or object storage.

A source is a folder or a file list (one path or URL a line; relative lines are relative to the list). Either may
be local or any fsspec URL: ``s3://bucket/photos`` (with ``pip install s3fs``; credentials and endpoint from the
usual AWS settings, e.g. ``AWS_ENDPOINT_URL_S3`` for MinIO or another S3-compatible store), ``gs://``
(``gcsfs``), ``az://`` (``adlfs``), ``file://``. Each image keeps a name relative to the source (the ``file``
of its prediction row) and the path or URL it is read from.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}


class SourceError(ValueError):
    """The source is neither a folder nor a file list, or its storage cannot be reached."""


@dataclass(frozen=True)
class Item:
    name: str  # relative to the source: the ``file`` of the prediction row
    uri: str  # local path or URL to read it from


def is_url(text: str) -> bool:
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.isascii() and scheme.replace("+", "").isalnum() and len(scheme) > 1


def _wanted(name: str, all_files: bool) -> bool:
    return all_files or PurePosixPath(name).suffix.lower() in IMAGE_SUFFIXES


def list_images(root: Path, *, all_files: bool = False) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and _wanted(p.name, all_files))


def list_source(source: str, *, all_files: bool = False) -> list[Item]:
    """Every image in a folder (recursively, image suffixes unless ``all_files``) or named by a file list."""
    if is_url(source):
        return _list_url(source, all_files)
    root = Path(source)
    if root.is_dir():
        return [Item(p.relative_to(root).as_posix(), str(p)) for p in list_images(root, all_files=all_files)]
    if root.is_file():
        return _from_list(root.read_text(encoding="utf-8"), str(root.parent.absolute()), os.sep)
    raise SourceError(f"{source} is neither a folder nor a file list")


def _list_url(url: str, all_files: bool) -> list[Item]:
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(url)
        if fs.isdir(path):
            base = path.rstrip("/")
            found = sorted(p for p in fs.find(base) if _wanted(p, all_files))
            return [Item(posixpath.relpath(p, base), fs.unstrip_protocol(p)) for p in found]
        if fs.isfile(path):
            text = fs.cat_file(path).decode("utf-8")
            return _from_list(text, url.rsplit("/", 1)[0], "/")
    except (ImportError, OSError, ValueError) as exc:  # a missing filesystem package, no such bucket, no access
        raise SourceError(f"cannot list {url}: {exc}") from exc
    raise SourceError(f"{url} is neither a folder nor a file list")


def _from_list(text: str, base: str, sep: str) -> list[Item]:
    """Items of a file list kept in ``base``: relative lines are under it; absolute ones under it are named
    relative to it too, others by their full path or URL."""
    out = []
    for ln in (x.strip() for x in text.splitlines()):
        if not ln or ln.startswith("#"):
            continue
        if is_url(ln) or Path(ln).is_absolute():
            name = ln[len(base) + 1:] if ln.startswith(base + sep) else ln
            out.append(Item(name.replace(os.sep, "/"), ln))
        else:
            out.append(Item(ln, _join(base, ln)))
    return out


def _join(base: str, relative: str) -> str:
    """``relative`` under ``base`` (a folder path or URL), with ``..`` resolved: object stores have no ``..``."""
    if is_url(base):
        scheme, rest = base.split("://", 1)
        return f"{scheme}://{posixpath.normpath(f'{rest}/{relative}')}"
    return os.path.normpath(os.path.join(base, relative))


def read_bytes(uri: str) -> bytes:
    """The bytes at a local path or URL; OSError when it cannot be read."""
    if not is_url(uri):
        return Path(uri).read_bytes()
    import fsspec

    try:
        with fsspec.open(uri, "rb") as f:
            return f.read()
    except (ImportError, ValueError) as exc:
        raise OSError(f"cannot read {uri}: {exc}") from exc
