"""Engines that turn graph nodes into deployed infrastructure."""
