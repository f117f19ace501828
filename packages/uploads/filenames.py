"""Distribution filename rules, one function per rule (PEP 427 wheels, PEP 625 sdists).

Each check raises UploadRejected with the sentence the client prints; the wording
follows PyPI's so that users find the same answers in PyPI's documentation."""

import re

from django.conf import settings
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from packages.errors import UploadRejected
from packages.models import PackageType

_EXTENSION = re.compile(r"\.(tar\.gz|zip|whl)$", re.IGNORECASE)
# A filesystem entry's limit; also File.filename's length.
MAX_FILENAME_BYTES = 255
_EXTENSIONS_BY_TYPE = {
    PackageType.SDIST: (".tar.gz", ".zip"),
    PackageType.WHEEL: (".whl",),
}

# Platform tags PyPI accepts on wheels (anything else, e.g. plain linux_x86_64,
# is a wheel built for one machine only).
_MACOS_ARCHES = "ppc|ppc64|i386|x86_64|arm64|intel|fat|fat3|fat64|universal|universal2"
_LINUX_ARCHES = "x86_64|i686|aarch64|armv7l|ppc64le|s390x|riscv64|ppc64"
_PLATFORM_TAGS = re.compile(
    "^(?:"
    + "|".join(
        [
            r"any",
            r"win32|win_amd64|win_arm64|win_ia64",
            r"manylinux1_(?:x86_64|i686)",
            r"manylinux2010_(?:x86_64|i686)",
            r"manylinux2014_(?:x86_64|i686|aarch64|armv7l|ppc64|ppc64le|s390x)",
            rf"manylinux_\d+_\d+_(?:{_LINUX_ARCHES})",
            r"musllinux_\d+_\d+_(?:x86_64|i686|aarch64|armv7l|ppc64le|s390x|riscv64)",
            r"linux_armv6l|linux_armv7l",
            rf"macosx_10_\d+_(?:{_MACOS_ARCHES})",
            rf"macosx_(?:1[1-5]|26)_0_(?:{_MACOS_ARCHES})",
            r"ios_\d+_\d+_(?:arm64|x86_64)_(?:iphoneos|iphonesimulator)",
            r"android_\d+_(?:armeabi_v7a|arm64_v8a|x86|x86_64)",
            r"pyemscripten_\d+_\d+_wasm32",
        ]
    )
    + ")$"
)


def check_filename_characters(filename: str) -> None:
    """No control characters and no path components: a filename, never a path."""
    if any(ord(char) < 32 or ord(char) == 127 for char in filename):
        raise UploadRejected(
            "Cannot upload a file with non-printable characters (ordinals 0-31) or the DEL "
            "character (ordinal 127) in the name."
        )
    if "/" in filename or "\\" in filename:
        raise UploadRejected("Cannot upload a file with '/' or '\\' in the name.")
    if filename in {"", ".", ".."} or filename.startswith("."):
        raise UploadRejected(f"Invalid filename: '{filename}'.")


def check_filename_length(filename: str, filetype: str) -> None:
    """The name must fit a filesystem entry (255 bytes), ``.metadata`` included for
    the PEP 658 file stored beside a wheel, and the database column."""
    limit = MAX_FILENAME_BYTES - (len(".metadata") if filetype == PackageType.WHEEL else 0)
    if len(filename.encode("utf-8", "surrogatepass")) > limit:
        raise UploadRejected(f"Filename is too long: '{filename}' (at most {limit} bytes).")


def check_extension(filename: str, filetype: str) -> None:
    """Only .whl wheels and .tar.gz sdists (.zip passes here but fails PEP 625 later)."""
    if not _EXTENSION.search(filename):
        raise UploadRejected(
            "Invalid file extension: Use .tar.gz, .whl or .zip extension. See "
            "https://peps.python.org/pep-0527 and https://peps.python.org/pep-0715 for more "
            "information."
        )
    if not filename.lower().endswith(_EXTENSIONS_BY_TYPE[filetype]):
        extension = _EXTENSION.search(filename).group(0)
        raise UploadRejected(
            f"Invalid file extension: Extension {extension} is invalid for filetype "
            f"{filetype}. See https://peps.python.org/pep-0527 for more information."
        )


def expected_name_prefix(normalized_name: str) -> str:
    return normalized_name.replace("-", "_")


def check_wheel_filename(filename: str, *, project_name: str, version: str) -> None:
    """PEP 427 wheel filename: parses, supported platform tags, names the project
    (in its normalized form) and the version being uploaded."""
    try:
        name, wheel_version, _build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        reason = str(exc)
        if not reason.startswith("Invalid wheel filename"):
            reason = f"Invalid wheel filename: {reason}"
        raise UploadRejected(reason) from None
    # PyPI's list of platform tags is its policy, not the protocol: a private
    # index usually hosts wheels built for its own machines (linux_x86_64).
    for tag in tags if settings.INDEX_PYPI_PLATFORM_TAGS_ONLY else ():
        if not _PLATFORM_TAGS.match(tag.platform):
            raise UploadRejected(
                f"Binary wheel '{filename}' has an unsupported platform tag '{tag.platform}'."
            )
    normalized = canonicalize_name(project_name)
    prefix = expected_name_prefix(normalized)
    if name != normalized:
        raise UploadRejected(f"Start filename for '{project_name}' with '{prefix}'.")
    name_part = filename.split("-", 1)[0]
    if name_part != prefix:
        raise UploadRejected(
            f"Filename '{filename}' should contain the normalized project name '{prefix}', "
            f"not '{name_part}'."
        )
    if wheel_version != Version(version):
        raise UploadRejected(f"Version in filename should be '{version}' not '{wheel_version}'.")


def check_sdist_filename(filename: str, *, project_name: str, version: str) -> None:
    """PEP 625: exactly ``<normalized_name>-<normalized version>.tar.gz``."""
    try:
        name, _sdist_version = parse_sdist_filename(filename)
    except InvalidSdistFilename:
        raise UploadRejected(f"Invalid source distribution filename: {filename}") from None
    normalized = canonicalize_name(project_name)
    prefix = expected_name_prefix(normalized)
    if name != normalized:
        raise UploadRejected(f"Start filename for '{project_name}' with '{prefix}'.")
    expected = f"{prefix}-{Version(version)}.tar.gz"
    if filename != expected:
        raise UploadRejected(f"Filename '{filename}' is invalid, should be '{expected}'.")


def check_filename(filename: str, *, filetype: str, project_name: str, version: str) -> None:
    """All filename rules, in PyPI's order."""
    check_filename_characters(filename)
    check_extension(filename, filetype)
    check_filename_length(filename, filetype)
    if filetype == PackageType.WHEEL:
        check_wheel_filename(filename, project_name=project_name, version=version)
    else:
        check_sdist_filename(filename, project_name=project_name, version=version)
