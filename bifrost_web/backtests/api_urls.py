"""REST routes of the backtests and research service, mounted under /api/v1/."""

urlpatterns: list = []
