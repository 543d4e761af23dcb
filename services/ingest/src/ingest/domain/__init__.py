"""Pure rules of the CTI front door: lot validation, ARL wording. No I/O here."""
