"""Canned responses: the team's saved answers, with variables filled in for each conversation (docs/web.md)."""
