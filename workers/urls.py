"""Dashboard pages about workers (staff only)."""

from django.urls import path

from workers import views

app_name = "workers"

urlpatterns = [
    path("", views.worker_list, name="list"),
    path("workers.csv", views.worker_list_csv, name="list-csv"),
    path("check-in-links.csv", views.check_in_links_csv, name="check-in-links"),
]
