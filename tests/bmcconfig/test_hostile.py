"""Hostile input through every write path BMC-side configuration adds: refused with one line (exit 2) before
any BMC is touched, or carried as data (JSON) and refused by the BMC's own registry - never a traceback."""

from __future__ import annotations

import pytest

from rackctl.errors import ValidationError
from rackctl.inventory.templates.loader import parse_template
from rackctl.paths import shipped_dir

HOSTILE = ["$(reboot)", "`id`", "a\nb", "x'; DROP TABLE devices;--", "../../etc/shadow", "Ваша", "a,b", "[x]",
           "A" * 300, "with space"]  # fmt: skip


def _profile_edit(old: str, new: str) -> str:
    text = (shipped_dir("rack_templates") / "h100-4node-air.yaml").read_text()
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_bios_attribute_name_must_be_a_plain_identifier(name):
    value = name.replace("\n", "\\n").replace('"', '\\"')
    text = _profile_edit("    extra:\n", f'    bios: {{attributes: {{"{value}": Enabled}}}}\n    extra:\n')
    with pytest.raises(ValidationError) as refused:
        parse_template(text, "t.yaml")
    assert "bios.attributes" in str(refused.value)


@pytest.mark.parametrize("path", ["relative/bmc.bin", "/srv/fw/with space.bin", "ftp://x/bmc.bin", "/a\nb"])
def test_a_firmware_image_must_be_an_absolute_path_or_an_http_url(path):
    value = path.replace("\n", "\\n")
    firmware = f'{{bmc: {{version: "1.0", image: "{value}", sha256: "{"a" * 64}"}}}}'
    text = _profile_edit("    extra:\n", f"    firmware: {firmware}\n    extra:\n")
    with pytest.raises(ValidationError) as refused:
        parse_template(text, "t.yaml")
    assert "firmware.bmc.image" in str(refused.value)


@pytest.mark.parametrize("value", ["$(reboot)", "Uefi\nBios", 'Uefi"; x', "Ваша"])
def test_a_hostile_bios_value_is_data_and_the_registry_refuses_it(fleet, value):
    run = fleet(nodes=1, variant="bios-registry", bios={"attributes": {"BootMode": value}})
    result = run.cli("bios", "apply", "gpu-r12-u03", "--yes", "--json")
    assert result.exit_code == 1
    assert result.json()[0]["error"].startswith("nothing written: BootMode: ")
    assert "is not one of Bios, Uefi" in result.json()[0]["error"]
    assert not run.servers["gpu-r12-u03"].made("PATCH", "/redfish/v1/Systems/437XR1138R2/Bios/Settings")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("media", "insert", "gpu-r12-u03", "--image", "$(reboot)"), "image $(reboot): No such file"),
        (("media", "insert", "gpu-r12-u03", "--image", "http://a b/x.iso"), "not a usable http(s) URL"),
        (("media", "insert", "gpu-r12-u03", "--image", "/dev/zero"), "not a regular file"),
        (("media", "insert", "gpu-r12-u03", "--image", "/etc/hostname", "--serve-address", "not an address"),
         "cannot serve images on not an address"),
        (("firmware", "update", "gpu-r12-u03", "--components", "bmc,$(x)"), "--components: $(x) not in"),
        (("firmware", "update", "gpu-r12-u03", "--task-timeout", "`id`"), "--task-timeout: '`id`' is not a duration"),
        (("media", "insert", "gpu-r12-u03", "--image", "/etc/hostname", "--serve-for", "nan"), "is not a duration"),
    ],
)  # fmt: skip
def test_hostile_options_are_one_line_and_touch_nothing(fleet, tmp_path, args, says):
    run = fleet(nodes=1)
    result = run.cli(*args, "--yes")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr
    server = run.servers["gpu-r12-u03"]
    assert not [r for r in server.requests if r.method in ("POST", "PATCH") and "Sessions" not in r.path]


def test_a_rotation_reference_with_dots_is_refused_before_any_change(fleet, tmp_path):
    run = fleet(nodes=1, username="Administrator")
    assert run.cli("device", "set", "gpu-r12-u03", "--mgmt-credential", f"file:{tmp_path}/../x.pw").exit_code in (0, 2)
    result = run.cli("bmc", "rotate", "gpu-r12-u03", "--yes", "--json")
    assert result.exit_code == 1
    assert not run.servers["gpu-r12-u03"].made("PATCH", "/redfish/v1/AccountService/Accounts/1")
