"""Shared pytest configuration. Fixtures of one area live in that area's conftest."""
