"""REST routes of the risk management service, mounted under /api/v1/."""

urlpatterns: list = []
