"""The document pages: search, vehicle, document, review queue, upload, statistics."""
