"""Shared pytest configuration. Fixtures of one area live in that area's conftest."""

pytest_plugins = ["robot_sim.pytest_plugin"]
