"""Whoosh's W3 codec with field lengths read once per column instead of once per posting.

Writing a segment looks up the length of the field in the document for every posting (for the
block statistics BM25F uses); Whoosh does that through a column reader, one Python call chain per
posting, which was a fifth of the indexing time. This reader loads a length column into a list on
first use. The on-disk format is Whoosh's own: only the codec object named in the TOC differs.
"""

from __future__ import annotations

from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3PerDocReader, _lenfield
from whoosh.util.numeric import byte_to_length

_LENGTHS = [byte_to_length(b) for b in range(256)]


class CachedLengthsReader(W3PerDocReader):
    def doc_field_length(self, docnum: int, fieldname: str, default: Any = 0) -> Any:
        cache: dict[str, list[int] | None] = self.__dict__.setdefault("_woa_lengths", {})
        if fieldname not in cache:
            reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            cache[fieldname] = None if reader is None else list(reader.load())
        lbytes = cache[fieldname]
        if lbytes is None:
            return default
        if docnum > self._doccount:
            raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
        lbyte = lbytes[docnum] if docnum < len(lbytes) else 0
        return _LENGTHS[lbyte] if lbyte else None  # as Whoosh: None for a zero length byte


class WoaCodec(W3Codec):
    def per_document_reader(self, storage: Any, segment: Any) -> CachedLengthsReader:
        return CachedLengthsReader(storage, segment)
