"""Drivers speak one protocol each; they take an Endpoint value, never a database row."""
