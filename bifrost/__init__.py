"""Bifrost Trader: the pure domain package.

Nothing under ``bifrost`` imports Django, Celery, Redis or an HTTP client
directly; adapters that talk to the network live in ``bifrost.adapters`` and
the web layer (``bifrost_web``) implements the storage protocols declared here.
"""

__version__ = "0.1.0"
