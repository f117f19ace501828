"""Every client snippet of the README, run as written with the real tool
(twine, flit, poetry, pdm, hatch, uv, pip, keyring, bandersnatch) against a live
server, so the README cannot drift from what works.

The tools never reach the internet: the index is the live server; where a tool
would fall back to PyPI, the environment names an address where nothing
listens, so a snippet that leaks a request to "PyPI" fails at once. Build
backends that an isolated build installs (flit_core) are published to the live
index first, as the real index serves them through its upstream."""

import email
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from packages.curation.tokens import create_token
from packages.models import File
from tests.client_env import BIN, client_env
from tests.clients.installed_wheels import installed_wheel
from tests.clients.readme_snippets import readme_snippets, run_shell, snippet
from tests.dists import core_metadata, make_sdist, make_wheel
from tests.factories import add_file, create_project, create_release, create_user, publish

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

BANDERSNATCH = BIN / "bandersnatch"


def _nowhere() -> str:
    """A simple URL on a loopback port nothing listens on: "PyPI" for the tools."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/simple/"


NOWHERE = _nowhere()
NOWHERE_ORIGIN = NOWHERE.removesuffix("/simple/")


@pytest.fixture(autouse=True)
def _fresh_simple_pages():
    from packages.http.shared_cache import local_bodies

    local_bodies.clear()
    yield
    local_bodies.clear()


@pytest.fixture
def origin(live_server) -> str:
    # An IPv4 literal: "localhost" makes some clients try ::1 first.
    return live_server.url.replace("://localhost:", "://127.0.0.1:")


@pytest.fixture
def token(db) -> str:
    return create_token(create_user("alice"))[1]


@pytest.fixture
def home(tmp_path) -> Path:
    """The HOME of the tools: their configuration, caches and venvs live there."""
    path = tmp_path / "home"
    path.mkdir()
    return path


def tool_env(home: Path, token: str = "", **changes: str | None) -> dict[str, str]:
    return client_env(**{
        "HOME": str(home), "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin", "TOKEN": token,
        # uv reads [tool.uv] from pyproject.toml; isolation comes from HOME.
        "UV_NO_CONFIG": None, "UV_PYTHON_DOWNLOADS": "never", "UV_HTTP_RETRIES": "0",
        # (UV_INDEX_URL, not UV_DEFAULT_INDEX: uv lets the latter win over --index-url.)
        "PIP_INDEX_URL": NOWHERE, "UV_INDEX_URL": NOWHERE,
        "PDM_CHECK_UPDATE": "false", "POETRY_VIRTUALENVS_IN_PROJECT": "true",
        # Anything but the live server goes through a proxy that is not there: a
        # snippet that would ask the real PyPI (poetry's, pdm's defaults) fails.
        **{name: NOWHERE_ORIGIN for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                             "http_proxy", "https_proxy", "all_proxy")},
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        **changes,
    })


def venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path


def imported_version(python: Path, module: str) -> str:
    return subprocess.run(
        [str(python), "-c", f"import {module}; print({module}.VERSION)"],
        capture_output=True, text=True,
    ).stdout.strip()


def show(result: subprocess.CompletedProcess) -> str:
    """The output of a command run outside ``run_shell`` (which prints its own)."""
    output = result.stdout + result.stderr
    print(output)
    return output


def output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def publish_installed(*names: str) -> None:
    """Publish this venv's installed distributions (build backends) to the index."""
    for name in names:
        filename, content, metadata = installed_wheel(name)
        fields = email.message_from_string(metadata)
        requires_python = fields.get("Requires-Python", "")
        release = create_release(create_project(fields["Name"]), fields["Version"],
                                 requires_python=requires_python)
        add_file(release, filename, content, metadata=metadata, requires_python=requires_python)


def publish_demo_needing_demo_lib() -> None:
    """``demo`` 1.0, whose wheel requires ``demo-lib``, on the index."""
    publish("demo-lib", "1.0", sdist=False)
    metadata = core_metadata("demo", "1.0", extra=[("Requires-Dist", "demo-lib>=1.0")])
    filename, content, _ = make_wheel("demo", "1.0", metadata=metadata)
    add_file(create_release(create_project("demo"), "1.0"), filename, content, metadata=metadata)


