"""Human hand-off: the crisis risk screen and what decides when a person takes over."""
