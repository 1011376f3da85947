"""Hand-written bases of the generated models in :mod:`dq_sdk.schemas` (all behaviour is here)."""

from ._base import Message, Record
from ._dataset import DatasetMessage, XarrayDataset
from ._record import FloatArray, RecordMessage, UtcTimestamp
from ._structured import StructuredArray, StructuredRow

__all__ = [
    "DatasetMessage",
    "FloatArray",
    "Message",
    "Record",
    "RecordMessage",
    "StructuredArray",
    "StructuredRow",
    "UtcTimestamp",
    "XarrayDataset",
]
