"""The HTTP layer every read API uses (simple, JSON, feeds, files, XML-RPC).

One module per concern: ``hot_path`` (the URLconf's resolution, and the views
answered before the session/CSRF/auth/messages middleware), ``conditional``
(ETags and 304), ``cache_policy`` (Cache-Control and Surrogate-* values, one
table), ``cors``, ``errors`` (the one error answer, message in the reason
phrase), ``shared_cache`` (the cache-tolerant get/set, generations, this
process's LRU of bodies) and ``pypi_json`` (PyPI's byte-stable JSON). The API
apps never import each other, so what they share lives here."""
