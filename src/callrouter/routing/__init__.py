"""Routing of hotline calls: the pure decision and the service that carries it out."""
