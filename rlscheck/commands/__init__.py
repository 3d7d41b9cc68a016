"""One module per command; the root group imports only the command being run."""
