"""Plugins found by entry point (as OCRmyPDF finds its plugins): a new OCR engine is a module and
one line in ``pyproject.toml``::

    [project.entry-points."woa.ocr_engines"]
    myengine = "mypackage.myengine:MyEngine"

This module only lists and resolves the entry points; the layer that owns a plugin kind loads
them (``pipeline.ocr.get_engine``). The names drive the settings' allowed values and the CLI's
choices, so they are written nowhere else. The entry points are package metadata: after editing
``pyproject.toml``, ``make setup`` re-installs and exposes them.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points, version

OCR_ENGINES = "woa.ocr_engines"


class PluginError(LookupError):
    pass


@lru_cache(maxsize=8)
def _group(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=group)}


def plugin_names(group: str) -> tuple[str, ...]:
    """Registered names of ``group``, sorted."""
    return tuple(sorted(_group(group)))


def plugin(group: str, name: str) -> EntryPoint:
    """The entry point ``name`` of ``group``; ``PluginError`` with the choices if there is none."""
    found = _group(group)
    if name in found:
        return found[name]
    if not found:
        raise PluginError(f"no {group} entry points are installed: run `make setup` (pip install -e .)")
    raise PluginError(f"unknown {group.rsplit('.', 1)[-1].rstrip('s').replace('_', ' ')} {name!r} "
                      f"(choose from {', '.join(sorted(found))})")


def ocr_engine_names() -> tuple[str, ...]:
    return plugin_names(OCR_ENGINES)


def package_version(distribution: str) -> str:
    """The installed version of ``distribution`` (an engine records it in every sidecar)."""
    return version(distribution)
