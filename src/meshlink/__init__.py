"""meshlink: a PrivateLink mesh of microservices across AWS accounts."""

__version__ = "0.1.0"
