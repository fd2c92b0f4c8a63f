"""One module per ``roost`` command."""
