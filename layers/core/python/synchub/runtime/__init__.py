"""Run-time plumbing: settings, secrets, observability and wiring of ports to connectors."""
