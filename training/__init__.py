"""Training recipes; the only producers of shipped bundles."""
