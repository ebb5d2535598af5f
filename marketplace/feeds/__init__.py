"""Feeds: RSS and Atom out (public and private per-user feeds), RSS/Atom and OCDS in."""
