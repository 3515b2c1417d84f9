"""Rack templates as files: the shipped ones load; bad ones give one ValidationError naming the file,
line and field; random mutations of a good one never fail any other way."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rackctl.errors import NotFound, ValidationError
from rackctl.inventory.templates.loader import find_template, list_templates, load_template, parse_template
from rackctl.paths import shipped_dir
from template_mutations import edit, mutated_templates, shipped

SHIPPED = shipped_dir("rack_templates")
H100 = (SHIPPED / "h100-4node-air.yaml").read_text()
POD = (SHIPPED / "h100-pod-2rack-ib.yaml").read_text()


def test_every_shipped_template_loads() -> None:
    found = {path.stem: load_template(str(path)) for path in list_templates()}
    assert set(found) == {"h100-4node-air", "l40s-8node", "h100-pod-2rack-ib"}
    for stem, template in found.items():
        assert template.name == stem
        assert template.description


def test_templates_are_found_by_name_by_path_and_in_extra_folders(tmp_path: Path) -> None:
    assert find_template("l40s-8node") == SHIPPED / "l40s-8node.yaml"
    assert find_template(str(SHIPPED / "l40s-8node.yaml")) == SHIPPED / "l40s-8node.yaml"
    (tmp_path / "mine.yml").write_text(H100.replace("name: h100-4node-air", "name: mine"))
    # a configured folder comes before the shipped one, so a site may shadow a shipped template
    (tmp_path / "l40s-8node.yaml").write_text(H100)
    assert find_template("mine", (str(tmp_path),)) == tmp_path / "mine.yml"
    assert find_template("l40s-8node", (str(tmp_path),)) == tmp_path / "l40s-8node.yaml"
    assert [p.stem for p in list_templates((str(tmp_path),))] == [
        "h100-4node-air",
        "h100-pod-2rack-ib",
        "l40s-8node",
        "mine",
    ]


@pytest.mark.parametrize("name", ["no-such-template", "missing.yaml"])
def test_unknown_template_is_not_found(name: str) -> None:
    with pytest.raises(NotFound):
        find_template(name)


# (old text, new text, expected field, words of the message)
BAD_EDITS = [
    ("  u_height: 42\n", "  u_height: 42\n  colour: red\n", "rack.colour", "unknown key 'colour'"),
    ("  u_height: 42\n", "  u_height: tall\n", "rack.u_height", "'tall' is not of type 'integer'"),
    ("  u_height: 42\n", "  u_height: 61\n", "rack.u_height", "61 is greater than the maximum of 60"),
    ("cooling: {kind: air,", "cooling: {kind: water,", "rack.cooling.kind", "'water' is not one of"),
    ("    role: gpu-node\n", "    role: gpu-server\n", "devices.4.role", "'gpu-server' is not one of"),
    ("    u: [3, 11, 19, 27]\n", "    u: [3, 11, 0]\n", "devices.4.u.2", "0 is less than the minimum of 1"),
    (
        "role: pdu, feed: A, platform: raritan,",
        "role: pdu, feed: C, platform: raritan,",
        "devices.0.feed",
        "feed 'C' is not one of ['A', 'B']",
    ),
    ("    profile: h100-inference\n", "    profile: h200\n", "devices.4.profile", "profile 'h200' is not defined"),
    ('  - name: "gpu-{rack}-u{u:02d}"', '  - name: "gpu-{rak}-u{u:02d}"', "devices.4.name", "unknown variable 'rak'"),
    ('  - name: "gpu-{rack}-u{u:02d}"', '  - name: "gpu-{rack.x}"', "devices.4.name", "'rack.x' is not allowed"),
    (
        'credential: "env:RACKCTL_BMC_PASSWORD"}',
        'credential: "Hunter2-BMC!"}',
        "devices.4.management.credential",
        "must be a secret reference (env:NAME, file:/path or cred:NAME), never the secret itself",
    ),
    ('    dcgm: "4.2.3"\n', "    dcgm: 4.2\n", "profiles.h100-inference.dcgm", "4.2 is not of type 'string', 'null'"),
    ("    mtu: 9000\n", "    mtu: jumbo\n", "profiles.h100-inference.mtu", "not of type"),
    (
        "    tensor_parallel: 8\n",
        "    tensor_parallel: 8\n    gpus: 8\n",
        "profiles.h100-inference.gpus",
        "unknown profile",
    ),
    ('    B: ["pdu-{rack}-b1"', '    C: ["pdu-{rack}-b1"', "power.pdus.C", "feed 'C' is not one of ['A', 'B']"),
    (
        "cabling:\n",
        "cabling:\n  - {from: {role: gpu-node}, to: {device: x, interface: y}, kind: dac}\n",
        "cabling.0.from",
        "'interface' is a required property",
    ),
    (
        "- {name: A, voltage: 415,",
        "- {name: A, voltage: 4150,",
        "rack.feeds.0.voltage",
        "greater than the maximum of 1000",
    ),
]


@pytest.mark.parametrize(("old", "new", "field", "message"), BAD_EDITS, ids=[e[2] for e in BAD_EDITS])
def test_bad_template_names_file_line_and_field(old: str, new: str, field: str, message: str) -> None:
    text, line = edit(H100, old, new)
    with pytest.raises(ValidationError) as caught:
        parse_template(text, "site/bad.yaml")
    where = caught.value.where
    assert (where.source, where.field) == ("site/bad.yaml", field)
    assert where.line == line
    assert message in caught.value.reason
    assert str(caught.value).startswith(f"site/bad.yaml:{where.line}, field '{field}': ")
    assert "Hunter2" not in str(caught.value)


def test_a_device_in_a_rack_the_template_does_not_have() -> None:
    text, line = edit(POD, "role: ib-switch, rack: 2,", "role: ib-switch, rack: 3,")
    with pytest.raises(ValidationError, match="rack 3 but the template has 2") as caught:
        parse_template(text, "pod.yaml")
    assert caught.value.where.field == "devices.6.rack" and caught.value.where.line == line


def test_a_bad_rack_name_pattern() -> None:
    text, line = edit(POD, '  - {name: "{pod}b"}', '  - {name: "{pood}b"}')
    with pytest.raises(ValidationError, match="unknown variable 'pood'") as caught:
        parse_template(text, "pod.yaml")
    assert (caught.value.where.field, caught.value.where.line) == ("racks.1.name", line)


def test_power_needs_a_pdu_on_some_feed() -> None:
    text, _ = edit(
        H100, '    A: ["pdu-{rack}-a1", "pdu-{rack}-a2"]\n    B: ["pdu-{rack}-b1", "pdu-{rack}-b2"]\n', "{}\n"
    )
    text = text.replace("  pdus:\n{}", "  pdus: {}")
    with pytest.raises(ValidationError, match="should be non-empty"):
        parse_template(text, "t.yaml")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("name: x\nrack: [unclosed\n", 3, "malformed YAML"),
        ("name: x\nname: y\n", 2, "duplicate key 'name'"),
        ("name: x\n  rack: 1\n", 2, "malformed YAML"),
        ("- just\n- a list\n", 1, "a rack template is a YAML mapping"),
        ("name: x\n", 1, "'rack' is a required property"),
    ],
)
def test_malformed_yaml_and_wrong_shapes(text: str, line: int, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_template(text, "t.yaml")
    assert message in str(caught.value)
    assert caught.value.where.source == "t.yaml" and caught.value.where.line == line


# Property: a mutated template is either accepted or refused with ValidationError/NotFound, never a crash.

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["{rack}", "{bogus}", "{u:c}", "{", "env:X", "A", "B", "gpu-node", "pdu", "0-3", "10.0.0.0/8"]),
    st.lists(st.integers(0, 50), max_size=3),
    st.dictionaries(st.sampled_from(["name", "u", "x", "kind"]), st.integers(0, 5), max_size=2),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_templates({"h100-4node-air": shipped("h100-4node-air")}, _VALUES))
def test_mutated_templates_load_or_fail_with_validation_error(text: str) -> None:
    try:
        parse_template(text, "mutated.yaml")
    except (ValidationError, NotFound) as exc:
        assert str(exc).startswith("mutated.yaml")
