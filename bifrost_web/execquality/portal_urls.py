"""Portal pages of the execution quality service, in the ``portal`` namespace."""

urlpatterns: list = []
