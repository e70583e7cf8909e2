"""Row ids from the outside world: URLs, query strings and form fields.

Ids are 32-bit integer columns on PostgreSQL (SQLite's hold 64 bits), so a number past
:data:`MAX_ID` cannot name a row; passed to the database it would fail the statement (an
``OverflowError`` on SQLite, a ``NumericValueOutOfRange`` on PostgreSQL) rather than find
nothing. Every id that arrives as text is read here, and a number too large is treated like any
other id that names nothing.
"""

from typing import Any

from werkzeug.routing import IntegerConverter

#: The largest id a row can have: PostgreSQL's ``integer``.
MAX_ID = 2**31 - 1


def to_id(value: object) -> int:
    """``value`` as an id: an int, or a string of ASCII digits (``int()`` would also take other
    scripts' digits, spaces and underscores), from 1 to :data:`MAX_ID`; else ``ValueError``,
    which werkzeug's ``args.get(..., type=to_id)`` turns into its default and WTForms' filters
    and ``coerce`` into a field error."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise ValueError(f"not an id: {value!r}")
    if not 1 <= number <= MAX_ID:
        raise ValueError(f"not an id: {value!r}")
    return number


class IdConverter(IntegerConverter):
    """Flask's ``<int:…>`` read as :func:`to_id` reads an id: ASCII digits only (werkzeug's
    own would take ``/threads/١٢`` for thread 12), from 1 up to :data:`MAX_ID`, so
    ``/threads/99999999999999999999`` is a 404 like any other thread that does not exist,
    instead of a database error. Registered as ``int``."""

    regex = r"[0-9]+"

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
