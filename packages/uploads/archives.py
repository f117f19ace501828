"""Is the content really a distribution of its type?

Wheels (PEP 427): a ZIP with ``<name>-<version>.dist-info/`` holding METADATA,
WHEEL and RECORD. Sdists (PEP 625 / PEP 643): a gzip tar with one top-level
folder holding PKG-INFO. Members are never decompressed whole: the few we read
are read in bounded chunks, and the compression ratio is checked first so that a
zip bomb is refused before it expands."""

import configparser
import gzip
import io
import re
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from packages.errors import UploadRejected
from packages.models import PackageType
from packages.uploads.metadata import raw_from_core_metadata

# Members smaller than this are not ratio-checked: tiny files compress well.
RATIO_FLOOR = 1024 * 1024
# A tar stream is checked as a whole; its block padding compresses very well.
STREAM_RATIO_FLOOR = 16 * 1024 * 1024
# The most we read of METADATA / WHEEL / RECORD / PKG-INFO / entry_points.txt.
MAX_MEMBER_READ = 16 * 1024 * 1024
_READ_CHUNK = 64 * 1024
_ENTRY_POINT_NAME = re.compile(r"^[\w.-]+$")
# General purpose flag bit 0: the member is encrypted (it cannot be read).
_ZIP_ENCRYPTED = 0x1
# Tar members other than regular files and directories, as named in a refusal.
# Links and special files are refused: extracted (by a build frontend, a mirror,
# a curious user) a link may point anywhere on the machine, a device opens it.
_TAR_KINDS = {
    tarfile.SYMTYPE: "a symbolic link",
    tarfile.LNKTYPE: "a hard link",
    tarfile.CHRTYPE: "a character device",
    tarfile.BLKTYPE: "a block device",
    tarfile.FIFOTYPE: "a FIFO",
}


@dataclass
class ArchiveContents:
    # The core metadata file: a wheel's METADATA (kept for PEP 658) or an sdist's PKG-INFO.
    metadata: bytes
    metadata_path: str


def _invalid(reason: str):
    raise UploadRejected(f"Invalid distribution file. {reason}")


def _check_ratio(
    name: str, uncompressed: int, compressed: int, max_ratio: int, *, floor: int = RATIO_FLOOR
) -> None:
    if uncompressed > floor and uncompressed > max_ratio * max(compressed, 1):
        _invalid(
            f"Compression ratio of '{name}' exceeds {max_ratio}: the archive looks like a "
            "zip bomb."
        )


def _read_bounded(stream: BinaryIO, name: str, limit: int = MAX_MEMBER_READ) -> bytes:
    """Read a member in chunks, refusing it once it passes ``limit`` bytes."""
    parts, total = [], 0
    while chunk := stream.read(_READ_CHUNK):
        total += len(chunk)
        if total > limit:
            _invalid(f"'{name}' is larger than {limit} bytes.")
        parts.append(chunk)
    return b"".join(parts)


