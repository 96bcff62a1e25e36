"""Exceptions raised by vae_lab, so callers can tell them apart."""


class DataFileError(ValueError):
    """A data file is missing, unreadable, of the wrong layout or altered."""


class RunFolderError(ValueError):
    """A run folder is missing, incomplete or from another architecture."""


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss and was stopped."""
