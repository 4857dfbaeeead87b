"""halosync's built-in matcher, alert and webhook-source plugins, registered through the entry-point group."""
