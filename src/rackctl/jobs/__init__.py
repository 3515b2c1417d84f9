"""Work queued for other machines: per-site workers on a PostgreSQL-backed task queue (procrastinate).

A job is a service call with its arguments, never a second implementation: `tasks.py` calls the same
service functions the CLI calls (`audit`, `run_on_nodes` with a power action), for one rack at a time,
and they write into the same tables (audit runs and findings, the operation log). The job's id is part
of what those tables record as the targets ("@rack:r12 (job 17)"), which is how `--wait` and
`rackctl jobs show` find a job's results again.

    queue.py     the procrastinate App on the inventory's PostgreSQL (SQLite is refused), its schema, queue names
    enqueue.py   split a fleet command per site and rack and defer one job each
    tasks.py     the tasks a worker runs (audit of a rack, power on a rack's nodes)
    guard.py     a job's deadline and abort requests, as the fan-out's stop
    recovery.py  jobs of a worker that died: retried when safe to repeat, else "interrupted, state unknown"
    worker.py    run a worker for some sites and kinds, and its systemd unit
    follow.py    wait for jobs and read their results back
    listing.py   list, show, cancel and retry jobs

procrastinate is imported only by this package, and only when a queue is used: `rackctl --help` and every
in-process command stay as they were.
"""
