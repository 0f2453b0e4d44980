"""Errors that carry a user-facing message naming the file and the record at fault."""


class CatposeError(Exception):
    """Base class: the CLI prints the message and exits with status 2 (no traceback)."""


class DataError(CatposeError):
    """Bad input data. ``file`` and ``record`` say where."""

    def __init__(self, message: str, file=None, record=None):
        self.file = str(file) if file is not None else None
        self.record = record
        where = []
        if self.file:
            where.append(self.file)
        if record is not None:
            where.append(str(record))
        super().__init__(f"{': '.join(where)}: {message}" if where else message)


class ParameterError(CatposeError, ValueError):
    """A bad notebook / CLI parameter: one line naming it and what it accepts."""

    def __init__(self, name: str, value, accepts: str):
        self.name = name
        super().__init__(f"parameter '{name}' = {value!r}: {accepts}")
