"""Engines of the analysis stages that grow with fills and orders (see ``base``)."""
