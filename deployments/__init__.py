"""launchsync: deployments."""
