"""Caching: the surrogate keys a change dirties, purges after commit, the CDN."""
