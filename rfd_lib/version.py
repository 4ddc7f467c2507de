"""rfd_lib's version, kept in one place (pyproject.toml reads the same number; a test checks)."""

__version__ = "0.1.0"
