"""Placeholder until its issue lands: registers no hooks yet."""
