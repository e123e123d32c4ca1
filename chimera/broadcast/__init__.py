"""The ``render`` stage: a simulated match as a tournament broadcast video plus its hidden truth."""
