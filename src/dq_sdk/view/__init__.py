"""``dq-sdk view``: a live, read-only browser page of the data queues (the ``view`` extra).

An ASGI app (Starlette, served by uvicorn) over dq-sdk's own receiving core: one consumer with
a manual assignment and no group, so watching never disturbs a pipeline. The overview lists
every topic with rates, last message, encoding, schema and the chosen groups' lag; a topic's
page plots its messages by model (pointing offsets, signal-display metrics, pointing tables,
numeric arrays, text). Decimated on the server: at most 10 updates a second per page and a
few thousand points per trace. The chart library (uPlot) is vendored: no network needed.
"""

from ._app import create_app
from ._decimate import MAX_GRID, MAX_POINTS, RateLimit, block_mean, min_max_trace
from ._extract import MessageView, view_of
from ._server import DEFAULT_HOST, DEFAULT_PORT, run_view, serve
from ._state import Board

__all__ = [
    "Board",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "MAX_GRID",
    "MAX_POINTS",
    "MessageView",
    "RateLimit",
    "block_mean",
    "create_app",
    "min_max_trace",
    "run_view",
    "serve",
    "view_of",
]
