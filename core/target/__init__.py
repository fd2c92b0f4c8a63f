"""The target interpreter: finding it, probing it, its tags, and what is installed there."""
