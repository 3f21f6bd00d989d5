"""What every web page shares: content negotiation, problems, caching, limits, i18n, headers."""
