"""Webhooks behind the listener: Standard Webhooks signatures (``standard``), which plugin verifies what
(``registry``), the durable, group-committed inbox (``inbox``) and the worker that turns stored deliveries into
staged leads or sink-mirror updates (``worker``)."""
