"""Virus scanning with ClamAV's clamd (``INSTREAM`` over its socket) and type sniffing."""

from __future__ import annotations

from providers.scanner.clamd import ClamdScanner, ScanLimitExceeded, ScannerUnavailable, ScanResult

__all__ = ["ClamdScanner", "ScanLimitExceeded", "ScanResult", "ScannerUnavailable"]
