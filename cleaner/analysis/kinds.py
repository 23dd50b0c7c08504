"""What a file that is not an image is, from its first bytes and its name: phones and NAS shares hold
videos, sidecars and notes beside the photos, and those are skipped, not "unreadable".

The content decides first: a file that begins like an image is decoded whatever its name (a JPEG named
``.png`` is a JPEG). One that does not is *skipped*, with what it is, unless its name says it is an
image (``.jpg``, ``.heic``, ...): a photo that cannot be read is a problem worth an exit code 1, a video
beside it is not.
"""

from __future__ import annotations

from pathlib import PurePath

IMAGE_SUFFIXES = frozenset(
    ".jpg .jpeg .jpe .jfif .png .gif .bmp .dib .tif .tiff .webp .heic .heif .hif .avif .ico .ppm .pgm .pbm "
    ".pnm .tga .jp2 .j2k .jpx .dds .psd .qoi".split()
)
BY_SUFFIX = {
    **dict.fromkeys(".mp4 .m4v .mov .qt .avi .mkv .webm .3gp .3g2 .mts .m2ts .wmv .flv .mpg .mpeg".split(), "a video"),
    **dict.fromkeys(".cr2 .cr3 .nef .arw .dng .orf .rw2 .raf .srw .pef .rwl".split(), "a camera raw file"),
    **dict.fromkeys(".json .xmp .aae .thm .xml".split(), "a sidecar (metadata)"),
    **dict.fromkeys(".mp3 .m4a .aac .wav .flac .ogg .opus .amr".split(), "audio"),
    **dict.fromkeys(".txt .md .csv .log .ini .htm .html .pdf .doc .docx".split(), "a document"),
    **dict.fromkeys(".zip .tar .gz .7z .rar .db .lrv .ds_store".split(), "not a photo"),
}
VIDEO_BRANDS = frozenset(
    [*b"isom iso2 iso4 iso5 iso6 mp41 mp42 avc1 M4VP 3gp4 3gp5 3gp6 3g2a MSNV dash XAVC".split(), b"qt  ", b"M4V "]
)


def claims_image(name: str) -> bool:
    """The file's name says it is an image (its extension)."""
    return PurePath(name).suffix.lower() in IMAGE_SUFFIXES


def content_kind(head: bytes) -> str | None:
    """What a file that begins with ``head`` holds, when its first bytes say it is no image."""
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"crx ":
            return "a camera raw file (Canon CR3)"
        if brand in VIDEO_BRANDS or brand.startswith((b"3g", b"qt")):
            return "a video (MP4/QuickTime)"
        return f"an ISO media file (brand {brand.decode('ascii', 'replace')!r})"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "a video (Matroska/WebM)"
    if head[:4] == b"RIFF":
        return {b"AVI ": "a video (AVI)", b"WAVE": "audio (WAV)"}.get(head[8:12], "a RIFF file")
    if head[:3] == b"ID3" or head[:4] in (b"fLaC", b"OggS"):
        return "audio"
    if head[:4] == b"%PDF":
        return "a PDF document"
    if head[:4] == b"PK\x03\x04":
        return "a zip archive"
    if head[:8] == b"bplist00":
        return "a property list (sidecar)"
    return _text_kind(head)


def _text_kind(head: bytes) -> str | None:
    """JSON, XML/XMP or plain text, judged from its beginning (a file cut at any byte still reads)."""
    if not head or b"\0" in head:
        return None
    text = head.decode("utf-8", "ignore").lstrip("\ufeff \t\r\n")
    if len(text) < len(head) * 0.9 - 4:
        return None  # bytes that are not UTF-8: not text
    if not all(c.isprintable() or c in "\t\r\n" for c in text[:4096]):
        return None
    if text.startswith(("{", "[")):
        return "JSON (a sidecar, such as Google Takeout's)"
    if text.startswith(("<?xpacket", "<x:xmpmeta")) or "<x:xmpmeta" in text[:512]:
        return "XMP metadata (a sidecar)"
    if text.startswith("<"):
        return "XML (a sidecar, such as Apple's .aae)" if "plist" in text[:512] else "XML"
    return "text"


def suffix_kind(name: str) -> str | None:
    """What a file's extension says it is, when that is no image."""
    return BY_SUFFIX.get(PurePath(name).suffix.lower())


def not_an_image(name: str, head: bytes) -> str:
    """Why a file is skipped: ``not an image: a video (MP4/QuickTime)``."""
    kind = content_kind(head) or suffix_kind(name) or "no known image format"
    return f"not an image: {kind}"


def name_note(name: str, fmt: str) -> str | None:
    """A note when an image's name says another format than its content (read by content all the same)."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in IMAGE_SUFFIXES or fmt in ("", "unknown"):
        return None
    same = {"JPEG": (".jpg", ".jpeg", ".jpe", ".jfif"), "TIFF": (".tif", ".tiff"), "HEIF": (".heic", ".heif", ".hif")}
    same |= {"PPM": (".ppm", ".pgm", ".pbm", ".pnm"), "JPEG2000": (".jp2", ".j2k", ".jpx"), "BMP": (".bmp", ".dib")}
    if suffix in same.get(fmt, (f".{fmt.lower()}",)):
        return None
    return f"a {fmt} image named {suffix}: read by its content"
