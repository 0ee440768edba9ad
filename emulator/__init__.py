"""Offline, wire-compatible stand-in for the providers (imports nothing of ours)."""
