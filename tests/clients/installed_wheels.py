"""Wheels of build backends rebuilt from this venv's installed copies.

A tool that builds in an isolated environment (pdm, hatch, pip) installs the
project's build backend from the index it is given. In the tests that index is
the live server, which never reaches PyPI, so the backend is published there
first: the same files as the installed distribution, zipped back into a wheel
(pure-Python backends only: their RECORD lists every file)."""

import base64
import hashlib
import io
import zipfile
from importlib.metadata import distribution
from pathlib import Path


def installed_wheel(name: str) -> tuple[str, bytes, str]:
    """(filename, wheel bytes, METADATA text) of the installed distribution ``name``."""
    dist = distribution(name)
    metadata = dist.read_text("METADATA")
    wheel_info = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel_info.splitlines()
            if line.startswith("Tag:")]
    if tags != ["py3-none-any"]:
        raise ValueError(f"{name} is not a pure py3 wheel: {tags}")
    root = Path(dist.locate_file(""))
    stem = f"{dist.name.replace('-', '_')}-{dist.version}"
    record = f"{stem}.dist-info/RECORD"
    buffer = io.BytesIO()
    lines = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in dist.files or ():
            # Outside site-packages (scripts) or written by the installer (bytecode,
            # INSTALLER, direct_url.json): not part of the original wheel.
            if path.parts[0] == ".." or "__pycache__" in path.parts:
                continue
            if path.name in ("INSTALLER", "REQUESTED", "direct_url.json", "RECORD"):
                continue
            content = (root / path).read_bytes()
            archive.writestr(str(path), content)
            digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=")
            lines.append(f"{path},sha256={digest.decode()},{len(content)}")
        archive.writestr(record, "\n".join([*lines, f"{record},,"]) + "\n")
    return f"{stem}-py3-none-any.whl", buffer.getvalue(), metadata
