"""Profiling a running daemon without stopping it: a sampling CPU profile of every thread (``cpu``) and the top
memory allocations by line and their growth (``memory``). Served by the control methods ``profile.cpu`` and
``profile.memory`` (halosync.control.methods_profile), written to files by ``halosyncctl profile``."""
