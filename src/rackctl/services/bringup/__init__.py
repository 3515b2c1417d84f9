"""`rackctl bringup`: take nodes from racked to validated, each from where its lifecycle state says it is.

    BMC reachable -> boot PXE once -> staggered power-on -> wait for SSH -> provision -> burn-in -> validated

Every step (steps.py) is a function of one node returning ok, or a message and a technician's hint. Nodes run
in parallel and one failing never stops the others. A step that reaches a lifecycle state records it at once,
so a rerun (after a crash, or after the technician fixed a failed node) resumes where each node is. The BMC
steps call services/bringup_oob.py.
"""

from rackctl.services.bringup.pipeline import Report, bringup, override_vars
from rackctl.services.bringup.steps import STEPS, Node, Settings, StepResult, plan

__all__ = ["STEPS", "Node", "Report", "Settings", "StepResult", "bringup", "override_vars", "plan"]
