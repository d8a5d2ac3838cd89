"""Portal pages of the compliance and regulatory service, in the ``portal`` namespace."""

urlpatterns: list = []
