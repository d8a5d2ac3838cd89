from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

# The API comes first: Django resolves patterns in order, and every include that does not match
# costs an exception (and cyclic garbage) on each request that passes it.
urlpatterns = [
    path("api/v1/", include("bifrost_web.api.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("bifrost_web.accounts.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("bifrost_web.portal.urls")),
]
