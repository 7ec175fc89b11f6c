from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from lamp import views

admin.site.site_header = "LaMP pilot platform"
admin.site.site_title = "LaMP admin"
admin.site.index_title = "Pilots, partners, workers and results-based financing"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("lamp.api")),
]
