"""The steps of each command, from a typed invocation down through the pipeline."""
