"""The Python side as a package: ``pip install .`` in a new virtualenv gives a working
``taxi-duration``, with the bundle schema and the default bundle inside the package.

Builds the wheel from pyproject.toml (pip, build isolation: setuptools from PyPI), checks what
it holds, installs it without dependencies into a fresh virtualenv (the command's --help and the
package data need none of them) and runs it from a directory outside the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(REPO)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    (whl,) = out.glob("taxi_duration_ml-*.whl")
    return whl


def test_the_wheel_holds_the_package_its_data_and_licenses(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in (
        "taxi_duration_ml/__main__.py",
        "taxi_duration_ml/cli/main.py",
        "taxi_duration_ml/bundle.schema.json",
        "taxi_duration_ml/default_bundle.json",
    ):
        assert f in names, f"{f} not in {wheel.name}"
    assert any(n.endswith("licenses/LICENSE") for n in names), "LICENSE not in the wheel"
    assert any(n.endswith("licenses/NOTICE") for n in names), "NOTICE not in the wheel"
    assert not any(n.startswith("tests/") for n in names)
    meta = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry = zipfile.ZipFile(wheel).read(meta).decode()
    assert "taxi-duration = taxi_duration_ml.__main__:main" in entry, entry


def test_installed_in_a_new_virtualenv_the_command_works(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    # a clean environment: no PYTHONPATH to this checkout (which pip would take as installed)
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    for k in ("PIP_INDEX_URL", "PIP_CERT", "PIP_TRUSTED_HOST", "SSL_CERT_FILE"):
        if k in os.environ:
            clean[k] = os.environ[k]
    r = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        capture_output=True,
        text=True,
        env=clean,
    )
    assert r.returncode == 0, r.stderr
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    r = subprocess.run(
        [str(env_dir / "bin" / "taxi-duration"), "--help"],
        capture_output=True,
        text=True,
        cwd=outside,
        env=clean,
    )
    assert r.returncode == 0 and "load-trips" in r.stdout and "serve" in r.stdout, r.stderr
    r = subprocess.run(
        [
            str(py),
            "-c",
            "import importlib.resources as r, json, taxi_duration_ml;"
            "f = r.files('taxi_duration_ml');"
            "print(json.loads(f.joinpath('bundle.schema.json').read_text())['type'],"
            " len(f.joinpath('default_bundle.json').read_bytes()) > 1000,"
            " taxi_duration_ml.__file__.startswith(%r))" % str(env_dir),
        ],
        capture_output=True,
        text=True,
        cwd=outside,
        env=clean,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["object", "True", "True"], r.stdout
