"""The REST API under ``/api/`` (Django REST framework): search, documents, fields, corrections,
files, vehicle history, review queue, upload and statistics, for a DMS or a script.

Token (``Authorization: Token …``, from ``POST /api/token/``) or session authentication; the same
roles and the same store scoping as the pages — every document, hit, history and count comes
through ``web.documents.scope``, so a document of another store is a 404 here exactly as there.
OpenAPI 3 schema at ``/api/schema/``.
"""
