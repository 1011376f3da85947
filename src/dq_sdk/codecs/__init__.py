"""Codecs: placeholder until the codec modules land."""
from ._encoding import Encoding

__all__ = ["Encoding"]
