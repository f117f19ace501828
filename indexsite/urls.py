from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "indexsite administration"
admin.site.site_title = "indexsite"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("legacy.urls")),
    path("", include("api.urls")),
    path("", include("feeds.urls")),
    path("", include("xmlrpc.urls")),
]
