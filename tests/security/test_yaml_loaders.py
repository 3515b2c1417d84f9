"""Every YAML rackctl reads goes through a safe loader: a tag that would build a Python object is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rackctl.errors import ValidationError
from rackctl.yamlsrc import PLAIN_LOADER, load_plain, load_text


def _hostile(marker: Path) -> str:
    return f'devices: !!python/object/apply:os.system ["touch {marker}"]\n'


def test_the_plain_loader_is_a_safe_one() -> None:
    assert issubclass(PLAIN_LOADER, yaml.constructor.SafeConstructor)
    assert not issubclass(PLAIN_LOADER, yaml.constructor.UnsafeConstructor)


def test_data_files_refuse_python_tags(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(yaml.constructor.ConstructorError):
        load_plain(_hostile(marker))
    assert not marker.exists()


def test_templates_refuse_python_tags_with_the_line(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(ValidationError) as refused:
        load_text("name: t\n" + _hostile(marker), "hostile.yaml")
    assert "hostile.yaml" in str(refused.value) and refused.value.where.line == 2
    assert not marker.exists()


def test_the_plain_loader_reads_what_the_safe_one_reads() -> None:
    text = "a: [1, 2.5, yes, null, '010', 2026-12-05]\nb: {c: d}\n"
    assert load_plain(text) == yaml.safe_load(text)
