"""The control socket: how ``halosyncctl`` talks to a running daemon.

    protocol.py   the versioned NDJSON envelope, its error codes, and a line reader with a size cap
    peer.py       who is on the other end (SO_PEERCRED) and whether they may talk to us
    registry.py   ``ControlMethod``: a name, a handler, and whether it changes anything (audited) or streams
    audit.py      one line per mutating call: who, what, with which parameters (secrets masked)
    methods_*.py  the built-in methods (status, queue, pause, sync, ...)
    server.py     ``ControlComponent``: the listening socket, one task per connection
    client.py     the blocking client ``halosyncctl`` uses

Other components add methods by putting a ``ControlMethod`` in ``daemon.control_methods`` before the control
component starts (or at any time: the registry is looked up on every call).
"""
