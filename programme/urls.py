"""The dashboard's pages that combine the apps, at the paths they have always had."""

from django.urls import path

from programme import views

app_name = "programme"

urlpatterns = [
    path("pilots/", views.overview, name="overview"),
    path("pilots/<int:pk>/", views.pilot, name="pilot"),
    path("workers/<int:pk>/", views.worker, name="worker"),
    path("recruiters/", views.scorecards, name="scorecards"),
    path("recruiters/<int:pk>/", views.scorecard, name="scorecard"),
]
