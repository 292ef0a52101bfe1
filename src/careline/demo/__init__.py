"""The demo: a bundled real sample, an HTTP client of the API and simulated agents (docs/demo.md)."""
