"""halosync_lusha: Lusha contact lists as a halosync lead source, with Lusha's signed webhooks (issue 17).

Written the way a third party writes a plugin: it imports only ``halosync.plugin``. See README.md.
"""