def project(path: Path, name: str, backend: str, *, dependencies=(), extra: str = "") -> Path:
    """A tiny project built by ``backend`` (flit_core, hatchling, poetry-core)."""
    requires, api = {
        "flit_core": ("flit_core>=3.9", "flit_core.buildapi"),
        "hatchling": ("hatchling", "hatchling.build"),
        "poetry-core": ("poetry-core>=2.0", "poetry.core.masonry.api"),
    }[backend]
    module = name.replace("-", "_")
    path.mkdir()
    (path / module).mkdir()
    (path / module / "__init__.py").write_text(f'"""{name}."""\n\nVERSION = "1.0"\n')
    (path / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "1.0"\ndescription = "A test project"\n'
        f'requires-python = ">=3.11"\ndependencies = {list(dependencies)!r}\n\n'
        f'[build-system]\nrequires = ["{requires}"]\nbuild-backend = "{api}"\n\n{extra}'
    )
    return path


def uploaded(project_name: str) -> list[str]:
    return sorted(File.objects.filter(release__project__name=project_name)
                  .values_list("filename", flat=True))


def both_files(name: str) -> list[str]:
    stem = name.replace("-", "_")
    return [f"{stem}-1.0-py3-none-any.whl", f"{stem}-1.0.tar.gz"]


def test_the_readme_marks_every_client_snippet():
    # A marker lost in an edit would silently untest its snippet.
    assert set(readme_snippets()) == {
        "pip-uv-install", "url-credentials", "netrc", "netrc-install", "keyring",
        "pypirc", "pypirc-upload", "poetry", "pdm-source", "pdm", "hatch",
        "uv-index", "uv-project", "uv-explicit", "bandersnatch",
    }


def test_pip_and_uv_install(origin, home, tmp_path):
    publish("demo", "1.0")
    into_pip, into_uv = venv(tmp_path / "pip-venv"), venv(tmp_path / "uv-venv")
    env = tool_env(home, PIP_PYTHON=str(into_pip / "bin" / "python"),
                   VIRTUAL_ENV=str(into_uv))

    result = run_shell(snippet("pip-uv-install", origin=origin), cwd=tmp_path, env=env)

    assert result.returncode == 0, output(result)
    assert imported_version(into_pip / "bin" / "python", "demo") == "1.0"
    assert imported_version(into_uv / "bin" / "python", "demo") == "1.0"


@pytest.fixture
def private(settings, db) -> str:
    """INDEX_READ_AUTH=authenticated, ``demo`` published; a read-only token."""
    settings.INDEX_READ_AUTH = "authenticated"
    publish("demo", "1.0")
    return create_token(create_user("reader"), read_only=True)[1]


def private_env(home: Path, tmp_path: Path, token: str = "", **changes):
    into_pip, into_uv = venv(tmp_path / "pip-venv"), venv(tmp_path / "uv-venv")
    env = tool_env(home, token, PIP_PYTHON=str(into_pip / "bin" / "python"),
                   VIRTUAL_ENV=str(into_uv), **changes)
    return env, into_pip / "bin" / "python", into_uv / "bin" / "python"


def test_private_reads_with_credentials_in_the_url(origin, home, tmp_path, private):
    env, pip_python, _ = private_env(home, tmp_path, private)

    result = run_shell(snippet("url-credentials", origin=origin), cwd=tmp_path, env=env)

    assert result.returncode == 0, output(result)
    assert imported_version(pip_python, "demo") == "1.0"


