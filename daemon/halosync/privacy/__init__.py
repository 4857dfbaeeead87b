"""Personal data (issue 16): finding everything the store holds about one person (``subject``), erasing it
(``forget``) and exporting it for a subject access request (``export``). The suppression list is
``halosync.engine.suppression``; retention is ``halosync.engine.retention``."""
