"""BIOS settings by intent against a mockup that serves its Attribute Registry (and refuses unknown names)."""

from __future__ import annotations

SETTINGS = "/redfish/v1/Systems/437XR1138R2/Bios/Settings"
QUICK = ("--bmc-wait", "60s", "--poll", "0.1s", "--timeout", "60")


def test_diff_maps_intents_to_the_vendors_names_and_checks_the_registry(fleet):
    wanted = {"boot_mode": "uefi", "power_profile": "performance", "attributes": {"ProcTurboMode": "Enabled"}}
    run = fleet(nodes=1, variant="bios-registry", bios=wanted)
    code, rows = run.json("bios", "diff", "gpu-r12-u03")
    assert code == 0  # a readable BMC is a result; the rows carry the differences
    found = {r["attribute"]: r for r in rows[0]["value"]["rows"]}
    assert rows[0]["value"]["vendor"] == "dmtf-example"
    assert (found["BootMode"]["source"], found["BootMode"]["current"], found["BootMode"]["wanted"]) == (
        "boot_mode", "Uefi", "Uefi")  # fmt: skip
    # current is right, but the staged value (recorded in DMTF's Settings) would turn it off at the next reset
    assert (found["ProcTurboMode"]["current"], found["ProcTurboMode"]["pending"]) == ("Enabled", "Disabled")
    # DMTF's Bios carries PowerProfile=MaxPerf, but the registry served for its AttributeRegistry does not know it
    assert found["PowerProfile"]["problem"] == "PowerProfile: the BMC's attribute registry does not know this attribute"


def test_apply_refuses_an_attribute_the_registry_does_not_know_and_writes_nothing(fleet):
    run = fleet(nodes=2, variant="bios-registry", bios={"boot_mode": "legacy", "attributes": {"NoSuchSetting": 1}})
    result = run.cli("bios", "apply", "gpu-r12-u[03,11]", "--yes", "--json", *QUICK)
    assert result.exit_code == 1
    for row in result.json():
        assert row["error"] == (
            "nothing written: NoSuchSetting: the BMC's attribute registry does not know this attribute"
        )
    assert all(not server.made("PATCH", SETTINGS) for server in run.servers.values())


def test_apply_stages_then_reboot_applies_and_confirms(fleet):
    run = fleet(
        nodes=2, variant="bios-registry", bios={"boot_mode": "legacy", "attributes": {"ProcTurboMode": "Enabled"}}
    )
    staged = run.cli("bios", "apply", "gpu-r12-u03", "--yes", "--json", *QUICK)
    assert staged.exit_code == 0, staged.stdout
    assert staged.json()[0]["message"] == "staged 2 change(s); they apply at the next reboot"
    (patch,) = run.servers["gpu-r12-u03"].made("PATCH", SETTINGS)
    assert patch.body == {"Attributes": {"BootMode": "Bios", "ProcTurboMode": "Enabled"}}
    _, rows = run.json("bios", "diff", "gpu-r12-u03")
    assert {r["attribute"]: r["status"] for r in rows[0]["value"]["rows"]} == {
        "BootMode": "pending",
        "ProcTurboMode": "ok",
    }

    applied = run.cli("bios", "apply", "gpu-r12-u11", "--reboot", "--yes", "--json", *QUICK)
    assert applied.exit_code == 0, applied.stdout
    row = applied.json()[0]
    assert row["message"] == "applied 2 change(s) and confirmed after the reboot"
    assert row["detail"]["BootMode"] == {"before": "Uefi", "after": "Bios"}
    assert run.servers["gpu-r12-u11"].made("POST", "/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset")


def test_an_intent_without_a_known_attribute_is_refused_with_what_to_do(fleet):
    run = fleet(nodes=1, variant="bios-registry", bios={"sriov": True})
    result = run.cli("bios", "apply", "gpu-r12-u03", "--yes", "--json", *QUICK)
    assert result.exit_code == 1
    assert result.json()[0]["error"] == (
        "nothing written: sriov: no known dmtf-example attribute; name it under bios.attributes"
    )


def test_get_shows_current_and_staged_values_as_dmtf_recorded_them(fleet):
    run = fleet(nodes=1, variant="bios-registry")
    code, rows = run.json("bios", "get", "gpu-r12-u03")
    assert code == 0
    state = rows[0]["value"]["state"]
    assert state["registry"] == "BiosAttributeRegistryP89.v1_0_0"
    assert (state["attributes"]["BootMode"], state["attributes"]["ProcTurboMode"]) == ("Uefi", "Enabled")
    # DMTF's Bios/Settings repeats every attribute; four of them hold other values: those are what is staged
    assert state["pending"] == {
        "AdminPhone": "(404) 555-1212",
        "EmbeddedSata": "Ahci",
        "NicBoot2": "NetworkBoot",
        "ProcTurboMode": "Disabled",
    }
