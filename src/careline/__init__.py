"""Careline: social customer care as just another contact-center channel."""

__version__ = "0.1.0"
