"""The home page and the site's own information pages."""
