"""The screenshot engine's pure parts: variants and their PNG sizes, PNG decoding, what counts as Google."""

import struct
import zlib

import pytest

from shared.screenshots.engine import VARIANTS, png_dimensions
from shared.screenshots.routing import is_google


def tiny_png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def test_png_dimensions_read_the_header() -> None:
    assert png_dimensions(tiny_png(1920, 1080)) == (1920, 1080)
    with pytest.raises(ValueError, match="not a PNG"):
        png_dimensions(b"GIF89a" + b"\0" * 30)


def test_variants_are_the_issue_s() -> None:
    assert VARIANTS["desktop_fold"].png_size() == (1920, 1080)
    assert VARIANTS["desktop_full"].png_size(4000) == (1920, 4000)
    assert VARIANTS["mobile"].png_size() == (780, 1688)
    assert VARIANTS["mobile"].mobile
    assert not VARIANTS["desktop_full"].mobile


@pytest.mark.parametrize(
    ("host", "google"),
    [
        ("www.google.com", True),
        ("google.co.uk", True),
        ("www.gstatic.com", True),
        ("lh3.googleusercontent.com", True),
        ("fonts.googleapis.com", True),
        ("www.demo-outdoor.example.com", False),
        ("googlefan.example", False),
        ("notgstatic.com", False),
    ],
)
def test_what_a_serp_never_requests(host: str, google: bool) -> None:
    assert is_google(host) is google
