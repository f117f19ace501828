"""PyPI's ``json-with-newline`` bodies: compact, keys sorted at every depth, raw
UTF-8 (no ``\\uXXXX`` escapes), no NaN, one final newline. ETags are taken over
these bytes, so the encoding must stay byte-stable."""

import json


def render_json(data) -> bytes:
    text = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return (text + "\n").encode("utf-8")
