"""The wheel carries the prompt templates (package data); `python -m service` is `brief`."""

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_wheel_includes_prompts_and_schemas(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("newsbrief-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "prompts/extract.toml",
        "prompts/compose.toml",
        "schemas/briefing.py",
        "service/cli.py",
        "service/digest/templates/digest.html",
        "service/templates/briefing.html",
        "service/templates/page.js",
    } <= names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "brief = service.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_python_m_service_is_the_brief_command_with_its_version() -> None:
    import service

    done = subprocess.run(
        [sys.executable, "-m", "service", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["brief,", "version", service.__version__]
    assert service.__version__.split(".")[0].isdigit()
