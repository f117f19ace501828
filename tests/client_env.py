"""The environment real clients (pip, uv, twine) run in during tests: the
project's own executables, and nothing from the machine's configuration,
credentials or caches."""

import os
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
# Downloads worth keeping between runs (twine 6.1's virtualenv, uv's cache).
CACHE = Path(os.environ.get("INDEXSITE_TEST_CACHE", Path.home() / ".cache" / "indexsite-tests"))

_ISOLATED = {
    "HOME": "/nonexistent",
    "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    "PIP_CONFIG_FILE": os.devnull,
    "PIP_NO_CACHE_DIR": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_INPUT": "1",
    "UV_NO_CONFIG": "1",
    "UV_NO_CACHE": "1",
    "UV_KEYRING_PROVIDER": "disabled",
    "NO_COLOR": "1",
    "TERM": "dumb",
}


def client_env(**changes: str | None) -> dict[str, str]:
    """The isolated environment, with ``changes`` applied (None removes a variable)."""
    env = {"PATH": os.environ.get("PATH", ""), **_ISOLATED}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env
