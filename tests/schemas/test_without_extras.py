"""Without the xarray/xradio extras the models import and the other families work."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    for name in ("xarray", "xradio", "xradio.schema"):
        sys.modules[name] = None  # as if the extra were not installed
    import numpy as np
    from dq_sdk import MissingDependencyError
    from dq_sdk.schemas import PointingNumpyArray, PointingTable, StructuredArray
    array = np.zeros(2, PointingNumpyArray.numpy_dtype())
    assert len(StructuredArray[PointingNumpyArray](array)) == 2
    try:
        PointingTable.from_wire(object())
    except MissingDependencyError as error:
        print(error)
    """
)


def test_models_import_without_xarray_and_name_the_extra() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'dq-sdk[xarray]'" in done.stdout
