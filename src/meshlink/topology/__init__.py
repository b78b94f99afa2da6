"""The topology file: models, loader with locations, semantic rules, seed-format import."""
