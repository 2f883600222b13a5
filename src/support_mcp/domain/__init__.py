"""Plain types of the incident workflow; nothing here does I/O."""
