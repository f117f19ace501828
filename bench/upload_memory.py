"""Memory of the server while it receives a 1 GB upload (target: growth < 64 MB).

    .venv/bin/python bench/upload_memory.py [--size-mb 1024]

In a scratch data folder (SQLite, local storage; removed at the end) it

1. generates a valid wheel of the given size (one STORED member of generated
   bytes, written in chunks: the generator never holds it in memory either);
2. starts gunicorn (one sync worker) on loopback, with the file size limits
   raised above the size;
3. warms the worker with a small upload, reads its resident memory, then
   uploads the big wheel with ``twine upload`` (streaming multipart, as users do);
4. reads the worker's peak resident memory (VmHWM from /proc) and prints the
   growth over the warm baseline, the upload time and throughput, and whether
   the file was stored intact (its sha256 recorded by the server is compared).
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from common import BIN, free_port, manage, server_env, start_gunicorn, stop_gunicorn

MIB = 1024 * 1024


def write_wheel(path: Path, name: str, version: str, payload_bytes: int) -> str:
    """A wheel with one big STORED member of generated (not all-zero) bytes;
    returns its sha256."""
    dist = f"{name}-{version}.dist-info"
    block = hashlib.sha256(b"seed").digest() * (MIB // 32)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.writestr(f"{name}/__init__.py", "")
        with archive.open(f"{name}/payload.bin", "w", force_zip64=True) as member:
            written = 0
            while written < payload_bytes:
                chunk = block[: min(len(block), payload_bytes - written)]
                member.write(chunk)
                written += len(chunk)
        archive.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\n"
                                              f"Version: {version}\nSummary: bench\n")
        archive.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
                                          "Tag: py3-none-any\n")
        archive.writestr(f"{dist}/RECORD", "")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


def proc_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def worker_pid(master: int) -> int:
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn worker did not start")


def twine_upload(url: str, token: str, path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TWINE_USERNAME": "__token__", "TWINE_PASSWORD": token,
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    return subprocess.run(
        [str(BIN / "twine"), "upload", "--repository-url", f"{url}/legacy/",
         "--non-interactive", "--disable-progress-bar", str(path)],
        env=env, capture_output=True, text=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parser.parse_args()
    size = args.size_mb * MIB

    scratch = Path(tempfile.mkdtemp(prefix="indexsite-upload-bench-"))
    env = server_env(
        data_dir=scratch / "data",
        FILE_UPLOAD_TEMP_DIR=str(scratch),
        INDEX_MAX_FILE_SIZE=str(size + 64 * MIB),
        INDEX_MAX_PROJECT_SIZE=str(4 * size + 64 * MIB),
    )
    server = None
    try:
        (scratch / "data").mkdir()
        manage(env, "migrate", "-v0")
        token = manage(
            env, "shell", "-c",
            "from django.contrib.auth import get_user_model\n"
            "from packages.curation.tokens import create_token\n"
            "user = get_user_model().objects.create_user('bench', password='x')\n"
            "print(create_token(user)[1])",
            capture_output=True, text=True,
        ).stdout.strip().splitlines()[-1]

        print(f"generating a {args.size_mb} MB wheel...", flush=True)
        small = scratch / "bench_upload-0.1-py3-none-any.whl"
        write_wheel(small, "bench_upload", "0.1", 1024)
        big = scratch / "bench_upload-1.0-py3-none-any.whl"
        sha256 = write_wheel(big, "bench_upload", "1.0", size)
        actual_size = big.stat().st_size

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_gunicorn(port, env, "-w", "1", "--timeout", "900",
                                ready_path="/legacy/")
        worker = worker_pid(server.pid)

        warm = twine_upload(url, token, small)
        assert warm.returncode == 0, warm.stdout + warm.stderr
        baseline = proc_kib(worker, "VmRSS")
        started = time.monotonic()
        result = twine_upload(url, token, big)
        elapsed = time.monotonic() - started
        assert result.returncode == 0, result.stdout + result.stderr
        peak = proc_kib(worker, "VmHWM")

        stored = manage(
            env, "shell", "-c",
            "from packages.models import File\n"
            "f = File.objects.get(filename='bench_upload-1.0-py3-none-any.whl')\n"
            "print(f.sha256_digest, f.size)",
            capture_output=True, text=True,
        ).stdout.split()[-2:]
        growth_mb = (peak - baseline) / 1024
        print(f"upload: {actual_size / MIB:.0f} MiB in {elapsed:.1f} s "
              f"({actual_size / MIB / elapsed:.0f} MiB/s, twine hashing included)")
        print(f"server worker RSS: baseline {baseline / 1024:.1f} MiB, peak {peak / 1024:.1f} "
              f"MiB, growth {growth_mb:.1f} MiB (target < 64)")
        print(f"stored intact: {stored == [sha256, str(actual_size)]}")
        sys.exit(0 if growth_mb < 64 and stored == [sha256, str(actual_size)] else 1)
    finally:
        if server is not None:
            stop_gunicorn(server)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
