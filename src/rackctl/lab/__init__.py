"""The lab: simulated racks on loopback and in network namespaces, built from the inventory.

The demo, technicians' rehearsals and the test suite all use this one harness. Every simulator is a
real program written by others (OpenIPMI's ipmi_sim, sushy-tools, snmpsim, OpenSSH's sshd).
"""
