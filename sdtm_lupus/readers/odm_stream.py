"""Byte-level helpers of the ODM reader: the encoding policy and true source lines.

- `utf8_chunks` checks the document's encoding against its bytes and yields the document as
  UTF-8 (transcoded, with the declaration rewritten, when it is in another encoding). The
  policy: the bytes must decode strictly in the declared encoding (UTF-8 when none is
  declared); a byte-order mark must agree with the declaration; a document that declares a
  legacy encoding (ISO-8859-x, windows-125x, GB18030, ...) but is valid UTF-8 holding
  non-ASCII bytes is refused as mismatched (read as declared it would turn into mojibake).
- `StartTagLines` counts lines itself on the bytes fed to the parser and gives the line of
  each start tag, in document order (libxml2 line numbers are not trusted beyond 65 535).
"""

from __future__ import annotations

import codecs
import re
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

from sdtm_lupus.findings import Finding, InputError

CHUNK = 1 << 20
_DECLARATION = re.compile(r"<\?xml\s[^>]*?encoding\s*=\s*([\"'])([^\"']*)\1")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_NO_BOM = ((b"<\x00\x00\x00", "utf-32-le"), (b"\x00\x00\x00<", "utf-32-be"),
           (b"<\x00?\x00", "utf-16-le"), (b"\x00<\x00?", "utf-16-be"))
_UNICODE = {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}
_LEGACY = re.compile(r"ascii|iso8859-\d+|cp125\d|gb18030|gbk|gb2312|big5")
_NON_ASCII = re.compile(rb"[\x80-\xff]")


def _family(codec: str) -> str:
    return codec[:6] if codec.startswith(("utf-16", "utf-32")) else "ascii"


