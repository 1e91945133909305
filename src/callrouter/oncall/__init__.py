"""On-call duty: the roster of technicians, its storage, commands, routes and feeds."""
