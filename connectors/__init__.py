"""Adapters to outside systems, one module each, behind the protocols in `connectors.base`."""
