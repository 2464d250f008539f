"""The read side: each question a page, the API or the command line asks, answered once as a typed
view."""
