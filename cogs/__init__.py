"""Slash-command extensions, one module per command family; each ends in `setup(bot)`."""
