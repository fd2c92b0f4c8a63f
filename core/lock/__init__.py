"""PEP 751 lock files (``pylock.toml``): writing what a resolution chose, and reading
back exactly what to install, through :mod:`packaging.pylock`."""
