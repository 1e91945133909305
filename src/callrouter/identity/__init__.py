"""Who is calling: points accounts, their codes, and their beneficiaries (seeds/000)."""
