"""Synthetic rendering of cartridge heads and scenes, samplers over seeds/, torch datasets."""
