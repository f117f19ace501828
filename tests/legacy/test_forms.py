"""legacy.forms.UploadForm: twine's form read into typed values, one refusal at a
time in the order PyPI answers them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from legacy.forms import UploadForm, fields_from_metadata
from packages.uploads.metadata import raw_from_core_metadata
from tests.dists import core_metadata, make_sdist, make_wheel
from tests.legacy.upload_forms import twine_fields


def bind(*, files=None, query=None, **overrides) -> UploadForm:
    filename, content, metadata = make_wheel("hello", "1.0")
    data = MultiValueDict()
    for key, value in twine_fields(filename, content, metadata, **overrides):
        data.appendlist(key, value)
    return UploadForm(data, MultiValueDict(files or {}), query=query)


def refusal(**kwargs) -> tuple[int, str]:
    form = bind(**kwargs)
    assert not form.is_valid()
    return form.refusal()


def test_hands_typed_values_to_the_domain():
    form = bind(
        classifiers=["Private :: Do Not Upload", "Typing :: Typed"],
        keywords="web, , api",
        project_urls=["Home, https://example.com", "Docs,https://example.com/docs"],
        md5_digest="D41D8CD98F00B204E9800998ECF8427E",
        author="UNKNOWN",
        summary="nul\x00here",
        comment="  signed by CI  ",
    )

    assert form.is_valid(), form.refusal()
    request = form.upload_request()
    assert (request.filetype, request.pyversion) == ("bdist_wheel", "py3")
    assert request.md5_digest == "d41d8cd98f00b204e9800998ecf8427e"
    assert request.comment == "signed by CI" and request.attestations is None
    assert request.metadata["classifiers"] == ["Private :: Do Not Upload", "Typing :: Typed"]
    assert request.metadata["keywords"] == ["web", "api"]
    assert request.metadata["project_urls"] == [
        ("Home", "https://example.com"), ("Docs", "https://example.com/docs")]
    assert request.metadata["summary"] == "nul\\x00here"
    assert "author" not in request.metadata


def test_an_sdist_without_python_version_is_source():
    filename, content = make_sdist("hello", "1.0")
    data = MultiValueDict()
    for key, value in twine_fields(filename, content, core_metadata("hello", "1.0"),
                                   pyversion=""):
        data.appendlist(key, value)

    form = UploadForm(data)

    assert form.is_valid() and form.upload_request().pyversion == "source"


def test_metadata_from_a_file_survives_the_form_unchanged():
    raw = raw_from_core_metadata(core_metadata("hello", "1.0", extra=[
        ("Classifier", "Typing :: Typed"), ("Project-URL", "Home, https://example.com"),
        ("Keywords", "a,b")]).encode())

    form = UploadForm(MultiValueDict({
        ":action": ["file_upload"], "filetype": ["sdist"], "sha256_digest": ["0" * 64],
        **fields_from_metadata(raw)}))

    assert form.is_valid(), form.refusal()
    assert form.upload_request().metadata == {
        **raw, "project_urls": list(raw["project_urls"].items())}


def test_missing_file_is_left_to_the_domain_which_answers_after_the_metadata():
    form = bind()

    assert form.is_valid() and form.cleaned_data["content"] is None


@pytest.mark.parametrize(("overrides", "answer"), [
    # The action before anything else, then file parts, then the fields in order.
    ({":action": "submit", "filetype": "egg"}, (410, "Project pre-registration is no longer "
     "required or supported, upload your files instead.")),
    ({"filetype": "egg", "summary": ["one", "two"]},
     (400, "Invalid value for filetype. Error: Use a known file type.")),
    # Every digest is read once before any is checked for its format.
    ({"md5_digest": "not hex", "sha256_digest": ["a" * 64, "b" * 64]},
     (400, "'sha256_digest' has invalid data.")),
    ({"md5_digest": "not hex", "attestations": "{}"},
     (400, "Invalid value for md5_digest. Error: Use a valid, hex-encoded, MD5 message "
      "digest.")),
    ({"sha256_digest": None, "blake2_256_digest": None, "summary": ["one", "two"]},
     (400, "Error: Include at least one message digest.")),
    ({"protocol_version": "2"}, (400, "Unknown protocol version.")),
])
def test_answers_the_first_problem_in_pypis_order(overrides, answer):
    assert refusal(**overrides) == answer


def test_a_field_sent_as_a_file_is_refused_before_its_absence_is_noticed():
    answer = refusal(filetype=None, files={"filetype": [SimpleUploadedFile("x", b"sdist")]})

    assert answer == (400, "filetype: Should not be a tuple.")


def test_the_query_string_action_is_read_first():
    answer = refusal(query=QueryDict(":action=remove_pkg"))

    assert answer[0] == 400 and answer[1].startswith("Unknown :action 'remove_pkg'")
