"""Small helpers shared by every feature: time, Markdown, pagination, forms."""
