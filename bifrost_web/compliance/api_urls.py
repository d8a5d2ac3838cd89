"""REST routes of the compliance and regulatory service, mounted under /api/v1/."""

urlpatterns: list = []
