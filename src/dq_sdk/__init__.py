"""dq-sdk: typed Kafka data queues for the SKA Science Data Processor."""
