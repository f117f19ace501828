"""The XML-RPC API app.

This top-level package shadows the standard library's ``xmlrpc`` package, which
XML-RPC code (ours included) and libraries import as ``xmlrpc.client`` and
``xmlrpc.server``. Extending ``__path__`` with the standard library's folder
makes those submodules resolve to the real stdlib modules; this package must
therefore never hold a ``client.py`` or ``server.py`` of its own."""

import os
import sysconfig

_STDLIB_XMLRPC = os.path.join(sysconfig.get_paths()["stdlib"], "xmlrpc")
if _STDLIB_XMLRPC not in __path__:
    __path__.append(_STDLIB_XMLRPC)
