"""Developer and embedded-default settings: base, with debug pages on request."""

from bifrost_web.config.settings.base import *  # noqa: F403
