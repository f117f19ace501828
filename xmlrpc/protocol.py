"""XML-RPC on the wire: parsing requests safely, writing responses and Faults.

Requests are parsed by the standard library's unmarshaller fed by defusedxml's
expat parser, which refuses DTDs, entity declarations and external references
(billion laughs, XXE). Array/struct nesting is bounded as well, so a deeply
nested request costs nothing before it is refused. The fault codes and strings
are pyramid_rpc's, which PyPI answers with (spec xmlrpc-api.md §2)."""

import re
import xmlrpc.client

from defusedxml.common import DefusedXmlException
from defusedxml.xmlrpc import DefusedExpatParser

# No XML-RPC call PyPI serves takes more than two levels; leave room for structs
# inside multicall, refuse anything deeper before it is built.
MAX_NESTING = 32

Fault = xmlrpc.client.Fault


def parse_error() -> Fault:
    return Fault(-32700, "parse error; not well formed")


def method_not_found() -> Fault:
    return Fault(-32601, "server error; requested method not found")


def application_error() -> Fault:
    return Fault(-32500, "application error")

CONTENT_TYPE = "text/xml; charset=UTF-8"


class ParseError(Exception):
    """The body is not a well-formed, acceptable XML-RPC methodCall."""


def invalid_params(errors: list[tuple[str, str]]) -> xmlrpc.client.Fault:
    """-32602 with pydantic-style "<param>: <message>" parts, as PyPI words them."""
    detail = "; ".join(f"{where}: {message}" for where, message in errors)
    return xmlrpc.client.Fault(-32602, f"client error; {detail}")


def wrapped_error(exc_class: str, message: str) -> xmlrpc.client.Fault:
    """PyPI's own errors: -32500 "<exception class name>: <text>"."""
    return xmlrpc.client.Fault(-32500, f"{exc_class}: {message}")


class _BoundedUnmarshaller(xmlrpc.client.Unmarshaller):
    def __init__(self):
        super().__init__(use_datetime=False, use_builtin_types=False)
        self._depth = 0

    def start(self, tag, attrs):
        if tag.rsplit(":", 1)[-1] in ("array", "struct"):
            self._depth += 1
            if self._depth > MAX_NESTING:
                raise ParseError("nesting too deep")
        return super().start(tag, attrs)

    def end(self, tag):
        if tag.rsplit(":", 1)[-1] in ("array", "struct"):
            self._depth -= 1
        return super().end(tag)


def parse_call(body: bytes) -> tuple[str | None, tuple]:
    """(method name, params) of a methodCall; ParseError for anything else."""
    target = _BoundedUnmarshaller()
    parser = DefusedExpatParser(target, forbid_dtd=True)
    try:
        parser.feed(body)
        parser.close()
        params = target.close()
    except (ParseError, DefusedXmlException) as exc:
        raise ParseError(str(exc)) from None
    except Exception as exc:  # expat errors, ResponseError, bad <int> text, a <fault>...
        raise ParseError(f"{type(exc).__name__}: {exc}") from None
    name = target.getmethodname()
    return name, params


# Characters XML 1.0 cannot carry at all; the standard marshaller writes them raw,
# which makes the whole answer unreadable to every client.
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Marshalled(str):
    """A value already marshalled (its ``<value>`` element, as ``marshal_value``
    wrote it): written as is wherever it appears, a whole result or one member
    of a multicall's. A large cached result is kept like this, because
    marshalling 700,000 projects takes longer than reading them from the cache."""

    __slots__ = ()


class _Marshaller(xmlrpc.client.Marshaller):
    """The standard marshaller, except that integers beyond 32 bits are sent as
    <i8> (which xmlrpc.client reads) instead of failing: sizes of large files;
    and characters XML cannot carry are dropped from strings."""

    dispatch = dict(xmlrpc.client.Marshaller.dispatch)

    def dump_int(self, value, write):
        if xmlrpc.client.MININT <= value <= xmlrpc.client.MAXINT:
            write(f"<value><int>{value}</int></value>\n")
        else:
            write(f"<value><i8>{value}</i8></value>\n")

    dispatch[int] = dump_int

    def dump_unicode(self, value, write, escape=xmlrpc.client.escape):
        write("<value><string>")
        write(escape(_NOT_XML_CHARS.sub("", value)))
        write("</string></value>\n")

    dispatch[str] = dump_unicode

    def dump_marshalled(self, value, write):
        write(value)

    dispatch[Marshalled] = dump_marshalled


def marshal_value(value) -> Marshalled:
    """``value``'s ``<value>`` element, byte for byte what render_result writes for it."""
    params = _Marshaller("utf-8", allow_none=True).dumps((value,))
    return Marshalled(params[len(_PARAMS_HEAD):-len(_PARAMS_TAIL)])


def render_result(value) -> bytes:
    return _render(_Marshaller("utf-8", allow_none=True).dumps((value,)))


def render_fault(fault: xmlrpc.client.Fault) -> bytes:
    return _render(_Marshaller("utf-8", allow_none=True).dumps(fault))


# What Marshaller.dumps writes around the one value of a response.
_PARAMS_HEAD = "<params>\n<param>\n"
_PARAMS_TAIL = "</param>\n</params>\n"


def _render(data: str) -> bytes:
    return ("<?xml version='1.0'?>\n<methodResponse>\n" + data + "</methodResponse>\n").encode()


# XML 1.0 forbids these even as character references; ASCII after the encoding below.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_for_xml(text):
    """PyPI's sanitising of user-submitted text: non-ASCII characters become the
    literal text ``&#NNNN;`` and characters XML cannot carry are dropped.
    None and "" are returned unchanged."""
    if not text:
        return text
    text = text.encode("ascii", "xmlcharrefreplace").decode("ascii")
    return _ILLEGAL_XML.sub("", text)
