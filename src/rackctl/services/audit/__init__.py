"""Drift audits: compare what devices say with what the inventory plans, layer by layer.

jobs.py        plan from the inventory (expect.py builds the expected state of each layer)
collect.py     read observed state: the host probe over SSH; seams for BMC, switch, LLDP, PDU
compare_*.py   pure functions (expected, observed) -> findings with a hint for the technician
run.py         plan -> collect every layer side by side (bounded) -> compare -> store
store.py       runs, outcomes and findings with first seen / last seen / resolved; history, diff
report.py      JSON, Prometheus text, JUnit; schedule.py (systemd timer, cron); serve.py (HTTP)
"""
