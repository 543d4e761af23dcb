"""Pure rules of the national check (R2, R21, R23, R24): no I/O, no clock, no broker."""
