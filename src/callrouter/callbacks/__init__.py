"""Pass 4H: an expert calls the customer back within 4 hours, or the case is free."""
