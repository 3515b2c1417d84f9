"""Virtual media on a writable DMTF mockup whose CD slot lists no InsertMedia/EjectMedia actions (as an HPE
iLO 4's does): the image goes in, and out, by PATCHing the slot; what it held before comes from the recording."""

from __future__ import annotations

CD1 = "/redfish/v1/Systems/437XR1138R2/VirtualMedia/CD1"
RECORDED = "redfish.dmtf.org/freeImages/freeOS.1.1.iso"  # DMTF's CD1: Inserted, this Image
IMAGE = "http://127.0.0.1:8080/images/installer.iso"


def test_insert_status_and_eject_by_url_on_a_slot_without_actions(fleet):
    run = fleet(nodes=1)
    code, rows = run.json("media", "status", "gpu-r12-u03")
    assert code == 0
    slots = {s["id"]: s for s in rows[0]["value"]}
    assert (slots["CD1"]["inserted"], slots["CD1"]["image"]) == (True, RECORDED)
    inserted = run.cli("media", "insert", "gpu-r12-u03", "--image", IMAGE, "--yes", "--json")
    assert inserted.exit_code == 0, inserted.stdout + inserted.stderr
    assert inserted.json()[0]["detail"] == {"slot": "CD1", "before": RECORDED, "after": IMAGE}
    server = run.servers["gpu-r12-u03"]
    # what was in the slot is ejected first, then the image goes in read-only
    assert [p.body for p in server.made("PATCH", CD1)] == [
        {"Image": None, "Inserted": False},
        {"Image": IMAGE, "Inserted": True, "WriteProtected": True},
    ]
    _, rows = run.json("media", "status", "gpu-r12-u03")
    cd = {s["id"]: s for s in rows[0]["value"]}["CD1"]
    assert (cd["inserted"], cd["image"], cd["write_protected"]) == (True, IMAGE, True)
    ejected = run.cli("media", "eject", "gpu-r12-u03", "--yes", "--json")
    assert ejected.exit_code == 0, ejected.stdout
    _, rows = run.json("media", "status", "gpu-r12-u03")
    cd = {s["id"]: s for s in rows[0]["value"]}["CD1"]
    assert (cd["inserted"], cd["image"]) == (False, "")


def test_boot_cd_once_asks_for_the_cd_as_the_next_boot_only(fleet):
    run = fleet(nodes=1)
    result = run.cli("boot", "cd", "gpu-r12-u03", "--once", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    (patch,) = run.servers["gpu-r12-u03"].made("PATCH", "/redfish/v1/Systems/437XR1138R2")
    boot = patch.body["Boot"]
    # "Cd" is among DMTF's recorded BootSourceOverrideTarget@Redfish.AllowableValues; "Once" is the next boot only
    assert (boot["BootSourceOverrideTarget"], boot["BootSourceOverrideEnabled"]) == ("Cd", "Once")


def test_eject_with_image_ejects_only_where_that_image_is_inserted(fleet):
    run = fleet(nodes=1)
    other = run.cli("media", "eject", "gpu-r12-u03", "--image", IMAGE, "--yes", "--json")
    assert other.exit_code == 0, other.stdout
    assert other.json()[0]["message"] == f"CD1: holds {RECORDED}, not {IMAGE}; left alone"
    assert not run.servers["gpu-r12-u03"].made("PATCH", CD1)
    ejected = run.cli("media", "eject", "gpu-r12-u03", "--image", "freeOS.1.1.iso", "--yes", "--json")
    assert ejected.exit_code == 0, ejected.stdout
    assert ejected.json()[0]["detail"] == {"slot": "CD1", "before": RECORDED, "after": None}
    assert [p.body for p in run.servers["gpu-r12-u03"].made("PATCH", CD1)] == [{"Image": None, "Inserted": False}]
