"""Test support: wheels, package indexes, an index server and real environments."""
