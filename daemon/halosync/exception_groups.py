"""Taking a child task's error out of the exception group a trio nursery wraps it in.

trio's nurseries always wrap their children's errors in an ``ExceptionGroup`` (strict exception groups), so an
``except ProviderError`` around code that opens a nursery never sees the ``ProviderError`` a child raised: the
group passes it by and stops whatever is above (once, the whole daemon). Around such code, either catch with
``except*``, or, where exactly one error can come out (a pull: one fetching task beside the staging body),
use ``unwrapped()``, which raises that one error as itself. A group of several errors stays a group.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


def leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside ``error`` (nested groups flattened); ``[error]`` when it is no group."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


@contextmanager
def unwrapped() -> Iterator[None]:
    """Re-raise a group that holds a single ``Exception`` as that exception (its own traceback kept).

    Groups holding a ``BaseException`` that is not an ``Exception`` (``trio.Cancelled``, ``KeyboardInterrupt``)
    or several errors are re-raised unchanged: cancellation must reach its cancel scope as trio sent it, and
    two failures must not be reported as one."""
    try:
        yield
    except BaseExceptionGroup as group:
        found = leaves(group)
        if len(found) == 1 and isinstance(found[0], Exception):
            raise found[0] from None
        raise
