"""syndicate: feeds, AMP-lite pages and an email digest from a folder of article records."""

__version__ = "0.1.0"
