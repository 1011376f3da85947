"""Across schema versions on a real broker: models generated from v1 and from v2 of a schema
(codegen into temporary packages) exchange messages both ways when the change is compatible,
and a consumer refuses a new major version with SchemaMismatchError. The compatibility check
agrees with what the consumers do."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from dq_sdk import Consumer, Producer, SchemaMismatchError, TransportName
from dq_sdk.schema_tools import check_compatibility

ROOT = Path(__file__).resolve().parents[2]
METRICS = "signal_display_metrics"
LIMIT_S = 20


def _variant(version: str, edit: Any = None) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((ROOT / "schemas" / f"{METRICS}.json").read_text())
    schema = copy.deepcopy(schema)
    schema["x-version"] = version
    if edit is not None:
        edit(schema)
    return schema


def _add_receiver(schema: dict[str, Any]) -> None:
    schema["properties"]["receiver_id"] = {
        "type": "string",
        "description": "Receive process that made the metric (added in 1.1.0).",
    }


def _drop_lagplot(schema: dict[str, Any]) -> None:
    schema["properties"]["data_type"]["enum"].remove("lagplot")
    del schema["x-items-by"]["items"]["lagplot"]


VARIANTS = {
    "v1": _variant("1.0.0"),
    "v1_1": _variant("1.1.0", _add_receiver),
    "v2": _variant("2.0.0", _drop_lagplot),
}


def _generate(name: str, schema: dict[str, Any], base: Path) -> ModuleType:
    folder = base / f"schemas_{name}"
    folder.mkdir()
    (folder / f"{METRICS}.json").write_text(json.dumps(schema, indent=2))
    package = base / f"dq_versions_{name}"
    done = subprocess.run(
        [sys.executable, "-m", "codegen", "--schemas", str(folder), "--output", str(package)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    module_name = f"dq_versions_{name}"
    spec = importlib.util.spec_from_file_location(
        module_name, package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def models() -> Iterator[dict[str, ModuleType]]:
    """The three versions' generated packages, imported side by side."""
    with tempfile.TemporaryDirectory(prefix="dq-versions-") as scratch:
        generated = {name: _generate(name, s, Path(scratch)) for name, s in VARIANTS.items()}
        try:
            yield generated
        finally:
            for name in list(sys.modules):
                if name.startswith("dq_versions_"):
                    del sys.modules[name]


def _metric(module: ModuleType, **extra: Any) -> Any:
    window = module.SpectralWindow(
        freq_min=1.0e8,
        freq_max=2.0e8,
        count=4,
        channels_id=0,
        spectral_window_id=0,
        start=0,
        stride=1,
    )
    item = module.PhaseItem(
        baseline="SKA001_SKA002", polarisation="XX", phases=np.array([0.5, 1.5, 2.5, 3.5])
    )
    return module.MetricPayload(
        data_type="phase",
        processing_block_id="pb-test-20240101-00000",
        timestamp=datetime(2024, 1, 1, 12, tzinfo=UTC),
        spectral_window=window,
        data=[item],
        **extra,
    )


def test_the_check_agrees_with_the_generated_versions(models: dict[str, ModuleType]) -> None:
    assert models["v1"].MetricPayload.schema_version == "1.0.0"
    assert models["v1_1"].MetricPayload.schema_version == "1.1.0"
    assert "receiver_id" in models["v1_1"].MetricPayload.model_fields
    assert check_compatibility(VARIANTS["v1"], VARIANTS["v1_1"], mode="full") == []
    breaking = check_compatibility(VARIANTS["v1"], VARIANTS["v2"])
    assert [c.kind for c in breaking] == ["ENUM_ARRAY_NARROWED", "ITEMS_BY_TAG_REMOVED"]


async def test_v1_consumer_reads_v1_1_messages_and_the_reverse(
    models: dict[str, ModuleType],
    dq_bootstrap: str,
    dq_topic_factory: Any,
    transport: TransportName,
) -> None:
    old, new = models["v1"].MetricPayload, models["v1_1"].MetricPayload
    forward_topic, backward_topic = dq_topic_factory(), dq_topic_factory()

    # New producer (1.1.0, with the new field) -> old consumer (1.0.0): it ignores the field.
    sent_new = _metric(models["v1_1"], receiver_id="rcv-01")
    async with Producer(new, dq_bootstrap, topic=forward_topic, transport=transport) as producer:
        await producer.send(sent_new)
    async with Consumer(old, dq_bootstrap, topics=[forward_topic], transport=transport) as c:
        received_old = await c.receive(timeout_s=LIMIT_S)
    assert isinstance(received_old.value, old)
    assert dict(received_old.headers)["dq-schema-version"] == b"1.1.0"
    assert received_old.value == _metric(models["v1"])

    # Old producer (1.0.0) -> new consumer (1.1.0): the new optional field is absent.
    async with Producer(old, dq_bootstrap, topic=backward_topic, transport=transport) as producer:
        await producer.send(_metric(models["v1"]))
    async with Consumer(new, dq_bootstrap, topics=[backward_topic], transport=transport) as c:
        received_new = await c.receive(timeout_s=LIMIT_S)
    assert isinstance(received_new.value, new)
    assert received_new.value.receiver_id is None
    assert received_new.value.data[0].phases.tolist() == [0.5, 1.5, 2.5, 3.5]
    assert received_new.value == _metric(models["v1_1"])


async def test_a_new_major_version_is_refused_with_schema_mismatch(
    models: dict[str, ModuleType],
    dq_bootstrap: str,
    dq_topic: str,
    transport: TransportName,
) -> None:
    old, incompatible = models["v1"].MetricPayload, models["v2"].MetricPayload
    async with Producer(incompatible, dq_bootstrap, topic=dq_topic, transport=transport) as p:
        await p.send(_metric(models["v2"]))
        await p.send(_metric(models["v2"]))
    async with Consumer(old, dq_bootstrap, topics=[dq_topic], transport=transport) as consumer:
        with pytest.raises(SchemaMismatchError) as caught:
            await consumer.receive(timeout_s=LIMIT_S)
        error = caught.value
        assert "schema version 2.0.0" in str(error) and "version 1.0.0" in str(error)
        assert (error.topic, error.partition, error.offset) == (dq_topic, 0, 0)
        # The consumer goes on: the next message is refused the same way, not a crash.
        with pytest.raises(SchemaMismatchError) as again:
            await consumer.receive(timeout_s=LIMIT_S)
        assert again.value.offset == 1
    # Same major, reverse direction: a 1.x consumer built from the old file would refuse
    # nothing, so the refusal above is the version rule at work, not a decoding failure.
    async with Consumer(incompatible, dq_bootstrap, topics=[dq_topic], transport=transport) as c:
        assert (await c.receive(timeout_s=LIMIT_S)).value == _metric(models["v2"])
