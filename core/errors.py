"""Errors with a one-line, user-facing reason."""


class InputError(Exception):
    """The input file cannot be archived (corrupt, encrypted, too large, not a scan...)."""


class TransientError(Exception):
    """A failure worth retrying later (file locked, disk full)."""


class SidecarError(ValueError):
    """A sidecar that does not parse or does not have the shape of a ``Document`` (one-line reason)."""
