"""HTTP edge: thin aiohttp handlers over the services."""
