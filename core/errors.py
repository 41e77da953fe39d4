"""Errors with a one-line, user-facing reason."""

import errno


class InputError(Exception):
    """The input file cannot be archived (corrupt, encrypted, too large, not a scan...)."""


class TransientError(Exception):
    """A failure worth retrying later (file locked, disk full)."""


# errno values of an OSError worth retrying later: full or quota-limited disk, a file locked,
# busy or not yet readable (a scanner still writing it), a flaky network share
TRANSIENT_ERRNOS: frozenset[int] = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EAGAIN,
        errno.EBUSY,
        errno.EACCES,
        errno.EIO,
        errno.ETXTBSY,
        errno.ENOLCK,
    }
)


class SidecarError(ValueError):
    """A sidecar that does not parse or does not have the shape of a ``Document`` (one-line reason)."""
