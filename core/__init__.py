"""Base layer: typed records, settings, archive layout, atomic writes, errors, identifier rules.

Imports nothing from the layers above it (pipeline, extractors, index, app, services, interfaces).
"""
