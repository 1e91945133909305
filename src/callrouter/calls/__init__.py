"""Call records: one row per routing decision, for the supervisor and the CDR."""
