"""Benchmarks of the camera service: ``python -m bench`` (``make bench``), see
docs/BENCHMARKS.md for what is measured and the latest figures."""
