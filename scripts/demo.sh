#!/usr/bin/env bash
# Install dq-sdk into ./.venv and run the demo: a local Kafka-protocol broker starts by itself,
# pointing offsets, a PointingTable and signal-display metrics move through it and back.
# Arguments go to the demo (`bash scripts/demo.sh --rounds 10 --antennas 64`; see --help).
# Set DQ_SDK_BOOTSTRAP=host:port to use an existing Kafka cluster instead.
demo_args=("$@")
set --  # _setup.sh passes its own arguments to pip: it must not see the demo's
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh"
exec dq-sdk demo "${demo_args[@]}"
