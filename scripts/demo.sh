#!/usr/bin/env bash
# Install dq-sdk into ./.venv and run the demo: a local Kafka-protocol broker starts by itself,
# pointing offsets, a PointingTable and signal-display metrics move through it and back.
# Set DQ_SDK_BOOTSTRAP=host:port to use an existing Kafka cluster instead.
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh"
exec dq-sdk demo "$@"
