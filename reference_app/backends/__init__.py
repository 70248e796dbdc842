"""Storage backends: one adapter per store, all implementing the unit-of-work port."""
