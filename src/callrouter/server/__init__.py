"""The running hotline: wiring of the PBX link, router, database and HTTP API."""
