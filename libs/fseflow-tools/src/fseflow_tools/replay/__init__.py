"""Scenario replay: validation, the driver, the collector, the results file."""
