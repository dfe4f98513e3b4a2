"""Shared fixtures: the local AWS (moto's server and a proxy) used by the account-check tests."""

pytest_plugins = ["tests.aws_server"]
