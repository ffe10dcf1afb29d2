"""Rectification: tilted rims to circles, rings to strips."""
