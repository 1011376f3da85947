"""The aiokafka transport (pure asyncio), the default: ``transport="aiokafka"``.

The only package that imports aiokafka's clients. :mod:`.producer`, :mod:`.consumer` and
:mod:`.admin` wrap them with typed calls, :mod:`.offsets` reads high-water marks, and
:mod:`._common` turns aiokafka's errors into dq-sdk errors for all of them. aiokafka ships no
type information, so everything above talks to these wrappers only.
"""

from __future__ import annotations

from .admin import AiokafkaAdminClient
from .consumer import AiokafkaConsumerClient
from .producer import AiokafkaProducerClient

__all__ = ["AiokafkaAdminClient", "AiokafkaConsumerClient", "AiokafkaProducerClient"]
