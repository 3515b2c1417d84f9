"""Simulated hardware and hosts on this machine, for the demo, rehearsals and the tests."""
