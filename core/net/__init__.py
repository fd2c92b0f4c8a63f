"""Transport: the one HTTP client, proxies and routing, the HTTP cache, range reads."""
