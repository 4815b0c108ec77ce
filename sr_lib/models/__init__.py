"""Model builders. Each method of the series lives in its own module; all are exported here."""
