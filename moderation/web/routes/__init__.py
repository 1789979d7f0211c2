"""The moderation UI's routes, one module per part of the work."""
