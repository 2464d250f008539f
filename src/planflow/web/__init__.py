"""Flask blueprints: the pages and, later, the JSON API. Nothing imports this package but app."""
