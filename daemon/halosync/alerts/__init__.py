"""Alert rules evaluated inside the daemon, delivered through alert plugins without flapping or floods.

    rules.py        the built-in rules, their defaults, and ``[alerts.rules.NAME]`` overrides
    readings.py     what the rules read: cached daemon state sampled into a short history (never a provider call)
    conditions.py   one function per rule kind: the value of each rule instance (per provider, source...)
    evaluator.py    pending → firing → resolved, with ``for`` durations, hysteresis and a resolve delay
    silences.py     silences with an expiry, kept in the state directory
    dispatch.py     grouping, de-duplication, repeat interval, retried delivery and alert-plugin health
    component.py    ``AlertsComponent``: the evaluation loop the daemon starts
    control.py      ``alerts.list`` / ``alerts.silence`` / ``alerts.unsilence`` for halosyncctl
"""
