"""national_check service."""
