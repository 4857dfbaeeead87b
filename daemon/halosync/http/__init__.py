"""The HTTP listener: ``GET /health``, ``GET /health/live``, ``GET /metrics``, ``POST /webhooks/{plugin}`` and
``POST /webhooks/test`` (see CONTRACT.md). ``server.HTTPComponent`` is the daemon component; ``health`` builds the
document ``halosyncctl health`` shares."""
