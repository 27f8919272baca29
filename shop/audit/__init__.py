"""The audit log of staff changes."""
