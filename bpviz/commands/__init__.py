"""Headless subcommands of the `bpviz` command line."""
