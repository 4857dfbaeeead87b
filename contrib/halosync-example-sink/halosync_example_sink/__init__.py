"""A minimal halosync sink for the fictional TinyCRM API: ``plugin`` is the plugin, ``fake`` its fake."""
