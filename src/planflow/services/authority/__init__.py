"""Who may do what, and the people it is asked of: the one authority (access), users and roles, tokens,
sign-in."""
