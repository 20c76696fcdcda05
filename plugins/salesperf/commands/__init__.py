"""Subcommands of `salesperf`; each module exposes ``register(subparsers)``."""
