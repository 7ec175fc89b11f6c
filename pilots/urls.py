from django.urls import path

from pilots import views

app_name = "pilots"

urlpatterns: list = [
    path("", views.overview, name="overview"),
    path("<int:pk>/", views.detail, name="detail"),
]
