"""The public API: re-exported one name at a time, sorted, importable, typed."""

from __future__ import annotations

import importlib
import inspect
from importlib import resources

import pytest

import dq_sdk

PUBLIC_MODULES = [
    "dq_sdk",
    "dq_sdk.codecs",
    "dq_sdk.schema_tools",
    "dq_sdk.schemas",
    "dq_sdk.telemetry",
    "dq_sdk.testing",
    "dq_sdk.view",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_is_sorted_complete_and_importable(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=lambda n: (n.startswith("__"), n))
    for name in exported:
        assert hasattr(module, name), f"{module_name}.{name} is in __all__ but missing"
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and name not in {"annotations", "version", "PackageNotFoundError"}
    }
    assert public <= set(exported), f"public but not in __all__: {public - set(exported)}"


def test_seed_import_paths() -> None:
    from dq_sdk import DataQueueAdmin, DataQueueConsumer, DataQueueProducer, Encoding
    from dq_sdk.schemas.numpy_structured_pointing import PointingNumpyArray

    assert Encoding("msgpack_numpy") is Encoding.MSGPACK_NUMPY
    assert all(callable(c) for c in (DataQueueAdmin, DataQueueConsumer, DataQueueProducer))
    assert PointingNumpyArray.encoding is Encoding.MSGPACK_NUMPY


def test_encoding_values_are_the_sdp_names() -> None:
    assert [e.value for e in dq_sdk.Encoding] == [
        "utf-8",
        "ascii",
        "msgpack_numpy",
        "xarray",
        "npy",
        "json",
    ]
    assert str(dq_sdk.Encoding.UTF8) == "utf-8"
    assert isinstance(dq_sdk.Encoding.UTF8, str)


def test_package_ships_py_typed() -> None:
    assert resources.files("dq_sdk").joinpath("py.typed").is_file()


def test_every_error_is_a_dq_error() -> None:
    errors = [
        value
        for name, value in vars(dq_sdk).items()
        if isinstance(value, type) and issubclass(value, Exception) and name in dq_sdk.__all__
    ]
    assert len(errors) >= 12
    assert all(issubclass(error, dq_sdk.DQError) for error in errors)
    assert issubclass(dq_sdk.MessageValidationError, TypeError)
    assert issubclass(dq_sdk.MissingDependencyError, ImportError)
    assert issubclass(dq_sdk.DecodeError, ValueError)


# That the generated API reference has every name of every public module's __all__ (and
# nothing private) is checked on the built site: tests/docs/test_reference.py.


def test_kafka_error_is_a_deprecated_alias_of_broker_error() -> None:
    """Code written for the old name (the SKA document's examples) keeps catching the same
    errors, and is told the new name."""
    with pytest.warns(DeprecationWarning, match=r"dq_sdk\.KafkaError is deprecated.*BrokerError"):
        alias = dq_sdk.KafkaError
    assert alias is dq_sdk.BrokerError
    assert "KafkaError" not in dq_sdk.__all__
    with pytest.raises(alias):
        raise dq_sdk.BrokerUnavailableError("no broker")
    with pytest.raises(AttributeError, match="no attribute 'NoSuchError'"):
        dq_sdk.NoSuchError  # noqa: B018
