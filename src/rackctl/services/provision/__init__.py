"""Provision GPU nodes with the Ansible roles in playbooks/, through ansible-runner.

provision(db, RunSpec(hosts, ...), actor, progress) -> [HostOutcome]   runs, records, moves lifecycle
run_playbook(spec, progress, cancel) -> {host: HostOutcome}            runs only (reads the inventory, no session held)
"""

from rackctl.services.provision.events import HostOutcome
from rackctl.services.provision.runner import Cancel, RunSpec, run_playbook
from rackctl.services.provision.service import provision

__all__ = ["Cancel", "HostOutcome", "RunSpec", "provision", "run_playbook"]
