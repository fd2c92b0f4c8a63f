"""Building wheels from sources: getting the source, the build environment, the build hooks."""
