from django.urls import path

from recruitment import views

app_name = "recruitment"

urlpatterns = [
    path("", views.scorecards, name="scorecards"),
    path("<int:pk>/", views.scorecard, name="scorecard"),
]
