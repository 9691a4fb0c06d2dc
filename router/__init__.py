"""Tokenwise: an OpenAI-compatible proxy that routes by difficulty and meters real cost."""

__version__ = "0.1.0"
