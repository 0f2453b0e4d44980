"""One module per CLI command (see catpose_lib.cli.COMMANDS)."""