def test_private_reads_with_netrc(origin, home, tmp_path, private):
    env, pip_python, uv_python = private_env(home, tmp_path)
    install = snippet("netrc-install", origin=origin)
    without = run_shell(install.replace("chmod 600 ~/.netrc\n", ""), cwd=tmp_path, env=env)
    assert without.returncode != 0  # pip: "No matching distribution found for demo"
    assert imported_version(pip_python, "demo") == ""

    (home / ".netrc").write_text(snippet("netrc", origin=origin, token=private))
    result = run_shell(install, cwd=tmp_path, env=env)

    assert result.returncode == 0, output(result)
    assert imported_version(pip_python, "demo") == "1.0"
    assert imported_version(uv_python, "demo") == "1.0"


def test_private_reads_with_a_keyring(origin, home, tmp_path, private):
    # keyrings.alt's plain file backend: a keyring that works without a desktop.
    env, pip_python, uv_python = private_env(
        home, tmp_path, PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        XDG_DATA_HOME=str(home / ".local" / "share"), UV_KEYRING_PROVIDER=None,
    )

    result = run_shell(snippet("keyring", origin=origin), cwd=tmp_path, env=env,
                       stdin=private + "\n")

    assert result.returncode == 0, output(result)
    assert imported_version(pip_python, "demo") == "1.0"
    assert imported_version(uv_python, "demo") == "1.0"
    # The token was nowhere else: the URL carries the username alone, no .netrc.
    assert (home / ".local" / "share" / "python_keyring" / "keyring_pass.cfg").is_file()
    assert not (home / ".netrc").exists()


def test_pypirc_uploads_with_twine_and_flit(origin, home, tmp_path, token):
    (home / ".pypirc").write_text(snippet("pypirc", origin=origin, token=token))
    work = project(tmp_path / "flit-demo", "flit-demo", "flit_core")
    (work / "dist").mkdir()
    for filename, content in (make_wheel("twine-demo", "1.0")[:2],
                              make_sdist("twine-demo", "1.0")):
        (work / "dist" / filename).write_bytes(content)

    result = run_shell(snippet("pypirc-upload", origin=origin), cwd=work,
                       env=tool_env(home))

    assert result.returncode == 0, output(result)
    assert uploaded("twine-demo") == both_files("twine-demo")
    assert uploaded("flit-demo") == both_files("flit-demo")


def test_poetry_installs_from_the_index_and_publishes(origin, home, tmp_path, token):
    publish_demo_needing_demo_lib()
    work = project(tmp_path / "poetry-demo", "poetry-demo", "poetry-core")

    result = run_shell(snippet("poetry", origin=origin), cwd=work, env=tool_env(home, token))

    assert result.returncode == 0, output(result)
    assert imported_version(work / ".venv" / "bin" / "python", "demo") == "1.0"
    assert imported_version(work / ".venv" / "bin" / "python", "demo_lib") == "1.0"
    assert uploaded("poetry-demo") == both_files("poetry-demo")


def test_pdm_installs_from_the_index_and_publishes(origin, home, tmp_path, token):
    publish_demo_needing_demo_lib()
    publish_installed("flit_core")
    work = project(tmp_path / "pdm-demo", "pdm-demo", "flit_core",
                   extra=snippet("pdm-source", origin=origin))

    result = run_shell(snippet("pdm", origin=origin), cwd=work, env=tool_env(home, token))

    assert result.returncode == 0, output(result)
    assert imported_version(work / ".venv" / "bin" / "python", "demo") == "1.0"
    assert imported_version(work / ".venv" / "bin" / "python", "demo_lib") == "1.0"
    assert uploaded("pdm-demo") == both_files("pdm-demo")


def test_hatch_environments_and_build_install_from_the_index_and_publish(origin, home,
                                                                         tmp_path, token):
    publish_demo_needing_demo_lib()
    # hatch build installs hatchling into its hatch-build environment.
    publish_installed("hatchling", "packaging", "pathspec", "pluggy", "trove-classifiers",
                      "tomlkit")
    # The test's own environment: the project itself is not installed (that would
    # need `editables` on the index too), its dependency is.
    work = project(tmp_path / "hatch-demo", "hatch-demo", "hatchling", extra=(
        '[tool.hatch.envs.default]\nskip-install = true\ndependencies = ["demo"]\n'
    ))
    env = tool_env(home, token)

    result = run_shell(snippet("hatch", origin=origin), cwd=work, env=env)

    assert result.returncode == 0, output(result)
    # The default environment, under HOME (hatch-build is in .internal).
    [python] = [path for path in (home / ".local" / "share" / "hatch" / "env" / "virtual")
                .glob("hatch-demo/*/hatch-demo/bin/python")]
    assert imported_version(python, "demo") == "1.0"
    assert imported_version(python, "demo_lib") == "1.0"
    assert uploaded("hatch-demo") == both_files("hatch-demo")


