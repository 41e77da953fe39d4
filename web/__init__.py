"""The web application (Django): search, vehicle history, documents, review, upload, statistics.

It reads the archive on disk and the search index (the truth); users, stores, roles, sessions and
the audit trail live in its database. Start it with ``woa serve``; CLI commands that need the
database call ``web.bootstrap.setup(settings)`` first.
"""
