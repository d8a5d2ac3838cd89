"""REST routes of the execution quality service, mounted under /api/v1/."""

urlpatterns: list = []
