"""Prefect flows, the CLI and the composition root that builds adapters from config."""
