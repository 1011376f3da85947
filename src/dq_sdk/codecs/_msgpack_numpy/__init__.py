"""The ``msgpack_numpy`` encoding: msgpack with numpy arrays as msgpack-numpy 0.4.8 maps.

This ``__init__`` is the package's whole surface: the registry, the ``xarray`` codec, the
producer, batch receive and the structured models import these names from here, never from a
module of the package, so each contract below has one home. Byte layouts, bounds and the
no-copy rules are in ``docs/encodings.md``.

The codec, for the registry and the ``xarray`` codec (which writes its Dataset as
msgpack_numpy maps): :class:`MsgpackNumpyCodec`, :func:`pack`, :func:`unpack`,
:data:`COPY_BELOW` (messages under it are decoded with copies, longer ones as views) and
:func:`scalar_map` (the map of one numpy scalar).

The fast paths, whose results are exactly those of :func:`pack` and :func:`unpack` one
message at a time:

- :func:`pack_rows`: the messages of each row of a structured array, from one copy of it
  (``Producer.send_batch`` of row models);
- :func:`row_head`: the bytes every such message starts with, by which batch receive knows a
  record is one row of a model's dtype;
- :func:`rows_from_bytes`: the rows of many such messages as one read-only array, checked as
  every decoded array is (batch receive);
- :func:`share_record_dtype`: decode a model's dtype description to the model's own dtype
  object, so that validating a decoded array is an identity test (structured row models).

Modules: ``_writer`` (value to bytes), ``_reader`` (bytes to value: which parser, views or
copies), ``_zero_copy_parser`` (a msgpack parser that leaves ``bin`` data in the buffer),
``_maps`` (msgpack-numpy's maps of arrays, scalars and complex numbers, and their dtypes),
``_one_array`` (remembered heads of one-array messages), ``_rows`` (the row fast paths),
``_codec``.
"""

from ._codec import MsgpackNumpyCodec
from ._maps import scalar_map, share_record_dtype
from ._reader import COPY_BELOW, unpack
from ._rows import pack_rows, row_head, rows_from_bytes
from ._writer import pack

__all__ = [
    "COPY_BELOW",
    "MsgpackNumpyCodec",
    "pack",
    "pack_rows",
    "row_head",
    "rows_from_bytes",
    "scalar_map",
    "share_record_dtype",
    "unpack",
]
