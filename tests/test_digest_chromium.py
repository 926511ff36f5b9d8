"""The HTML email displays: headless Chromium renders it to a screenshot of the expected size
that is not blank. Skipped only off CI where ``chromium`` is missing (``.ci/run`` installs it)."""

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from service.digest.layout import render_html
from tests.test_digest_email import edition

WIDTH, HEIGHT = 800, 1200
CHROMIUM = shutil.which("chromium")


def png_facts(data: bytes) -> tuple[int, int, int]:
    """Width, height and the number of distinct bytes in the image data (a blank one has ~2)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, size, pixels = 8, (0, 0), b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            pixels += body
        offset += 12 + length
    return size[0], size[1], len(set(zlib.decompress(pixels)))


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="chromium not installed (CI has it)"
)
def test_the_html_email_renders_in_headless_chromium(tmp_path: Path) -> None:
    assert CHROMIUM is not None, "chromium must be on PATH under CI (.ci/run installs it)"
    page, shot = tmp_path / "digest.html", tmp_path / "shot.png"
    page.write_text(render_html(edition()), encoding="utf-8")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    command += [f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", page.as_uri()]
    subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=tmp_path)
    width, height, distinct = png_facts(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    assert distinct > 32, "the screenshot is blank"