def _is_unsafe_member(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")


# Wheels


def inspect_wheel(fileobj: BinaryIO, filename: str, *, max_ratio: int) -> ArchiveContents:
    """Structure checks of a wheel; returns its METADATA."""
    fileobj.seek(0)
    if not zipfile.is_zipfile(fileobj):
        _invalid("File is not a zip archive.")
    fileobj.seek(0)
    try:
        archive = zipfile.ZipFile(fileobj)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        _invalid(f"ZIP archive not accepted: {exc}.")
    names = set()
    for info in members:
        if info.filename in names:
            _invalid(f"ZIP archive not accepted: duplicate member '{info.filename}'.")
        names.add(info.filename)
        if _is_unsafe_member(info.filename):
            _invalid(f"ZIP archive not accepted: unsafe member path '{info.filename}'.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            _invalid("File does not use a supported compression type.")
        if info.flag_bits & _ZIP_ENCRYPTED:
            _invalid(f"ZIP archive not accepted: encrypted member '{info.filename}'.")
        # Unix zips keep st_mode in the high 16 bits; unzip recreates a symlink from it.
        if stat.S_ISLNK(info.external_attr >> 16):
            _invalid(f"ZIP archive not accepted: '{info.filename}' is a symbolic link.")
        _check_ratio(info.filename, info.file_size, info.compress_size, max_ratio)
    total = sum(info.file_size for info in members)
    _check_ratio(filename, total, sum(info.compress_size for info in members), max_ratio)

    name, version = (filename.split("-") + ["", ""])[:2]
    dist_info = f"{name}-{version}.dist-info"

    def read(member: str) -> bytes | None:
        if member not in names:
            return None
        try:
            with archive.open(member) as stream:
                return _read_bounded(stream, member)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError,
                NotImplementedError, ValueError) as exc:
            _invalid(f"'{member}' cannot be read: {exc}.")

    if read(f"{dist_info}/WHEEL") is None:
        _invalid(f"WHEEL not found at {dist_info}/WHEEL.")
    if read(f"{dist_info}/RECORD") is None:
        raise UploadRejected(
            f"Wheel '{filename}' does not contain the required RECORD file: "
            f"{dist_info}/RECORD"
        )
    entry_points = read(f"{dist_info}/entry_points.txt")
    if entry_points is not None:
        _check_entry_points(entry_points, filename)
    metadata = read(f"{dist_info}/METADATA")
    if metadata is None:
        raise UploadRejected(
            f"Wheel '{filename}' does not contain the required METADATA file: "
            f"{dist_info}/METADATA"
        )
    for license_file in raw_from_core_metadata(metadata).get("license_files", []):
        if f"{dist_info}/licenses/{license_file}" not in names:
            raise UploadRejected(
                f"License-File {license_file} does not exist in distribution file {filename} "
                f"at {dist_info}/licenses/{license_file}"
            )
    return ArchiveContents(metadata=metadata, metadata_path=f"{dist_info}/METADATA")


def _check_entry_points(data: bytes, filename: str) -> None:
    message = f"Wheel '{filename}' has invalid entry points defined in the entry_points.txt file"
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str
    try:
        parser.read_string(data.decode("utf-8"))
    except (UnicodeDecodeError, configparser.Error):
        raise UploadRejected(message) from None
    for section in ("console_scripts", "gui_scripts"):
        if parser.has_section(section):
            if not all(_ENTRY_POINT_NAME.match(key) for key in parser[section]):
                raise UploadRejected(message)


# Sdists


class _RatioGuardedGzip(io.RawIOBase):
    """Decompresses a gzip stream, refusing once output outgrows input by max_ratio."""

    def __init__(self, fileobj: BinaryIO, name: str, max_ratio: int):
        self._raw = _CountingReader(fileobj)
        self._gzip = gzip.GzipFile(fileobj=self._raw, mode="rb")
        self._name = name
        self._max_ratio = max_ratio
        self.produced = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self._gzip.read(min(len(buffer), _READ_CHUNK))
        self.produced += len(data)
        _check_ratio(
            self._name, self.produced, self._raw.consumed, self._max_ratio,
            floor=STREAM_RATIO_FLOOR,
        )
        buffer[: len(data)] = data
        return len(data)


class _CountingReader(io.RawIOBase):
    def __init__(self, fileobj: BinaryIO):
        self._file = fileobj
        self.consumed = 0

    def readable(self):
        return True

    def read(self, n=-1):
        data = self._file.read(n)
        self.consumed += len(data)
        return data

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def inspect_sdist(fileobj: BinaryIO, filename: str, *, max_ratio: int) -> ArchiveContents:
    """Structure checks of a .tar.gz sdist, read as a stream; returns its PKG-INFO."""
    fileobj.seek(0)
    if fileobj.read(2) != b"\x1f\x8b":
        _invalid("File is not a gzip-compressed tar archive.")
    fileobj.seek(0)
    if zipfile.is_zipfile(fileobj):
        _invalid("File is both a tar and a zip archive.")
    fileobj.seek(0)
    stream = io.BufferedReader(_RatioGuardedGzip(fileobj, filename, max_ratio), _READ_CHUNK)
    tops: set[str] = set()
    pkg_info: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                if member.issparse():
                    _invalid(
                        "tar archive not accepted: Sparse members are not allowed."
                    )
                if _is_unsafe_member(member.name):
                    _invalid(f"tar archive not accepted: unsafe member path '{member.name}'.")
                if not (member.isreg() or member.isdir()):
                    kind = _TAR_KINDS.get(
                        member.type, f"of tar type '{member.type.decode('latin-1')}'"
                    )
                    _invalid(
                        f"tar archive not accepted: '{member.name}' is {kind}; only regular "
                        "files and directories are allowed."
                    )
                parts = member.name.strip("/").split("/")
                tops.add(parts[0])
                if len(tops) > 1:
                    _invalid("Incorrect number of top-level directories in sdist.")
                if len(parts) == 2 and parts[1] == "PKG-INFO" and member.isfile():
                    extracted = archive.extractfile(member)
                    pkg_info[member.name] = _read_bounded(extracted, member.name)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        _invalid(f"File is not a valid gzip-compressed tar archive: {exc}.")
    if len(tops) != 1:
        _invalid("Incorrect number of top-level directories in sdist.")
    path = f"{next(iter(tops))}/PKG-INFO"
    if path not in pkg_info:
        _invalid(f"PKG-INFO not found at {path}.")
    return ArchiveContents(metadata=pkg_info[path], metadata_path=path)


def inspect_archive(
    fileobj: BinaryIO, filename: str, *, filetype: str, max_ratio: int
) -> ArchiveContents:
    if filetype == PackageType.WHEEL:
        return inspect_wheel(fileobj, filename, max_ratio=max_ratio)
    if filename.lower().endswith(".zip"):
        _invalid("Zip sdists are not accepted: upload a .tar.gz sdist (PEP 625).")
    return inspect_sdist(fileobj, filename, max_ratio=max_ratio)


def check_archive(
    fileobj: BinaryIO, filename: str, *, filetype: str, name: str, version: str, max_ratio: int,
    inspected: ArchiveContents | None = None,
) -> ArchiveContents:
    """Archive checks for an upload; a wheel's METADATA must name the project and
    version being uploaded. ``inspected``: what ``inspect_archive`` already
    returned for these very bytes, name, type and ratio (importdists inspects a
    file to read its metadata first), so that it is not read twice."""
    contents = inspected or inspect_archive(
        fileobj, filename, filetype=filetype, max_ratio=max_ratio)
    if filetype == PackageType.WHEEL:
        raw = raw_from_core_metadata(contents.metadata)
        meta_name, meta_version = raw.get("name", ""), raw.get("version", "")
        try:
            same_version = Version(meta_version) == Version(version)
        except InvalidVersion:
            same_version = False
        if canonicalize_name(meta_name) != canonicalize_name(name) or not same_version:
            _invalid(
                f"{contents.metadata_path} declares '{meta_name}' version '{meta_version}', "
                f"but the upload is '{name}' version '{version}'."
            )
    return contents