def utf8_chunks(path: Path, finding: Callable[..., Finding]) -> Iterator[bytes]:
    """The document as UTF-8 bytes, chunk by chunk; InputError (READ-ODM-ENCODING) on any
    encoding problem, with the line and byte offset where it shows."""
    def refuse(message: str, offset: int | None = None, line: int | None = None) -> InputError:
        where = f" (line {line}, byte offset {offset})" if offset is not None else ""
        return InputError(finding("READ-ODM-ENCODING", message + where, row=line))

    with Path(path).open("rb") as fh:
        head = fh.read(CHUNK)
        bom, codec = next(((b, c) for b, c in _BOMS if head.startswith(b)), (b"", None))
        if codec is None:
            codec = next((c for sig, c in _NO_BOM if head.startswith(sig)), "utf-8")
        family = _family(codec)
        prolog = head[len(bom):4096]
        view = {codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be", codecs.BOM_UTF32_LE: "utf-32-le",
                codecs.BOM_UTF32_BE: "utf-32-be"}.get(bom, codec if family != "ascii" else "latin-1")
        prolog = prolog[: len(prolog) // 4 * 4].decode(view, errors="replace")
        match = _DECLARATION.match(prolog.lstrip("\ufeff"))
        declared = match.group(2) if match else None
        if declared is not None:
            try:
                name = codecs.lookup(declared).name
            except LookupError:
                name = ""
            if name not in _UNICODE and not _LEGACY.fullmatch(name):
                raise refuse(f"the document declares encoding {declared!r}, which is not supported "
                             "(ODM exports are UTF-8; UTF-16, ISO-8859-x, windows-125x and GB18030 are read)")
            if _family(name) != family or (bom == codecs.BOM_UTF8 and name != "utf-8"):
                shown = f"a {codec.upper()} byte-order mark" if bom else f"{codec.upper()} bytes"
                raise refuse(f"the document declares encoding {declared!r} but starts with {shown}: "
                             "the declaration contradicts the bytes", offset=0, line=1)
            if family == "ascii":
                codec = name
        legacy = codec not in _UNICODE
        decoder = codecs.getincrementaldecoder(codec)("strict")
        utf8 = codecs.getincrementaldecoder("utf-8")("strict") if legacy else None
        first_non_ascii: tuple[int, int] | None = None   # (byte offset, line)
        offset, lines, chunk, first = 0, 0, head, True
        while True:
            following = fh.read(CHUNK) if chunk else b""
            final = not following  # decode the last chunk as final before the parser sees it
            try:
                text = decoder.decode(chunk, final)
            except UnicodeDecodeError as exc:
                pending = len(decoder.getstate()[0])
                at = offset - pending + exc.start
                line = lines + 1 + (chunk.count(b"\n", 0, max(0, at - offset)))
                bad = (decoder.getstate()[0] + chunk)[exc.start: exc.start + 1]
                at_end = final and exc.end >= len(decoder.getstate()[0] + chunk) and exc.reason.startswith("unexpected end")
                raise refuse(f"not valid {declared or 'UTF-8 (no encoding declared)'}: "
                             + ("incomplete character at the end of the file" if at_end or not bad
                                else f"undecodable byte 0x{bad[0]:02x}"),
                             offset=at, line=line) from None
            if legacy:
                if first_non_ascii is None and (hit := _NON_ASCII.search(chunk)):
                    first_non_ascii = (offset + hit.start(), lines + 1 + chunk.count(b"\n", 0, hit.start()))
                if utf8 is not None:
                    try:
                        utf8.decode(chunk, final)
                    except UnicodeDecodeError:
                        utf8 = None  # not UTF-8: the declared legacy encoding is plausible
                if final and utf8 is not None and first_non_ascii is not None:
                    at, line = first_non_ascii
                    raise refuse(f"the document declares encoding {declared!r} but its bytes are UTF-8: "
                                 f"read as {declared} the non-ASCII text would be garbled; fix the declaration "
                                 "or export in the declared encoding", offset=at, line=line)
            if not chunk:
                return
            if codec == "utf-8":
                yield chunk
            else:
                if first:
                    text = text.lstrip("\ufeff")
                    if m := _DECLARATION.match(text):
                        text = text[: m.start(2)] + "UTF-8" + text[m.end(2):]
                yield text.encode("utf-8")
            first = False
            offset += len(chunk)
            lines += chunk.count(b"\n") if family == "ascii" else text.count("\n")
            chunk = following


# One '<' of the document: complete comment/CDATA/PI (skipped), start tag, end tag, an
# unfinished comment/CDATA/PI (its end is in later bytes), too few bytes to tell, other markup.
_MARKUP = re.compile(
    rb"<(?:!--.*?-->|!\[CDATA\[.*?\]\]>|\?.*?\?>"
    rb"|(?P<tag>[^!?/])"
    rb"|/"
    rb"|(?P<open>!--|!\[CDATA\[|\?)"
    rb"|(?P<short>(?:!(?:-|\[(?:C(?:D(?:A(?:T(?:A)?)?)?)?)?)?)?\Z)"
    rb"|!)", re.S)
_END = {b"<!--": b"-->", b"<![CDATA[": b"]]>", b"<?": b"?>"}


class StartTagLines:
    """Source line of every start tag, in document order, from the bytes fed (line 1 first).

    Outside comments, CDATA sections and processing instructions every '<' opens markup
    (it cannot occur in text or attribute values), so '<' + name is a start tag.
    """

    def __init__(self) -> None:
        self.lines: deque[int] = deque()
        self.last = 0           # line of the last start tag found
        self._line = 1          # line at the start of _rest
        self._rest = b""        # bytes not yet consumed (an undecidable '<...' at the end)
        self._until = b""       # end of the comment/CDATA/PI being skipped

    def feed(self, data: bytes) -> None:
        buf = self._rest + data
        pos = 0
        if self._until:
            end = buf.find(self._until)
            if end < 0:
                self._consume(buf, max(0, len(buf) - len(self._until) + 1))
                return
            pos = end + len(self._until)
            self._until = b""
        line, last, append, count, found = self._line, 0, self.lines.append, buf.count, len(self.lines)
        cut = len(buf)
        for m in _MARKUP.finditer(buf, pos):
            kind = m.lastgroup
            if kind == "tag":
                start = m.start()
                line += count(b"\n", last, start)
                last = start
                append(line)
            elif kind == "open":
                self._until = _END[m.group(0)]
                cut = max(m.end(), len(buf) - len(self._until) + 1)
                break
            elif kind == "short":
                cut = m.start()
                break
        if len(self.lines) > found:
            self.last = line
        self._consume(buf, cut)

    def _consume(self, buf: bytes, cut: int) -> None:
        self._line += buf.count(b"\n", 0, cut)
        self._rest = buf[cut:]
