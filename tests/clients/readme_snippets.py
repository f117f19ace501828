"""The README's client snippets, as the tests run them.

A snippet is a fenced block right after a ``<!-- readme-test: NAME -->`` line
(invisible once rendered). The README writes ``https://index.example`` for the
index's origin and ``<token>`` for a token in configuration files; shell
snippets read ``$TOKEN`` from the environment the test gives them."""

import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

README = Path(__file__).resolve().parents[2] / "README.md"

_MARKED = re.compile(
    r"^<!-- readme-test: (?P<name>[\w-]+) -->\n```[\w-]*\n(?P<body>.*?)^```$", re.M | re.S
)
# The placeholder origin, with or without credentials before the host.
_ORIGIN = re.compile(r"https?://(?P<userinfo>[^/@\s\"]*@)?index\.example")


def readme_snippets() -> dict[str, str]:
    snippets: dict[str, str] = {}
    for match in _MARKED.finditer(README.read_text()):
        if match["name"] in snippets:
            raise ValueError(f"README marks two snippets {match['name']!r}")
        snippets[match["name"]] = match["body"]
    return snippets


def snippet(name: str, *, origin: str, token: str = "") -> str:
    """The README's snippet ``name`` pointing at ``origin`` (``http://host:port``)."""
    text = readme_snippets()[name]
    scheme, netloc = origin.split("://", 1)
    text = _ORIGIN.sub(lambda m: f"{scheme}://{m['userinfo'] or ''}{netloc}", text)
    # What is left names the host alone (.netrc's machine).
    text = text.replace("index.example", urlsplit(origin).hostname)
    return text.replace("<token>", token)


def run_shell(script: str, *, cwd: Path, env: dict[str, str], stdin: str | None = None,
              timeout: float = 240) -> subprocess.CompletedProcess:
    """Run a shell snippet as a person pastes it: each command must succeed."""
    result = subprocess.run(
        ["bash", "-e", "-x", "-c", script], cwd=cwd, env=env, input=stdin,
        capture_output=True, text=True, timeout=timeout,
        # No controlling terminal: prompts (keyring's) read standard input.
        start_new_session=True,
    )
    # What the tools said (bash -x marks each command with "+"), shown by pytest
    # for a failure, or with -rP.
    print(result.stdout + result.stderr)
    return result
