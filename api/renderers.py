"""PyPI's ``json-with-newline`` output: compact, keys sorted at every depth, raw
UTF-8 (no ``\\uXXXX`` escapes), no NaN, and a final newline. ETags are taken
over these exact bytes, so the encoding must stay byte-stable."""

import json

from rest_framework.renderers import BaseRenderer


def render_pypi_json(data) -> bytes:
    text = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return (text + "\n").encode("utf-8")


class PyPIJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    # PyPI sends a bare ``application/json`` (no charset parameter); JSON is UTF-8.
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return render_pypi_json(data)
