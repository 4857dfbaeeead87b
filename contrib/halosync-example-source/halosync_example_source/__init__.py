"""A minimal halosync lead source for the fictional LeadBoard API: ``plugin`` is the plugin, ``fake`` its fake."""
