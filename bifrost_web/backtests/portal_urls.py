"""Portal pages of the backtests and research service, in the ``portal`` namespace."""

urlpatterns: list = []
