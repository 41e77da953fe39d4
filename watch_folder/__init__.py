"""Watched-inbox service (``woa watch``, ``woa status``, ``woa verify``); see docs/watch.md."""
