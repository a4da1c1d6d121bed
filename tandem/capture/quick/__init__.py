"""Quick capture: the booth and counter page that works offline, its sync endpoint and service."""
