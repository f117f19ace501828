"""PyPI's ``json-with-newline`` output as a DRF renderer (the bytes are
packages.http.pypi_json's; ETags are taken over them)."""

from rest_framework.renderers import BaseRenderer

from packages.http.pypi_json import render_json


class PyPIJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    # PyPI sends a bare ``application/json`` (no charset parameter); JSON is UTF-8.
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return render_json(data)
