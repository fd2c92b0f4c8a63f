"""Finding a project's files: sources asked through ``roost_index_lookup``, links filtered."""
