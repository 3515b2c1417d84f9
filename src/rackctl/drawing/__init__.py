"""Pictures of the inventory: a rack's elevation as SVG (and PNG through a headless browser)."""
