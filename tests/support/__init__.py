"""Test support: the standard corpus, fault helpers, pyenv and Debian interpreters, source
projects, and roost runs as the suite makes them; wheels, indexes, the index server and
venvs come from roost.testing and are re-exported here."""
