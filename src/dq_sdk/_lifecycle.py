"""``async with`` for the clients that own one startable resource (producers, admin)."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

__all__ = ["StartStop", "StartedInContext"]


class StartStop(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class StartedInContext:
    """Entering starts ``self._resource``, leaving stops it (also after an exception).

    Subclasses set ``_resource`` in ``__init__`` to the object that connects (a payload sender, an
    admin client); stopping a producer's sender delivers what is pending first.
    """

    _resource: StartStop

    async def __aenter__(self) -> Self:
        await self._resource.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._resource.stop()
