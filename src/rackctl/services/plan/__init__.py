"""Capacity and cost planning: model sizing, rack plans and cloud-vs-owned cost, as pure functions.

The figures they start from (GPU catalogue, bytes per precision, model architectures, prices) live in
`rackctl/data/planning.yaml`, each with its source; `data.load()` reads them.
"""