def test_uv_project_with_the_index_as_default(origin, home, tmp_path, token):
    publish_demo_needing_demo_lib()
    publish_installed("flit_core")
    work = project(tmp_path / "uv-demo", "uv-demo", "flit_core", dependencies=["demo"],
                   extra=snippet("uv-index", origin=origin))
    # The default index is the project's alone: none from the environment.
    env = tool_env(home, token, UV_INDEX_URL=None, UV_PYTHON=sys.executable)

    result = run_shell(snippet("uv-project", origin=origin), cwd=work, env=env)

    assert result.returncode == 0, output(result)
    # demo's own dependency came from the index too: it is the default.
    assert imported_version(work / ".venv" / "bin" / "python", "demo_lib") == "1.0"
    assert imported_version(work / ".venv" / "bin" / "python", "uv_demo") == "1.0"
    assert uploaded("uv-demo") == both_files("uv-demo")
    # A name the index lacks is not looked for on PyPI: the index is the default,
    # not merely the first of two.
    absent = subprocess.run([str(BIN / "uv"), "add", "--no-sync", "not-on-the-index"],
                            cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert absent.returncode != 0
    assert "not-on-the-index was not found in the package registry" in show(absent)
    assert "pypi.org" not in output(absent)


def test_uv_explicit_index_leaves_transitive_dependencies_to_the_default(origin, home,
                                                                          tmp_path):
    publish_demo_needing_demo_lib()
    work = project(tmp_path / "uv-explicit", "uv-explicit", "flit_core",
                   dependencies=["demo"], extra=snippet("uv-explicit", origin=origin))

    # The default index here is NOWHERE (standing for PyPI).
    result = subprocess.run([str(BIN / "uv"), "lock"], cwd=work,
                            env=tool_env(home, UV_PYTHON=sys.executable),
                            capture_output=True, text=True, timeout=120)

    said = show(result)
    assert result.returncode != 0
    # demo itself came from the explicit index; its dependency was asked of the default.
    assert f"Failed to fetch: {NOWHERE}demo-lib/" in said
    assert f"{NOWHERE}demo/" not in said


@pytest.fixture
def mirror_config(tmp_path, origin, settings):
    from xmlrpc import ratelimit

    # File URLs in the JSON API point at the origin clients see: the live server.
    settings.INDEX_BASE_URL = origin
    ratelimit.clear("127.0.0.1")
    text = snippet("bandersnatch", origin=origin).replace(
        "/srv/indexsite-mirror", str(tmp_path / "mirror"))
    # The README's [mirror] section, failing loudly and quickly in a test.
    yield text + "stop-on-error = true\ntimeout = 20\nglobal-timeout = 120\n"
    ratelimit.clear("127.0.0.1")


def test_bandersnatch_mirrors_over_http_with_allow_non_https(mirror_config, tmp_path):
    publish("demo", "1.0")
    config = tmp_path / "bandersnatch.conf"

    config.write_text(mirror_config.replace("allow-non-https = true\n", ""))
    refused = subprocess.run([str(BANDERSNATCH), "--config", str(config), "mirror"],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
    assert "is not https scheme" in show(refused)

    config.write_text(mirror_config)
    result = subprocess.run([str(BANDERSNATCH), "--config", str(config), "mirror"],
                            capture_output=True, text=True, timeout=120)

    said = show(result)
    assert result.returncode == 0, said
    files = sorted(p.name for p in (tmp_path / "mirror" / "web" / "packages").rglob("*")
                   if p.is_file())
    assert files == both_files("demo")
