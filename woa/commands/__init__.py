"""The ``woa`` command groups, one module each."""
