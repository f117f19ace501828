"""Curation: what admins and owners change (yanks, deletions, roles, tokens, projects), each a journaled operation."""
