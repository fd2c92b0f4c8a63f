"""Writing an environment: the transaction, its journal and lock, placement, the report."""
