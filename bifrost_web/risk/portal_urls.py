"""Portal pages of the risk management service, in the ``portal`` namespace."""

urlpatterns: list = []
