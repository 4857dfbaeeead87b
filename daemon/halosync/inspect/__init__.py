"""Read (and carefully repair) the state store, with or without a running daemon.

    figures.py      queue depth, in-flight, oldest age, processing rate, dead letters; totals
    deadletters.py  list, retry and drop dead letters
    trace.py        the lineage of one lead: staged record, match decision, write attempts, links
    integrity.py    the integrity checks of ``integrity [--repair]``

Everything except ``integrity`` is plain synchronous peewee code, run in a database thread through
``store.run`` / ``store.transaction`` by the daemon, or through ``store.call`` by an offline command.
"""
