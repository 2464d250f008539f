"""Use cases as plain functions taking a Session; the caller owns the transaction."""
