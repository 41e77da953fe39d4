"""Batch digitisation of legacy archives: a local process pool, and Celery/Redis scale-out.

``woa batch`` walks folders of scans (``batch.walk``), archives them in parallel
(``batch.local`` or ``batch.distributed`` with tasks in ``batch.tasks``), writes the index
through a single writer (``batch.indexing``) and a run report (``batch.report``).
"""
