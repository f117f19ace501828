"""Build real wheels and sdists in memory for tests (no build backend needed)."""

import base64
import hashlib
import io
import tarfile
import zipfile

from packaging.utils import canonicalize_name


def core_metadata(name: str, version: str, *, requires_python: str | None = None,
                  summary: str = "A test package", extra: list[tuple[str, str]] = (),
                  description: str = "") -> str:
    lines = ["Metadata-Version: 2.4", f"Name: {name}", f"Version: {version}",
             f"Summary: {summary}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"{key}: {value}" for key, value in extra]
    text = "\n".join(lines) + "\n"
    if description:
        text += "Description-Content-Type: text/markdown\n\n" + description
    return text


def wheel_filename(name: str, version: str, tag: str = "py3-none-any") -> str:
    return f"{canonicalize_name(name).replace('-', '_')}-{version}-{tag}.whl"


def sdist_filename(name: str, version: str) -> str:
    return f"{canonicalize_name(name).replace('-', '_')}-{version}.tar.gz"


def make_wheel(name: str, version: str, *, requires_python: str | None = None,
               metadata: str | None = None, tag: str = "py3-none-any",
               modules: dict[str, str] | None = None) -> tuple[str, bytes, str]:
    """Return (filename, wheel bytes, METADATA text) of an installable pure wheel."""
    dist = f"{canonicalize_name(name).replace('-', '_')}-{version}"
    metadata = metadata or core_metadata(name, version, requires_python=requires_python)
    modules = modules if modules is not None else {
        f"{canonicalize_name(name).replace('-', '_')}/__init__.py": f"VERSION = {version!r}\n"
    }
    files = dict(modules)
    files[f"{dist}.dist-info/METADATA"] = metadata
    files[f"{dist}.dist-info/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: indexsite-tests\nRoot-Is-Purelib: true\n"
        f"Tag: {tag}\n"
    )
    record_lines = []
    for path, content in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(content.encode()).digest())
        record_lines.append(f"{path},sha256={digest.rstrip(b'=').decode()},{len(content.encode())}")
    record_lines.append(f"{dist}.dist-info/RECORD,,")
    files[f"{dist}.dist-info/RECORD"] = "\n".join(record_lines) + "\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return wheel_filename(name, version, tag), buffer.getvalue(), metadata


def make_sdist(name: str, version: str, *, requires_python: str | None = None,
               metadata: str | None = None) -> tuple[str, bytes]:
    """Return (filename, bytes) of a PEP 625 sdist with PKG-INFO."""
    filename = sdist_filename(name, version)
    root = filename[: -len(".tar.gz")]
    metadata = metadata or core_metadata(name, version, requires_python=requires_python)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, content in {
            f"{root}/PKG-INFO": metadata,
            f"{root}/pyproject.toml": "[project]\n"
            f"name = {name!r}\nversion = {version!r}\n",
        }.items():
            data = content.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return filename, buffer.getvalue()
