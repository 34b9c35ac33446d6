"""mailport: answers email-port questions and checks mail servers live."""

__version__ = "0.1.0"
