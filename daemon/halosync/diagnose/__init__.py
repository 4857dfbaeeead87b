"""``halosync diagnose``: every check an operator needs, one line each with pass/warn/fail and a fix.

    runner.py        the order and deadlines; plugins are checked concurrently
    local.py         the configuration and the state directory
    database.py      connect, write, migrations current, pool headroom
    running.py       a running daemon: control socket, HTTP listener
    webhooks.py      whether the webhook routes can accept anything at all
    network.py       per provider URL: DNS, TCP, TLS, clock skew against its Date header
    providers.py     the plugins' own checks (auth, permissions, custom fields) and quota headroom
    store_checks.py  schema version, SQLite integrity and data integrity of a store (also used by restore)
"""
