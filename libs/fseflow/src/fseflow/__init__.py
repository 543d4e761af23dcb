"""fseflow shared package: the plumbing every service uses, and the fseflow command line."""
