"""Benchmarks (``make bench`` / ``python -m bench``): each module with a ``main()`` is one bench."""
