"""From what the user asked for to a plan: requirements, the resolver, its cache, hashes."""
