"""Test support: the standard corpus, fault helpers, pyenv and Debian interpreters,
source projects, VCS repositories and installs from them, the reference pip's runs,
requirements-file helpers, test plugins' sources, and roost runs as the suite makes
them; wheels, indexes, the index server and venvs come from roost.testing and are
re-exported here."""
