"""The control socket: how ``halosyncctl`` talks to a running daemon.

    protocol.py   the versioned NDJSON envelope, its error codes, and a line reader with a size cap
    peer.py       who is on the other end (SO_PEERCRED) and whether they may talk to us
    registry.py   ``ControlMethod``: a name, a handler, and whether it changes anything (audited) or streams
    audit.py      one line per mutating call: who, what, with which parameters (secrets masked)
    methods_*.py  the built-in methods (status, queue, pause, sync, ...)
    snapshot.py   the store figures behind ``status``, kept fresh enough without queueing behind the writer
    server.py     ``ControlComponent``: the socket file (mode, group, stale file), the accept loop
    connection.py one connection: peer check, line reading with a size cap and deadlines, one answer per request
    client.py     the blocking client ``halosyncctl`` uses

Other components add methods with ``daemon.add_control_method(ControlMethod(...))`` before the control component
starts (or at any time: the registry is looked up on every call).
"""
