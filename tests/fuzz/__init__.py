"""Hostile inputs (hypothesis): bad items are named and skipped, never a traceback."""
