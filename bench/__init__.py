"""The heroes_sa benchmark: ``python bench/run.py`` (see docs/PERFORMANCE.md)."""
