"""roost's benchmark against pip and uv (``nox -s bench``); see docs/benchmarks.md."""
