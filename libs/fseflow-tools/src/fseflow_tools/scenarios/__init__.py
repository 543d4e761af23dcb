"""Scenario builders (the replay contract's JSON) for the pôle's and the relances' timelines: used by
`make demo-relances` and by the end-to-end tests."""
