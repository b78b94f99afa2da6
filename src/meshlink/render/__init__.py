"""Drawings of the mesh: mermaid, DOT, self-contained HTML."""
