"""planflow: a municipality's plan follow-up run as a workflow."""
