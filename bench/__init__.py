"""Performance measurements printed by ``make bench``."""
