"""The README's examples that need live devices, run on the lab (issue 16): rack r12 with its simulated
IPMI BMCs and SNMP PDUs. Each is listed in tests/docs/test_readme_examples.py as not runnable there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.readme_examples import ON_THE_LAB, example_blocks, run
from tests.integration.conftest import Lab


def test_the_lab_examples_are_the_readmes() -> None:
    examples = {line for block in example_blocks() for line in block}
    assert set(ON_THE_LAB) <= examples, sorted(set(ON_THE_LAB) - examples)


@pytest.mark.lab
def test_readme_examples_that_need_devices_run_on_the_lab(ipmi_lab: Lab, tmp_path: Path) -> None:
    for example in ON_THE_LAB:
        ran = run(example, tmp_path)
        assert ran.exit_code == 0, f"{example}\n{ran.stdout}{ran.stderr}"
